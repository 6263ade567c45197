"""C2SP signed-note v1.0.0 and tlog-cosignature v1.

Vectors: tests/assets/tlog_vectors.json ``signed_notes`` (golang/mod @fe2ec04f
sumdb/note/note_test.go; C2SP/C2SP @5ba5ee83 signed-note.md; transparency-dev/formats @0b850f1a
log/note_test.go) and ``sunlight_skylight`` (FiloSottile/sunlight @ed0bc387
cmd/skylight/testdata: Ed25519 cosignatures, type 0x04).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reelrights.core.note import (
    CosignatureSigner,
    NoteSigner,
    NoteVerifier,
    format_skey,
    format_vkey,
    generate_skey,
    key_id,
    open_note,
    parse_skey,
    sign_note,
)
from reelrights.errors import BadInput, SignatureError

_V = json.loads((Path(__file__).parents[1] / "assets" / "tlog_vectors.json").read_text("utf-8"))
_PETER = _V["signed_notes"]["vectors"][0]
SEED = bytes(range(32))


@pytest.mark.parametrize("vec", _V["signed_notes"]["vectors"], ids=lambda v: v["desc"][:50])
def test_signed_note_verdicts(vec: dict[str, Any]) -> None:
    """Each upstream note opens (or is rejected) exactly as Go note.Open does."""
    verifiers = [NoteVerifier(vec["vkey"])] + [NoteVerifier(k) for k in vec.get("other_vkeys", [])]
    if vec["want_valid"]:
        opened = open_note(vec["signed_note"].encode(), verifiers)
        assert opened.text == vec["text"]
        assert NoteVerifier(vec["vkey"]).name in {s.name for s in opened.signatures}
    else:
        with pytest.raises(SignatureError):
            open_note(vec["signed_note"].encode(), verifiers)


def test_exact_resign_and_key_strings() -> None:
    """golang/mod TestSign: Ed25519 is deterministic, so signing reproduces the note byte-for-byte."""
    signer = parse_skey(_PETER["skey"])
    assert signer.vkey == _PETER["vkey"]
    assert signer.skey == _PETER["skey"]
    assert sign_note(_PETER["text"], [signer]) == _PETER["signed_note"].encode()
    assert signer.key_id == 0xC74F20A3


def test_unknown_signatures_are_kept_as_unverified() -> None:
    """golang/mod TestOpen: EnochRoot verifies; PeterNeumann's line is unknown and kept aside."""
    vec = _V["signed_notes"]["vectors"][1]
    opened = open_note(vec["signed_note"].encode(), [NoteVerifier(vec["vkey"])])
    assert [s.name for s in opened.signatures] == ["EnochRoot"]
    assert [(s.name, s.key_id) for s in opened.unverified] == [("PeterNeumann", 0xC74F20A3)]


def test_no_known_signature_is_rejected() -> None:
    other = NoteSigner("other", SEED)
    with pytest.raises(SignatureError, match="no signature by a trusted key"):
        open_note(_PETER["signed_note"].encode(), [NoteVerifier(other.vkey)])


def test_same_name_other_key_is_unknown() -> None:
    """A key with the right name but another id is not PeterNeumann's key: line is ignored."""
    impostor = NoteSigner("PeterNeumann", SEED)
    note = _PETER["signed_note"].encode()
    with pytest.raises(SignatureError):
        open_note(note, [NoteVerifier(impostor.vkey)])
    both = open_note(note, [NoteVerifier(impostor.vkey), NoteVerifier(_PETER["vkey"])])
    assert len(both.signatures) == 1


def test_key_id_definition() -> None:
    """key_id = SHA-256(name || 0x0A || type || pubkey)[:4], big-endian."""
    signer = NoteSigner("example.com/log", SEED)
    raw = b"\x01" + signer.public_key
    want = int.from_bytes(hashlib.sha256(b"example.com/log\n" + raw).digest()[:4], "big")
    assert key_id("example.com/log", raw) == want == signer.key_id
    assert format_vkey("example.com/log", raw) == signer.vkey


