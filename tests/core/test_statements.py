"""Signed statements (envelope, signature, size limit), body schemas, ids and shares."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from fractions import Fraction
from typing import Any

import pytest

from reelrights.catalogue import catalogue, check_body, lookup
from reelrights.core.canonical import canonical_bytes, parse_canonical
from reelrights.core.ids import ID_PATTERNS, check_external_id, eidr_check_char, new_id
from reelrights.core.schema import Int, List, Obj, Ratio, Str, parse_ratio
from reelrights.core.statements import (
    MAX_ENTRY_BYTES,
    SIGNING_CONTEXT,
    decode_entry,
    key_id_for,
    make_statement,
    sign_statement,
    utc_now,
    verify_entry_signature,
)
from reelrights.errors import InvalidStatement, SignatureError
from reelrights.keys import PartyKey

KEY = PartyKey(bytes(range(32)))
OTHER = PartyKey(bytes(range(100, 132)))
TIME = "2026-01-31T12:00:00Z"
STUDIO = "pty_" + "a" * 16
PERFORMER = "pty_" + "b" * 16
WORK = "wrk_" + "c" * 16
SHA = "0123456789abcdef" * 4


def _statement(body: dict | None = None, **overrides: Any) -> dict:
    st = make_statement("work.credited", STUDIO, body if body is not None else
                        {"work": WORK, "party": PERFORMER, "role": "performer", "share": "1/3"},
                        TIME)
    st.update(overrides)
    return st


def _envelope(statement: Any, sig: bytes | str, keyid: str | None = None,
              alg: str = "Ed25519") -> dict:
    return {"signature": {"alg": alg, "keyid": keyid or key_id_for(KEY.public_key_bytes),
                          "sig": sig if isinstance(sig, str) else base64.b64encode(sig).decode()},
            "statement": statement}


def _accepts(entry: bytes, key: PartyKey = KEY) -> None:
    """Decode and verify, as the registry does; raise on any refusal."""
    verify_entry_signature(decode_entry(entry), key.public_key_bytes)


# ---------------------------------------------------------------------------------------------
# Signing and decoding
# ---------------------------------------------------------------------------------------------

def test_sign_decode_round_trip() -> None:
    st = _statement()
    entry = sign_statement(st, KEY)
    s = decode_entry(entry)
    assert (s.type, s.version, s.actor, s.time, s.body) == (
        "work.credited", 1, STUDIO, TIME, st["body"])
    assert s.to_json() == st
    assert s.entry == entry
    assert s.key_id == key_id_for(KEY.public_key_bytes)
    assert s.key_id == hashlib.sha256(KEY.public_key_bytes).hexdigest()[:16]
    assert len(s.signature) == 64
    verify_entry_signature(s, KEY.public_key_bytes)
    # the entry is itself canonical, and signing is deterministic (Ed25519)
    assert parse_canonical(entry) == {"signature": parse_canonical(entry)["signature"],
                                      "statement": st}
    assert sign_statement(st, KEY) == entry


def test_make_statement_default_time_is_rfc3339_utc() -> None:
    st = make_statement("work.credited", STUDIO, {})
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", st["time"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", utc_now())
    assert st["version"] == 1
    decode_entry(sign_statement(st, KEY))


@pytest.mark.parametrize("body", [
    {"work": WORK, "party": PERFORMER, "role": "performer", "share": "1/3"},
    {"note": ',"statement":{"type":"x"}', "z": "\u20ac\U0001f600\x00\n", "a": [1, None, True]},
    {"\u00e9": "non-ASCII key", "nested": {"signature": "not this one"}},
])
def test_statement_bytes_are_a_slice_of_the_entry(body: dict) -> None:
    st = _statement(body)
    entry = sign_statement(st, KEY)
    stmt_bytes = canonical_bytes(st)
    assert entry.endswith(b',"statement":' + stmt_bytes + b"}")
    assert entry.count(stmt_bytes) >= 1
    assert decode_entry(entry).message == SIGNING_CONTEXT + stmt_bytes
    _accepts(entry)


def _flip_cases(entry: bytes) -> list[tuple[int, int]]:
    return [(i, bit) for i in range(len(entry)) for bit in (0x01, 0x02, 0x04, 0x08, 0x10, 0x20,
                                                             0x40, 0x80)]


def _last_sig_char(entry: bytes) -> int:
    """The base64 character before the "==" padding: its low 4 bits carry no signature bits."""
    return entry.index(b'=="') - 1


def test_any_flipped_bit_is_refused() -> None:
    entry = sign_statement(_statement(), KEY)
    accepted = []
    for i, bit in _flip_cases(entry):  # every byte, the last signature character's spare bits too
        tampered = entry[:i] + bytes([entry[i] ^ bit]) + entry[i + 1:]
        try:
            _accepts(tampered)
        except (SignatureError, InvalidStatement):
            continue
        accepted.append((i, bit, tampered[max(0, i - 10):i + 10]))
    assert accepted == []


def test_signature_base64_is_not_malleable() -> None:
    entry = sign_statement(_statement(), KEY)
    i = _last_sig_char(entry)
    accepted = []
    for bit in (0x01, 0x02, 0x04, 0x08):
        tampered = entry[:i] + bytes([entry[i] ^ bit]) + entry[i + 1:]
        try:
            _accepts(tampered)
            accepted.append(tampered)
        except (SignatureError, InvalidStatement):
            pass
    assert accepted == []


def test_wrong_key_is_a_key_id_mismatch() -> None:
    s = decode_entry(sign_statement(_statement(), KEY))
    with pytest.raises(SignatureError, match=f"names key {s.key_id}") as info:
        verify_entry_signature(s, OTHER.public_key_bytes)
    assert STUDIO in str(info.value)


def test_key_id_of_another_key_with_that_key_does_not_verify() -> None:
    # The envelope names OTHER's key id but the signature was made by KEY.
    st = _statement()
    sig = KEY.sign(SIGNING_CONTEXT + canonical_bytes(st))
    entry = canonical_bytes(_envelope(st, sig, keyid=key_id_for(OTHER.public_key_bytes)))
    with pytest.raises(SignatureError, match="does not verify"):
        _accepts(entry, OTHER)


def test_signing_context_prefix_matters() -> None:
    st = _statement()
    # Control: the hand-built envelope with the right context verifies.
    good = canonical_bytes(_envelope(st, KEY.sign(SIGNING_CONTEXT + canonical_bytes(st))))
    assert good == sign_statement(st, KEY)
    _accepts(good)
    for message in (canonical_bytes(st), b"reelrights/statement/v2\n" + canonical_bytes(st),
                    SIGNING_CONTEXT.rstrip(b"\n") + canonical_bytes(st)):
        entry = canonical_bytes(_envelope(st, KEY.sign(message)))
        s = decode_entry(entry)  # well formed...
        with pytest.raises(SignatureError, match="does not verify"):
            verify_entry_signature(s, KEY.public_key_bytes)  # ...but not a statement signature


def _entry_len(pad: int) -> int:
    st = _statement({"pad": "x" * pad})
    return len(canonical_bytes(_envelope(st, bytes(64))))


def test_entry_size_limit_is_65535_bytes() -> None:
    base = _entry_len(0)
    pad = MAX_ENTRY_BYTES - base
    st = _statement({"pad": "x" * pad})
    entry = sign_statement(st, KEY)
    assert len(entry) == MAX_ENTRY_BYTES == 65_535
    _accepts(entry)
    big = _statement({"pad": "x" * (pad + 1)})
    with pytest.raises(InvalidStatement, match="65536 bytes, over"):
        sign_statement(big, KEY)
    # A 65,536-byte entry signed by hand is refused before it is even parsed.
    sig = KEY.sign(SIGNING_CONTEXT + canonical_bytes(big))
    over = canonical_bytes(_envelope(big, sig))
    assert len(over) == MAX_ENTRY_BYTES + 1
    with pytest.raises(InvalidStatement, match="65536 bytes"):
        decode_entry(over)
    with pytest.raises(InvalidStatement, match="over the 65535-byte limit"):
        decode_entry(b" " * 100_000)


# ---------------------------------------------------------------------------------------------
# Envelope shape errors and their pointers
# ---------------------------------------------------------------------------------------------

def _doc() -> dict:
    st = _statement()
    return _envelope(st, KEY.sign(SIGNING_CONTEXT + canonical_bytes(st)))


def _set(path: list[str], value: Any) -> Any:
    def mutate(doc: Any) -> Any:
        target = doc
        for k in path[:-1]:
            target = target[k]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return doc
    return mutate


_DELETE = object()

ENVELOPE_CASES = [
    ("not an object", lambda d: [d], ""),
    ("string document", lambda d: "entry", ""),
    ("no signature", _set(["signature"], _DELETE), ""),
    ("no statement", _set(["statement"], _DELETE), ""),
    ("extra top-level key", _set(["zz"], 1), ""),
    ("signature not an object", _set(["signature"], "sig"), "/signature"),
    ("signature missing keyid", _set(["signature", "keyid"], _DELETE), "/signature"),
    ("signature extra key", _set(["signature", "ts"], 1), "/signature"),
    ("alg", _set(["signature", "alg"], "RS256"), "/signature/alg"),
    ("alg lowercase", _set(["signature", "alg"], "ed25519"), "/signature/alg"),
    ("keyid uppercase", _set(["signature", "keyid"], "0123456789ABCDEF"), "/signature/keyid"),
    ("keyid short", _set(["signature", "keyid"], "0123456789abcde"), "/signature/keyid"),
    ("keyid int", _set(["signature", "keyid"], 1234), "/signature/keyid"),
    ("sig not base64", _set(["signature", "sig"], "!" * 88), "/signature/sig"),
    ("sig 63 bytes", _set(["signature", "sig"], base64.b64encode(bytes(63)).decode()),
     "/signature/sig"),
    ("sig 65 bytes", _set(["signature", "sig"], base64.b64encode(bytes(65)).decode()),
     "/signature/sig"),
    ("sig unpadded", _set(["signature", "sig"], base64.b64encode(bytes(64)).decode()[:-2]),
     "/signature/sig"),
    ("sig int", _set(["signature", "sig"], 7), "/signature/sig"),
    # 64 bytes read back from each: the last letter's 4 unused bits set, or spaces, or no pad
    ("sig unused bits set", _set(["signature", "sig"], base64.b64encode(bytes(64)).decode()[:85]
                                 + "B=="), "/signature/sig"),
    ("sig with a space", _set(["signature", "sig"], " " + base64.b64encode(bytes(64)).decode()),
     "/signature/sig"),
    ("sig pad as data", _set(["signature", "sig"], base64.b64encode(bytes(64)).decode()[:86]
                             + "A="), "/signature/sig"),
    ("statement not an object", _set(["statement"], [1]), "/statement"),
    ("statement missing time", _set(["statement", "time"], _DELETE), "/statement"),
    ("statement extra key", _set(["statement", "nonce"], "x"), "/statement"),
    ("type uppercase", _set(["statement", "type"], "Work.Credited"), "/statement/type"),
    ("type undotted", _set(["statement", "type"], "credited"), "/statement/type"),
    ("type int", _set(["statement", "type"], 5), "/statement/type"),
    ("version zero", _set(["statement", "version"], 0), "/statement/version"),
    ("version string", _set(["statement", "version"], "1"), "/statement/version"),
    ("version bool", _set(["statement", "version"], True), "/statement/version"),
    ("actor empty", _set(["statement", "actor"], ""), "/statement/actor"),
    ("actor int", _set(["statement", "actor"], 42), "/statement/actor"),
    ("time with space", _set(["statement", "time"], "2026-01-31 12:00:00Z"), "/statement/time"),
    ("time with offset", _set(["statement", "time"], "2026-01-31T12:00:00+00:00"),
     "/statement/time"),
    ("time 7 decimals", _set(["statement", "time"], "2026-01-31T12:00:00.1234567Z"),
     "/statement/time"),
    ("time int", _set(["statement", "time"], 0), "/statement/time"),
    ("body list", _set(["statement", "body"], []), "/statement/body"),
    ("body null", _set(["statement", "body"], None), "/statement/body"),
]


@pytest.mark.parametrize(("what", "mutate", "pointer"), ENVELOPE_CASES,
                         ids=[c[0] for c in ENVELOPE_CASES])
def test_envelope_shape_errors_carry_the_pointer(what: str, mutate, pointer: str) -> None:
    entry = canonical_bytes(mutate(_doc()))
    with pytest.raises(InvalidStatement) as info:
        decode_entry(entry)
    assert info.value.pointer == pointer
    message = str(info.value)
    assert "\n" not in message
    if pointer:
        assert message.startswith(pointer + ": ")


@pytest.mark.parametrize(("what", "mutate", "pointer"),
                         [c for c in ENVELOPE_CASES if c[2].startswith("/statement")],
                         ids=[c[0] for c in ENVELOPE_CASES if c[2].startswith("/statement")])
def test_sign_statement_refuses_bad_shapes_before_signing(what: str, mutate, pointer: str) -> None:
    st = mutate(_doc())["statement"]
    with pytest.raises(InvalidStatement) as info:
        sign_statement(st, KEY)
    assert info.value.pointer == pointer


@pytest.mark.parametrize(("path", "value", "pointer"), [
    (["statement", "time"], TIME + "\n", "/statement/time"),
    (["statement", "type"], "work.credited\n", "/statement/type"),
    (["signature", "keyid"], key_id_for(KEY.public_key_bytes) + "\n", "/signature/keyid"),
])
def test_trailing_newline_in_envelope_fields_is_refused(path, value, pointer) -> None:
    doc = _set(path, value)(_doc())
    with pytest.raises(InvalidStatement) as info:
        decode_entry(canonical_bytes(doc))
    assert info.value.pointer == pointer


def test_non_canonical_entries_are_refused() -> None:
    entry = sign_statement(_statement(), KEY)
    spaced = entry.replace(b'","', b'", "', 1)
    with pytest.raises(InvalidStatement, match="canonical"):
        decode_entry(spaced)
    reordered = canonical_bytes(_doc()).replace(b'{"signature":', b'{"zignature":', 1)
    with pytest.raises(InvalidStatement):
        decode_entry(reordered)


# ---------------------------------------------------------------------------------------------
# Body schemas (check_body) for every registered type
# ---------------------------------------------------------------------------------------------

PUBKEY = base64.b64encode(KEY.public_key_bytes).decode()
EIDR = "eidr:10.5240/7791-8534-2C23-9030-8610-5"

VALID: dict[str, tuple[str, dict]] = {
    "party.registered": (STUDIO, {"id": STUDIO, "kind": "studio", "name": "Northlight Pictures",
                                  "public_key": PUBKEY}),
    "work.registered": (STUDIO, {
        "id": WORK, "kind": "film", "title": "Harbour Lights", "owner": STUDIO, "year": 2026,
        "external_ids": [EIDR, "imdb:tt0087332"],
        "assets": [
            {"sha256": SHA, "size": 1234, "media_type": "video/mp4", "category": "video",
             "name": "harbour-lights.mp4", "duration_ms": 4000, "width": 320, "height": 240},
            {"sha256": "f" * 64, "size": 99, "media_type": "text/vnd.fountain",
             "category": "text", "name": "script.fountain", "pages": 2, "lines": 80},
        ]}),
    "work.credited": (STUDIO, {"work": WORK, "party": PERFORMER, "role": "performer",
                               "share": "1/3"}),
}


def test_the_registry_types_are_registered() -> None:
    names = {t.name for t in catalogue().types()}
    assert set(VALID) <= names
    for name in VALID:
        t = lookup(name, 1)
        assert t.name == name and t.version == 1 and t.summary


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_bodies_pass(name: str) -> None:
    actor, body = VALID[name]
    t = check_body(name, 1, copy.deepcopy(body), actor)
    assert t.name == name
    # and a statement carrying it signs and decodes
    entry = sign_statement(make_statement(name, actor, copy.deepcopy(body), TIME), KEY)
    assert decode_entry(entry).body == body


def _walk_cases(spec: Any, value: Any, path: list[Any]):
    """(label, path, new value or _DELETE, expected pointer) for every field of a valid body."""
    ptr = "/statement/body" + "".join(f"/{p}" for p in path)
    if isinstance(spec, Obj):
        yield (f"{ptr} not an object", path, ["x"], ptr)
        for name in spec.required:
            yield (f"{ptr}/{name} missing", [*path, name], _DELETE, ptr)
        yield (f"{ptr} unknown field", [*path, "colour"], "red", f"{ptr}/colour")
        for name, sub in {**spec.required, **spec.optional}.items():
            if name in value:
                yield from _walk_cases(sub, value[name], [*path, name])
    elif isinstance(spec, List):
        yield (f"{ptr} not an array", path, {"0": value[0]}, ptr)
        yield from _walk_cases(spec.item, value[0], [*path, 0])
    elif isinstance(spec, Str):
        yield (f"{ptr} number", path, 5, ptr)
        yield (f"{ptr} null", path, None, ptr)
    elif isinstance(spec, Int):
        yield (f"{ptr} string", path, str(value), ptr)
        yield (f"{ptr} float", path, float(value), ptr)
        yield (f"{ptr} bool", path, True, ptr)
    elif isinstance(spec, Ratio):
        yield (f"{ptr} number", path, 0.5, ptr)
    else:  # pragma: no cover - a new spec class needs cases here
        raise AssertionError(f"no cases for {spec!r}")


def _apply(body: dict, path: list[Any], new: Any) -> dict:
    body = copy.deepcopy(body)
    if not path:
        return new
    target = body
    for k in path[:-1]:
        target = target[k]
    if new is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return body


SCHEMA_CASES = [
    (name, *case)
    for name, (_, body) in sorted(VALID.items())
    for case in _walk_cases(lookup(name, 1).body, body, [])
]


@pytest.mark.parametrize(("name", "label", "path", "new", "pointer"), SCHEMA_CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in SCHEMA_CASES])
def test_each_field_missing_wrong_type_or_unknown(name, label, path, new, pointer) -> None:
    actor, body = VALID[name]
    with pytest.raises(InvalidStatement) as info:
        check_body(name, 1, _apply(body, path, new), actor)
    assert info.value.pointer == pointer
    if new is _DELETE:
        assert f"missing required field {path[-1]!r}" in str(info.value)


def test_schema_cases_cover_the_nested_fields() -> None:
    pointers = {c[4] for c in SCHEMA_CASES}
    for p in ("/statement/body/assets/0/sha256", "/statement/body/assets/0/duration_ms",
              "/statement/body/external_ids/0", "/statement/body/public_key",
              "/statement/body/share", "/statement/body/assets/0/colour"):
        assert p in pointers


BAD_VALUES = [
    ("work.registered", ["assets", 0, "sha256"], SHA.upper(), "/statement/body/assets/0/sha256"),
    ("work.registered", ["assets", 0, "sha256"], SHA[:63], "/statement/body/assets/0/sha256"),
    ("work.registered", ["assets", 1, "sha256"], SHA, "/statement/body/assets/1/sha256"),
    ("work.registered", ["assets", 0, "size"], 0, "/statement/body/assets/0/size"),
    ("work.registered", ["assets", 0, "size"], 2**53, "/statement/body/assets/0/size"),
    ("work.registered", ["assets", 0, "width"], 0, "/statement/body/assets/0/width"),
    ("work.registered", ["assets", 0, "duration_ms"], -1, "/statement/body/assets/0/duration_ms"),
    ("work.registered", ["assets", 0, "media_type"], "video", "/statement/body/assets/0/media_type"),
    ("work.registered", ["assets", 0, "category"], "film", "/statement/body/assets/0/category"),
    ("work.registered", ["assets", 0, "name"], "a\nb", "/statement/body/assets/0/name"),
    ("work.registered", ["assets"], [], "/statement/body/assets"),
    ("work.registered", ["kind"], "movie", "/statement/body/kind"),
    ("work.registered", ["year"], 1849, "/statement/body/year"),
    ("work.registered", ["year"], 2201, "/statement/body/year"),
    ("work.registered", ["title"], "", "/statement/body/title"),
    ("work.registered", ["title"], "x" * 301, "/statement/body/title"),
    ("work.registered", ["title"], "tab\there", "/statement/body/title"),
    ("work.registered", ["owner"], "pty_ABCDEFGHIJKLMNOP", "/statement/body/owner"),
    ("work.registered", ["id"], STUDIO, "/statement/body/id"),
    ("work.registered", ["external_ids"], [], "/statement/body/external_ids"),
    ("work.registered", ["external_ids", 0], EIDR[:-1] + "6", "/statement/body/external_ids/0"),
    ("work.registered", ["external_ids", 0], EIDR + "\n", "/statement/body/external_ids/0"),
    ("work.registered", ["external_ids", 1], "imdb:tt0087332\n", "/statement/body/external_ids/1"),
    ("work.registered", ["external_ids", 1], "tt0087332", "/statement/body/external_ids/1"),
    ("work.registered", ["a/b"], 1, "/statement/body/a~1b"),
    ("work.registered", ["m~n"], 1, "/statement/body/m~0n"),
    ("party.registered", ["kind"], "actor", "/statement/body/kind"),
    ("party.registered", ["id"], WORK, "/statement/body/id"),
    ("party.registered", ["id"], "pty_" + "a" * 15, "/statement/body/id"),
    ("party.registered", ["name"], "\x7fname", "/statement/body/name"),
    ("party.registered", ["public_key"], PUBKEY[:-1], "/statement/body/public_key"),
    ("party.registered", ["public_key"], base64.b64encode(bytes(33)).decode(),
     "/statement/body/public_key"),
    ("work.credited", ["role"], "actor", "/statement/body/role"),
    ("work.credited", ["share"], "1.5", "/statement/body/share"),
    ("work.credited", ["share"], "0", "/statement/body/share"),
    ("work.credited", ["share"], "0/3", "/statement/body/share"),
    ("work.credited", ["share"], "4/3", "/statement/body/share"),
    ("work.credited", ["share"], "abc", "/statement/body/share"),
    ("work.credited", ["share"], "1/0", "/statement/body/share"),
    ("work.credited", ["share"], "0.1234567890123", "/statement/body/share"),
    ("work.credited", ["share"], "0.5\n", "/statement/body/share"),
    ("work.credited", ["share"], "0.\u0665", "/statement/body/share"),
    ("work.credited", ["work"], PERFORMER, "/statement/body/work"),
    ("work.credited", ["party"], WORK, "/statement/body/party"),
]


@pytest.mark.parametrize(("name", "path", "new", "pointer"), BAD_VALUES,
                         ids=[f"{c[0]}:{c[3]}={c[2]!r}"[:80] for c in BAD_VALUES])
def test_bad_values_carry_the_exact_pointer(name, path, new, pointer) -> None:
    actor, body = VALID[name]
    with pytest.raises(InvalidStatement) as info:
        check_body(name, 1, _apply(body, path, new), actor)
    assert info.value.pointer == pointer
    assert str(info.value).startswith(pointer + ": ")
    assert "\n" not in str(info.value)


def test_non_canonical_public_key_base64_is_refused() -> None:
    # The last base64 letter of a 32-byte key has two unused bits: re-spelling it decodes to the
    # same key, so only the canonical spelling may be signed into the log.
    actor, body = VALID["party.registered"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(PUBKEY[42])
    respelled = PUBKEY[:42] + alphabet[last | 1] + "="
    assert base64.b64decode(respelled) == KEY.public_key_bytes
    with pytest.raises(InvalidStatement) as info:
        check_body("party.registered", 1, {**body, "public_key": respelled}, actor)
    assert info.value.pointer == "/statement/body/public_key"


@pytest.mark.parametrize(("name", "field"), [("party.registered", "id"),
                                             ("work.registered", "owner")])
def test_actor_must_be_the_actor_field(name: str, field: str) -> None:
    _, body = VALID[name]
    with pytest.raises(InvalidStatement) as info:
        check_body(name, 1, copy.deepcopy(body), PERFORMER)
    assert info.value.pointer == "/statement/actor"
    assert f"body.{field}" in str(info.value) and PERFORMER in str(info.value)


def test_work_credited_actor_is_checked_by_the_registry_not_the_schema() -> None:
    assert lookup("work.credited", 1).actor_field is None
    _, body = VALID["work.credited"]
    check_body("work.credited", 1, copy.deepcopy(body), PERFORMER)  # the service decides


@pytest.mark.parametrize(("name", "version"), [("work.deleted", 1), ("work.registered", 2)])
def test_unknown_types_are_refused(name: str, version: int) -> None:
    with pytest.raises(InvalidStatement) as info:
        check_body(name, version, {}, STUDIO)
    assert info.value.pointer == "/statement/type"
    assert "work.registered" in str(info.value)  # lists the known types


# ---------------------------------------------------------------------------------------------
# Ids and shares
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "prefix"), [("party", "pty"), ("work", "wrk")])
def test_new_id_shape(kind: str, prefix: str) -> None:
    ids = {new_id(kind) for _ in range(2000)}
    assert len(ids) == 2000
    for i in ids:
        assert re.fullmatch(rf"{prefix}_[a-z2-7]{{16}}", i)
        assert re.fullmatch(ID_PATTERNS[kind], i)
        assert len(i) == 20


# Public EIDR ids: the schema.org titleEIDR/editEIDR examples (Ghostbusters, The Hitchhiker's
# Guide to the Galaxy) and ids cited in the EIDR documentation.
KNOWN_EIDR = [
    "10.5240/7791-8534-2C23-9030-8610-5",
    "10.5240/7EC7-228A-510A-053E-CBB8-J",
    "10.5240/1F2A-E1C5-680A-14C6-E76B-I",
    "10.5240/B752-5B47-DBBE-E5D4-5A3F-N",
    "10.5240/0196-4177-FF62-A346-D0F6-Z",
    "10.5240/DF48-AB62-4486-C185-9E1B-4",
]


@pytest.mark.parametrize("eidr", KNOWN_EIDR)
def test_known_eidr_ids_pass(eidr: str) -> None:
    assert check_external_id(f"eidr:{eidr}") is None
    digits = eidr[len("10.5240/"):].replace("-", "")
    assert eidr_check_char(digits[:20]) == digits[20]


@pytest.mark.parametrize("eidr", KNOWN_EIDR)
def test_every_one_character_typo_fails_the_check(eidr: str) -> None:
    positions = [i for i, ch in enumerate(eidr) if i >= len("10.5240/") and ch != "-"]
    alphabet = "0123456789ABCDEF"
    caught = 0
    for i in positions:
        choices = alphabet if i < len(eidr) - 1 else "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for ch in choices:
            if ch == eidr[i]:
                continue
            typo = eidr[:i] + ch + eidr[i + 1:]
            problem = check_external_id(f"eidr:{typo}")
            assert problem is not None and "check character" in problem, typo
            caught += 1
    assert caught == 20 * 15 + 35


@pytest.mark.parametrize("text", [
    "eidr:10.5240/7791-8534-2c23-9030-8610-5",  # lowercase hex
    "eidr:10.5240/7791-8534-2C23-9030-86105",
    "eidr:10.5241/7791-8534-2C23-9030-8610-5",
    "eidr:10.5240/7791-8534-2C23-9030-8610-5\n",
    "eidr: 10.5240/7791-8534-2C23-9030-8610-5",
    "10.5240/7791-8534-2C23-9030-8610-5",  # no scheme
    "doi:10.5240/7791-8534-2C23-9030-8610-5",  # unknown scheme
    "imdb:nm0000001", "imdb:tt123", "imdb:tt0087332\n", "imdb:tt\u0660\u0660\u0660\u0660\u0660\u0660\u0660",
    "isrc:US-S1Z-99-00001\n", "iswc:T-034.524.680-1\n",
])
def test_malformed_external_ids(text: str) -> None:
    problem = check_external_id(text)
    assert problem is not None and "\n" not in problem.strip("\n")


@pytest.mark.parametrize("text", ["imdb:tt0087332", "isrc:US-S1Z-99-00001", "iswc:T-034.524.680-1",
                                  "isan:0000-0000-D07A-0090-Q-0000-0000-X"])
def test_other_external_ids(text: str) -> None:
    assert check_external_id(text) is None


@pytest.mark.parametrize(("text", "value"), [
    ("0.25", Fraction(1, 4)), ("1/3", Fraction(1, 3)), ("1", Fraction(1)), ("0", Fraction(0)),
    ("2/2", Fraction(1)), ("0.1", Fraction(1, 10)), ("0.333333333333", Fraction(333333333333, 10**12)),
    ("1.5", Fraction(3, 2)), ("6/9", Fraction(2, 3)), ("0.000000000001", Fraction(1, 10**12)),
])
def test_parse_ratio_is_exact(text: str, value: Fraction) -> None:
    got = parse_ratio(text)
    assert type(got) is Fraction and got == value


def test_parse_ratio_sums_exactly() -> None:
    assert sum((parse_ratio("0.1") for _ in range(10)), Fraction(0)) == 1
    assert sum((parse_ratio("1/3") for _ in range(3)), Fraction(0)) == 1
    assert parse_ratio("0.333333333333") * 3 != 1


@pytest.mark.parametrize("text", [
    "", ".5", "0.", "-0.5", "+0.5", "1e-3", "0x1", "1/0", "1/3.0", "1 /3", " 0.5", "0.5 ", "0.5\n",
    "01", "00.5", "1/03", "0.1234567890123", "0.\u0665", "\u0661", "1/\u0663", "½", "NaN", "inf",
])
def test_parse_ratio_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a decimal like 0.25 or a fraction like 1/3"):
        parse_ratio(text)


@pytest.mark.parametrize("value", [0.5, 1, None, ["1/3"]])
def test_parse_ratio_rejects_non_strings(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_ratio(value)  # type: ignore[arg-type]


def test_new_ids_are_time_ordered_unique_and_fit_the_pattern() -> None:
    """new_id sorts in issue order (so registry keys grow at their right edge), never repeats
    within a process, and stays inside the [a-z2-7]{16} id pattern."""
    import re
    import time as _time

    from reelrights.core.ids import ID_PATTERNS, new_id, ordered_id

    ids = [new_id("work") for _ in range(20_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(re.fullmatch(ID_PATTERNS["work"], i) for i in ids)
    later = new_id("work")
    _time.sleep(0.002)
    assert new_id("work") > later
    # The encoding is order-preserving over the whole 80-bit range.
    assert ordered_id("work", 0, 0) == "wrk_2222222222222222"
    assert ordered_id("work", 2**48 - 1, 2**32 - 1) == "wrk_zzzzzzzzzzzzzzzz"
    pairs = [(1, 0), (1, 1), (2, 0), (2**40, 7), (2**47, 0)]
    assert [ordered_id("run", *p) for p in pairs] == sorted(ordered_id("run", *p) for p in pairs)


# ---------------------------------------------------------------------------------------------
# v2: the signing input, the envelope inside the leaf, and strict leaves (known answers)
# ---------------------------------------------------------------------------------------------

from nacl.signing import VerifyKey  # noqa: E402

from reelrights.core.statements import (  # noqa: E402
    LOG_TIME_LEN,
    MAX_ENVELOPE_BYTES,
    SIGNING_CONTEXT_V2,
    make_leaf,
    open_leaf,
)

REGISTRY = "example.org/films"
STM_ID = "stm_" + "k" * 16
LOG_TIME = "2026-01-31T12:00:01.250000Z"


def _v2(body: dict | None = None, **kw: Any) -> dict:
    return make_statement("work.credited", STUDIO, body if body is not None else
                          {"work": WORK, "party": PERFORMER, "role": "performer", "share": "1/3"},
                          TIME, registry=REGISTRY, id=STM_ID, **kw)


def test_v2_statement_canonical_bytes_known_answer() -> None:
    st = _v2(supersedes={"index": 7})
    assert canonical_bytes(st) == (
        b'{"actor":"pty_aaaaaaaaaaaaaaaa","body":{"party":"pty_bbbbbbbbbbbbbbbb",'
        b'"role":"performer","share":"1/3","work":"wrk_cccccccccccccccc"},'
        b'"id":"stm_kkkkkkkkkkkkkkkk","key":{"party":"pty_aaaaaaaaaaaaaaaa","seq":0},'
        b'"registry":"example.org/films","supersedes":{"index":7},'
        b'"time":"2026-01-31T12:00:00Z","type":"work.credited","version":1}')


def test_v2_signing_input_is_context_registry_newline_jcs() -> None:
    st = _v2()
    entry = sign_statement(st, KEY)
    message = b"reelrights/statement/v2\n" + b"example.org/films" + b"\n" + canonical_bytes(st)
    assert SIGNING_CONTEXT_V2 == b"reelrights/statement/v2\n"
    sig = base64.b64decode(parse_canonical(entry)["signature"]["sig"])
    # Two independent Ed25519 implementations accept the signature over exactly that message.
    VerifyKey(KEY.public_key_bytes).verify(message, sig)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(KEY.public_key_bytes).verify(sig, message)
    s = decode_entry(entry)
    assert s.message == message and s.signed_message() == sig + message
    assert (s.format, s.registry, s.id, s.key_seq, s.log_time) == (2, REGISTRY, STM_ID, 0, None)
    assert s.to_json() == st
    verify_entry_signature(s, KEY.public_key_bytes)
    # ... and over nothing else: the v1 context, no registry line, another registry, no newline.
    from nacl.exceptions import BadSignatureError

    for other in (SIGNING_CONTEXT + canonical_bytes(st),
                  SIGNING_CONTEXT_V2 + canonical_bytes(st),
                  SIGNING_CONTEXT_V2 + b"example.org/other\n" + canonical_bytes(st),
                  SIGNING_CONTEXT_V2 + REGISTRY.encode() + canonical_bytes(st)):
        with pytest.raises(BadSignatureError):
            VerifyKey(KEY.public_key_bytes).verify(other, sig)


@pytest.mark.parametrize("context", [
    SIGNING_CONTEXT, b"reelrights/statement/v2\n", b"reelrights/statement/v2\nexample.org/films",
    b"reelrights/statement/v2\nexample.org/other\n", b"reelrights/statement/v3\nexample.org/films\n",
])
def test_v2_signature_over_another_input_does_not_verify(context: bytes) -> None:
    st = _v2()
    entry = canonical_bytes(_envelope(st, KEY.sign(context + canonical_bytes(st))))
    with pytest.raises(SignatureError, match="does not verify"):
        verify_entry_signature(decode_entry(entry), KEY.public_key_bytes)
    good = canonical_bytes(_envelope(st, KEY.sign(SIGNING_CONTEXT_V2 + REGISTRY.encode() + b"\n"
                                                  + canonical_bytes(st))))
    assert good == sign_statement(st, KEY)
    _accepts(good)


def test_moving_a_v2_signature_to_another_registry_fails() -> None:
    entry = sign_statement(_v2(), KEY)
    moved = entry.replace(b'"registry":"example.org/films"', b'"registry":"example.org/filmz"')
    assert moved != entry
    with pytest.raises(SignatureError, match="does not verify"):
        verify_entry_signature(decode_entry(moved), KEY.public_key_bytes)


@pytest.mark.parametrize("body", [
    {"work": WORK, "party": PERFORMER, "role": "performer", "share": "1/3"},
    {"note": ',"statement":{"x":1},"log":{"time":"2026-01-31T12:00:00.000000Z"}}',
     "z": "\u20ac\U0001f600\x00\n", "entry": {"log": 1}},
])
def test_v2_statement_is_a_slice_of_the_envelope_and_the_envelope_of_the_leaf(body) -> None:
    st = _v2(body)
    entry = sign_statement(st, KEY)
    stmt = canonical_bytes(st)
    assert entry.endswith(b',"statement":' + stmt + b"}") and entry.startswith(b'{"signature":')
    leaf = make_leaf(entry, LOG_TIME)
    assert leaf == b'{"entry":' + entry + b',"log":{"time":"' + LOG_TIME.encode() + b'"}}'
    # It is the leaf document's own JCS: nothing is re-serialized.
    assert leaf == canonical_bytes({"entry": parse_canonical(entry), "log": {"time": LOG_TIME}})
    assert leaf[9:9 + len(entry)] == entry
    assert open_leaf(leaf) == (entry, LOG_TIME)
    assert open_leaf(entry) == (entry, None)  # a submission (or a v1 leaf) is its envelope
    s = decode_entry(leaf)
    assert s.entry == entry and s.log_time == LOG_TIME and s.time == TIME
    assert s.message == SIGNING_CONTEXT_V2 + REGISTRY.encode() + b"\n" + stmt
    assert s.to_json() == {**st, "log_time": LOG_TIME}
    verify_entry_signature(s, KEY.public_key_bytes)
    assert len(LOG_TIME) == LOG_TIME_LEN == 27


def _leaf_doc(entry: bytes, log: Any, **extra: Any) -> bytes:
    return canonical_bytes({"entry": parse_canonical(entry), "log": log, **extra})


def _bad_leaves() -> list[tuple[str, bytes, str]]:
    """(what, leaf, the pointer its refusal names)."""
    entry = sign_statement(_v2(), KEY)
    good = make_leaf(entry, LOG_TIME)
    t = LOG_TIME.encode()
    return [
        ("extra top-level key", _leaf_doc(entry, {"time": LOG_TIME}, zz=1), "/log"),
        ("extra log key", _leaf_doc(entry, {"time": LOG_TIME, "zz": 1}), "/log"),
        ("extra log key first", _leaf_doc(entry, {"index": 5, "time": LOG_TIME}), "/log"),
        ("log without time", _leaf_doc(entry, {}), "/log"),
        ("log not an object", _leaf_doc(entry, LOG_TIME), "/log"),
        ("log time a number", _leaf_doc(entry, {"time": 1769860800}), "/log"),
        ("space before log", good.replace(b',"log":', b', "log":', 1), "/log"),
        ("space in log", good.replace(b'{"time":', b'{ "time":', 1), "/log"),
        ("trailing newline", good + b"\n", "/log"),
        ("escaped time", good.replace(t, b"\\u0032" + t[1:]), "/log"),
        ("no envelope", b'{"entry":,"log":{"time":"' + t + b'"}}', "/log"),
        # The wrapper is right: the envelope inside it is refused as a submission would be.
        ("space after entry", good.replace(b'{"entry":', b'{"entry": ', 1), ""),
        ("non-canonical envelope", make_leaf(entry.replace(b'","', b'", "', 1), LOG_TIME), ""),
        ("envelope with extra key", b'{"entry":' + entry[:-1] + b',"zz":1}'
         + b',"log":{"time":"' + t + b'"}}', ""),
        ("v1 statement in a leaf", make_leaf(sign_statement(_statement(), KEY), LOG_TIME),
         "/statement"),
    ] + [(f"log time {bad}", b'{"entry":' + entry + b',"log":{"time":"' + bad.encode() + b'"}}',
          "/log")
         for bad in ("2026-01-31T12:00:01Z", "2026-01-31T12:00:01.250Z",
                     "2026-01-31T12:00:01.2500000Z", "2026-01-31T12:00:01.250000+",
                     "2026-01-31T12:00:01.250000z", "2026-01-31 12:00:01.250000Z",
                     "2026-02-30T12:00:01.250000Z", "2026-99-99T99:99:99.000000Z",
                     "2026-01-31T24:00:00.000000Z", "2026-01-31T12:00:60.000000Z",
                     "+026-01-31T12:00:01.250000Z", "2026-01-31T12:00:01.25000aZ")]


@pytest.mark.parametrize(("what", "leaf", "pointer"), _bad_leaves(),
                         ids=[w for w, _, _ in _bad_leaves()])
def test_open_leaf_refuses_anything_but_the_exact_leaf(what: str, leaf: bytes,
                                                       pointer: str) -> None:
    with pytest.raises(InvalidStatement) as info:
        decode_entry(leaf)
    assert info.value.pointer == pointer, info.value.message
    assert "\n" not in info.value.message
    if pointer == "/log":
        assert "the log time a real instant written like 2026-01-31T12:00:00.000000Z" \
            in info.value.message
        with pytest.raises(InvalidStatement):
            open_leaf(leaf)


@pytest.mark.parametrize("bad", ["2026-01-31T12:00:01Z", "2026-02-30T12:00:01.250000Z",
                                 "2026-01-31T12:00:01.250000+00:00", "2026-01-31T12:00:01.250000"])
def test_make_leaf_writes_only_real_fixed_width_log_times(bad: str) -> None:
    entry = sign_statement(_v2(), KEY)
    with pytest.raises(ValueError, match="2026-01-31T12:00:00.000000Z"):
        make_leaf(entry, bad)


def test_v2_envelope_limit_leaves_room_for_the_log_time() -> None:
    wrap = len(make_leaf(b"", LOG_TIME))
    assert wrap == len(b'{"entry":,"log":{"time":""}}') + 27 == 55
    assert MAX_ENVELOPE_BYTES == MAX_ENTRY_BYTES - wrap == 65_480
    base = len(canonical_bytes(_envelope(_v2({"pad": ""}), bytes(64))))
    st = _v2({"pad": "x" * (MAX_ENVELOPE_BYTES - base)})
    entry = sign_statement(st, KEY)
    assert len(entry) == MAX_ENVELOPE_BYTES
    leaf = make_leaf(entry, LOG_TIME)
    assert len(leaf) == MAX_ENTRY_BYTES
    assert decode_entry(leaf).log_time == LOG_TIME
    big = _v2({"pad": "x" * (MAX_ENVELOPE_BYTES - base + 1)})
    with pytest.raises(InvalidStatement, match="65481 bytes, over the log's 65480-byte limit"):
        sign_statement(big, KEY)
    over = canonical_bytes(_envelope(big, KEY.sign(SIGNING_CONTEXT_V2 + REGISTRY.encode() + b"\n"
                                                   + canonical_bytes(big))))
    with pytest.raises(InvalidStatement, match="65480-byte limit of a v2 statement"):
        decode_entry(over)


V2_CASES = [
    ("registry uppercase", ["statement", "registry"], "Example.org/films", "/statement/registry"),
    ("registry with space", ["statement", "registry"], "example.org/ films", "/statement/registry"),
    ("registry newline", ["statement", "registry"], "example.org/films\n", "/statement/registry"),
    ("registry empty", ["statement", "registry"], "", "/statement/registry"),
    ("registry int", ["statement", "registry"], 7, "/statement/registry"),
    ("id shape", ["statement", "id"], "stm_KKKKKKKKKKKKKKKK", "/statement/id"),
    ("id other kind", ["statement", "id"], "wrk_" + "k" * 16, "/statement/id"),
    ("id missing", ["statement", "id"], _DELETE, "/statement"),
    ("key missing", ["statement", "key"], _DELETE, "/statement"),
    ("key of another party", ["statement", "key", "party"], PERFORMER, "/statement/key"),
    ("key seq negative", ["statement", "key", "seq"], -1, "/statement/key"),
    ("key seq 2**31", ["statement", "key", "seq"], 1 << 31, "/statement/key"),
    ("key seq string", ["statement", "key", "seq"], "0", "/statement/key"),
    ("key seq bool", ["statement", "key", "seq"], False, "/statement/key"),
    ("key extra", ["statement", "key", "alg"], "Ed25519", "/statement/key"),
    ("supersedes both", ["statement", "supersedes"], {"id": STM_ID, "index": 1},
     "/statement/supersedes"),
    ("supersedes negative", ["statement", "supersedes"], {"index": -1}, "/statement/supersedes"),
    ("supersedes bad id", ["statement", "supersedes"], {"id": "stm_x"}, "/statement/supersedes"),
    ("supersedes null", ["statement", "supersedes"], None, "/statement/supersedes"),
    ("sealed null", ["statement", "sealed"], None, "/statement/sealed"),
    ("sealed malformed", ["statement", "sealed"], {"root": "00", "paths": []},
     "/statement/sealed"),
    ("sealed (reserved)", ["statement", "sealed"], {"root": "0" * 64, "paths": ["/body/role"]},
     "/statement/sealed"),
    ("unknown v2 key", ["statement", "nonce"], "x", "/statement"),
    ("log_time in statement", ["statement", "log_time"], LOG_TIME, "/statement"),
]


@pytest.mark.parametrize(("what", "path", "value", "pointer"), V2_CASES,
                         ids=[c[0] for c in V2_CASES])
def test_v2_envelope_fields_are_checked(what: str, path: list[str], value: Any,
                                        pointer: str) -> None:
    st = _v2()
    doc = _set(path, value)(_envelope(st, KEY.sign(SIGNING_CONTEXT_V2 + REGISTRY.encode() + b"\n"
                                                   + canonical_bytes(st))))
    with pytest.raises(InvalidStatement) as info:
        decode_entry(canonical_bytes(doc))
    assert info.value.pointer == pointer, info.value.message
    with pytest.raises(InvalidStatement):
        sign_statement(doc["statement"], KEY)


def test_sealed_has_one_form_and_says_so() -> None:
    """The envelope's ``sealed`` member is ``{alg, root}`` (docs/sealed.md); the form reserved
    before sealed statements existed, or any other, is refused naming the one form. Which types
    take sealed fields is the catalogue's (tests/test_sealed.py)."""
    for bad in ({"root": "0" * 64, "paths": ["/body/role"]},
                {"alg": "reelrights/sealed/v1", "root": "0" * 63},
                None):
        st = {**_v2(), "sealed": bad}
        with pytest.raises(InvalidStatement, match=r'must be \{"alg": "reelrights/sealed/v1", '
                                                   r'"root": <64 lowercase hex>\}') as info:
            sign_statement(st, KEY)
        assert info.value.pointer == "/statement/sealed"
    with pytest.raises(InvalidStatement, match="unknown sealing 'other'"):
        sign_statement({**_v2(), "sealed": {"alg": "other", "root": "0" * 64}}, KEY)
    sign_statement({**_v2(), "sealed": {"alg": "reelrights/sealed/v1", "root": "0" * 64}}, KEY)


def test_registry_established_is_only_v2() -> None:
    body = {"origin": "example.org/log", "log_key": "example.org/log+0a1b2c3d+AAAA",
            "clock_skew_s": 300, "submission_window_s": 259200, "v1_entries": 0}
    v1 = make_statement("registry.established", "operator", body, TIME)
    with pytest.raises(InvalidStatement, match="registry.established is a v2 statement") as info:
        sign_statement(v1, KEY)
    assert info.value.pointer == "/statement"
    entry = canonical_bytes(_envelope(v1, KEY.sign(SIGNING_CONTEXT + canonical_bytes(v1))))
    with pytest.raises(InvalidStatement, match="registry.established is a v2 statement"):
        decode_entry(entry)
    v2 = make_statement("registry.established", "operator", body, TIME, registry=REGISTRY)
    assert decode_entry(sign_statement(v2, KEY)).registry == REGISTRY