def test_signer_accepts_cryptography_key() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    a, b = NoteSigner("n", key), NoteSigner("n", SEED)
    assert a.vkey == b.vkey and a.sign("hi\n") == b.sign("hi\n")
    assert a.sign_bytes(b"x") == key.sign(b"x")


def test_generate_and_format_skey_round_trip() -> None:
    skey = generate_skey("example.com/new")
    signer = parse_skey(skey)
    assert signer.name == "example.com/new" and signer.skey == skey
    assert format_skey("n", SEED) == NoteSigner("n", SEED).skey
    note = sign_note("hello\n", [signer])
    assert open_note(note, [NoteVerifier(signer.vkey)]).text == "hello\n"


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # empty name
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex digits
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not hex
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # id mismatch
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+c74f20a3+Ay4l",  # too short
    ],
)
def test_bad_vkeys_rejected(vkey: str) -> None:
    with pytest.raises(BadInput):
        NoteVerifier(vkey)


def test_vkey_wrong_type_or_length_rejected() -> None:
    pk = NoteSigner("n", SEED).public_key
    with pytest.raises(BadInput, match="unsupported signature type"):
        NoteVerifier(format_vkey("n", b"\x02" + pk))
    with pytest.raises(BadInput, match="want 32"):
        NoteVerifier(format_vkey("n", b"\x01" + pk[:31]))


def test_vkey_base64_with_plus_is_split_on_first_two_only() -> None:
    """The tessera key's base64 holds '+' characters (pitfall from the research note)."""
    vkey = _V["tessera_log"]["vkey"]
    assert vkey.count("+") > 2
    v = NoteVerifier(vkey)
    assert v.name == "example.com/log/testdata" and v.vkey == vkey


def test_bad_skeys_rejected() -> None:
    good = _PETER["skey"]
    for bad in [good.replace("PRIVATE", "PUBLIC"), good.replace("c74f20a3", "c74f20a4"), good[:-4], "PRIVATE+KEY+x"]:
        with pytest.raises(BadInput):
            parse_skey(bad)


def _note(*sig_lines: str, text: str = "hello\n") -> bytes:
    return (text + "\n" + "".join(sig_lines)).encode()


def test_open_rules() -> None:
    s = NoteSigner("alice", SEED)
    v = NoteVerifier(s.vkey)
    line = s.sign("hello\n")
    assert open_note(_note(line), [v]).text == "hello\n"
    # Text with blank lines: the LAST "\n\n" separates the signatures.
    text = "a\n\nb\n\n\nc\n"
    assert open_note(sign_note(text, [s]), [v]).text == text
    # Duplicate lines by a known key are verified once.
    assert len(open_note(_note(line, line), [v]).signatures) == 1
    malformed = [
        b"hello\n" + line.encode(),  # no blank line
        _note(line)[:-1],  # signature block does not end with \n
        _note(line.replace("\u2014", "-")),  # not an em dash
        _note(line, "\u2014 bob\n"),  # no signature
        _note(line, "\u2014 bob AAAA\n"),  # shorter than 5 bytes
        _note(line, "\u2014 bob !!!!\n"),  # not base64
        _note(line, text="hel\rlo\n"),  # control character
        b"\xff" + _note(line),  # not UTF-8
    ]
    for note in malformed:
        with pytest.raises(BadInput):
            open_note(note, [v])


def test_bad_signature_by_known_key_rejects_note_even_with_a_good_one() -> None:
    alice, bob = NoteSigner("alice", SEED), NoteSigner("bob", bytes(32))
    good = alice.sign("hello\n")
    forged = bob.sign("other\n")  # right key id, signature over another text
    with pytest.raises(SignatureError, match="bob"):
        open_note(_note(good, forged), [NoteVerifier(alice.vkey), NoteVerifier(bob.vkey)])
    assert len(open_note(_note(good, forged), [NoteVerifier(alice.vkey)]).unverified) == 1


def test_signature_line_limit() -> None:
    """Go accepts up to 100 signature lines and rejects more."""
    s = NoteSigner("alice", SEED)
    good = s.sign("hello\n")
    unknown = [f"\u2014 k{i} {base64.b64encode(i.to_bytes(4, 'big') + bytes(64)).decode()}\n" for i in range(100)]
    assert len(open_note(_note(good, *unknown[:99]), [NoteVerifier(s.vkey)]).unverified) == 99
    with pytest.raises(BadInput, match="at most 100"):
        open_note(_note(good, *unknown), [NoteVerifier(s.vkey)])


def test_sign_note_checks_text() -> None:
    s = NoteSigner("alice", SEED)
    for bad in ["no newline", "tab\there\n", ""]:
        with pytest.raises(BadInput):
            sign_note(bad, [s])
    with pytest.raises(BadInput):
        sign_note("x\n", [s, s])
    with pytest.raises(BadInput):
        sign_note("x\n", [])
    with pytest.raises(BadInput):
        NoteSigner("bad name", SEED)
    with pytest.raises(BadInput):
        NoteSigner("a+b", SEED)


def test_unicode_text_round_trip() -> None:
    s = NoteSigner("alice", SEED)
    text = "Caf\u00e9 \u2014 \u00e9t\u00e9\n"
    assert open_note(sign_note(text, [s]), [NoteVerifier(s.vkey)]).text == text


# --- cosignatures (tlog-cosignature v1, type 0x04) ---------------------------------------------


@pytest.mark.parametrize("which", ["mirror_checkpoint", "witness_checkpoint"])
def test_sunlight_cosignature_vectors(tlog_vectors: dict[str, Any], which: str) -> None:
    """FiloSottile/sunlight cmd/skylight/testdata: vkey from seed, verify, exact re-cosign."""
    vec = tlog_vectors["sunlight_skylight"][which]
    name = vec["vkey"].split("+", 1)[0]
    signer = CosignatureSigner(name, hashlib.sha256(vec["seed_text"].encode()).digest())
    assert signer.vkey == vec["vkey"]
    opened = open_note(vec["signed_note"].encode(), [NoteVerifier(vec["vkey"])])
    (sig,) = opened.signatures
    assert sig.name == name and sig.timestamp == 1767139200
    line = signer.sign(opened.text, timestamp=sig.timestamp)
    assert line in vec["signed_note"]
    seed = hashlib.sha256(vec["seed_text"].encode()).digest()
    fixed_clock = CosignatureSigner(name, seed, clock=lambda: 1767139200.5)
    assert fixed_clock.sign(opened.text) == line


def test_witness_checkpoint_has_unverified_log_signature(tlog_vectors: dict[str, Any]) -> None:
    """The witness checkpoint also carries a type 0x05 RFC 6962 STH signature we do not verify."""
    vec = tlog_vectors["sunlight_skylight"]["witness_checkpoint"]
    opened = open_note(vec["signed_note"].encode(), [NoteVerifier(vec["vkey"])])
    assert [s.name for s in opened.unverified] == ["rome2026h1.example.org"]
    root_line = opened.text.split("\n")[2]
    assert base64.b64decode(root_line) == hashlib.sha256(vec["root_is_sha256_of"].encode()).digest()


def test_cosignature_tampered_timestamp_fails() -> None:
    c = CosignatureSigner("w", SEED)
    line = c.sign("cp\n", timestamp=1000)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[11] ^= 1  # last byte of the timestamp
    bad = f"\u2014 w {base64.b64encode(bytes(raw)).decode()}\n"
    assert open_note(_note(line, text="cp\n"), [NoteVerifier(c.vkey)]).signatures[0].timestamp == 1000
    with pytest.raises(SignatureError):
        open_note(_note(bad, text="cp\n"), [NoteVerifier(c.vkey)])


def test_cosigner_key_differs_from_signer_key() -> None:
    """Same seed and name, different type byte: different key id, not interchangeable."""
    s, c = NoteSigner("n", SEED), CosignatureSigner("n", SEED)
    assert s.key_id != c.key_id
    with pytest.raises(SignatureError):
        open_note(sign_note("x\n", [s]), [NoteVerifier(c.vkey)])
