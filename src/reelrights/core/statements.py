"""Signed statements: the unit of every fact reelrights records.

**v2 (current).** A statement is::

    {"registry": R, "id": "stm_…", "type": T, "version": 1, "actor": A,
     "key": {"party": A, "seq": 0}, "time": "…Z", "body": {…},
     ["supersedes": {"id": "stm_…"} | {"index": N}],
     ["sealed": {"alg": "reelrights/sealed/v1", "root": H}]}

``registry`` binds the statement to one deployment (a registry id, not a log shard's origin);
``id`` is unique in that registry, and the log never appends the same id twice; ``key`` names the
signing key (party and key sequence number: 0 for the key the party registered, then one per
key it declares, :mod:`reelrights.core.key_history`); ``supersedes`` names the fact a statement replaces
(compare-and-swap: refused if that fact is no longer current); ``sealed`` marks a statement whose
private fields (those its type declares) are replaced by the Merkle root of salted leaves
(:mod:`reelrights.core.sealed`): its body holds only the public fields, and the full body and
salts travel beside it to the registry.
An optional key is absent or holds a value, never null (one statement, one spelling). The
signed envelope is the RFC 8785 canonical JSON of::

    {"signature": {"alg": "Ed25519", "keyid": "<16 hex>", "sig": "<base64>"},
     "statement": {...}}

with the Ed25519 signature over ``b"reelrights/statement/v2\n" + R + b"\n" + JCS(statement)``.
The **leaf** the log appends wraps the envelope with the log's own time, so the tree covers it::

    JCS({"entry": <envelope>, "log": {"time": T}})

``time`` in the statement is the signer's claim; ``log.time`` is when the fact takes effect.

**v1 (entries logged before a log's ``registry.established`` statement).** The statement is
``{type, version, actor, time, body}``, the leaf is the envelope itself, and the signature is
over ``b"reelrights/statement/v1\n" + JCS(statement)``.

Because JCS sorts keys, ``"signature"`` comes before ``"statement"`` and ``"entry"`` before
``"log"``: the statement's bytes are a slice of the envelope, and the envelope a slice of the leaf.
A verifier never re-serializes anything.

Signing (:func:`sign_statement`) happens where the party's key lives. Accepting
(:func:`decode_entry` plus :func:`verify_entry_signature`) happens in the registry, which only
ever sees public keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import json.scanner
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from ..errors import InvalidStatement, SignatureError
from ._accel import fast_constructor
from .canonical import canonical_bytes, parse_canonical
from .sealed import check_sealed_member

__all__ = [
    "MAX_ENTRY_BYTES",
    "MAX_ENVELOPE_BYTES",
    "SIGNING_CONTEXT",
    "SIGNING_CONTEXT_V2",
    "SignedStatement",
    "check_registry_id",
    "decode_entry",
    "make_leaf",
    "make_leaves",
    "open_leaf",
    "parse_time",
    "key_id_for",
    "key_id_matches",
    "make_statement",
    "read_entry",
    "sign_statement",
    "utc_now",
    "verify_entry_signature",
]

#: A log entry (tile bundles prefix each with a uint16 length) is at most this many bytes.
MAX_ENTRY_BYTES = 65_535
SIGNING_CONTEXT = b"reelrights/statement/v1\n"
SIGNING_CONTEXT_V2 = b"reelrights/statement/v2\n"
STATEMENT_VERSION = 1

_LEAF_HEAD = b'{"entry":'
_LEAF_MID = b',"log":{"time":"'
_LEAF_TAIL = b'"}}'
#: Log times are always written with microseconds, so they have one width and sort as text.
LOG_TIME_LEN = len("2026-01-31T12:00:00.000000Z")
_LEAF_WRAP = len(_LEAF_HEAD) + len(_LEAF_MID) + LOG_TIME_LEN + len(_LEAF_TAIL)
#: A signed envelope is at most this long, so that its leaf fits the log's entry limit.
MAX_ENVELOPE_BYTES = MAX_ENTRY_BYTES - _LEAF_WRAP
_LOG_TIME_RE = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_REGISTRY_RE = re.compile(r"[a-z0-9]([a-z0-9.-]{0,98}[a-z0-9])?(/[a-zA-Z0-9._-]{1,64}){0,4}")
_STATEMENT_ID_RE = re.compile(r"stm_[a-z2-7]{16}")

# Used with fullmatch and ASCII classes: "$" would also accept a trailing newline.
_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_TYPE_RE = re.compile(r"[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*)+")
_KEYID_RE = re.compile(r"[0-9a-f]{16}")
_STATEMENT_MARK = b',"statement":'
#: The base64 characters whose low 4 bits are zero: the last one of a canonical 64-byte value.
_SIG_LAST = frozenset("AQgw")
_ENVELOPE_KEYS = frozenset({"signature", "statement"})
_SIGNATURE_KEYS = frozenset({"alg", "keyid", "sig"})
_STATEMENT_KEYS = frozenset({"type", "version", "actor", "time", "body"})
_STATEMENT_KEYS_V2 = frozenset({"registry", "id", "type", "version", "actor", "key", "time",
                                "body"})
_OPTIONAL_KEYS_V2 = frozenset({"supersedes", "sealed"})
_KEY_KEYS = frozenset({"party", "seq"})
# typeshed wants the scanner's context typed as make_scanner itself (it reads the decoder's fields).
_scan_json = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def key_id_for(public_key: bytes) -> str:
    """The key id a signature names: the first 8 bytes of SHA-256(raw public key), in hex."""
    return hashlib.sha256(public_key).hexdigest()[:16]


_cached_key_id = lru_cache(maxsize=8192)(key_id_for)  # the verifier sees few distinct keys


def utc_now() -> str:
    """The current time as the statements write it (RFC 3339, UTC, microseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str, what: str = "/statement/time") -> datetime:
    """An RFC 3339 UTC time as the statements write it, as an aware datetime; refuses times that
    match the pattern but name no real instant (``2026-99-99T99:99:99Z``)."""
    if type(text) is not str or not _TIME_RE.fullmatch(text):
        raise InvalidStatement("must be an RFC 3339 UTC time like 2026-01-31T12:00:00Z", what)
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        raise InvalidStatement(f"{text!r} is not a real date and time; write an RFC 3339 UTC "
                               "time like 2026-01-31T12:00:00Z", what) from None


def check_registry_id(registry: str) -> str:
    """A registry id: a lowercase DNS-style name with an optional path (``example.org/films``)."""
    if type(registry) is str and registry in _GOOD_REGISTRIES:
        return registry  # a process sees one registry or a few: checked once
    if type(registry) is not str or not _REGISTRY_RE.fullmatch(registry):
        raise InvalidStatement("must be a registry id: a lowercase DNS-style name with an "
                               "optional /path, like example.org/films", "/statement/registry")
    if len(_GOOD_REGISTRIES) >= 64:
        _GOOD_REGISTRIES.clear()
    _GOOD_REGISTRIES.add(registry)
    return registry


#: Registry ids that passed :func:`check_registry_id` (bounded; an exact string match).
_GOOD_REGISTRIES: set[str] = set()
#: Statement types and key ids that matched their pattern (a verifier sees a few of each, in
#: every entry), bounded; strings only (look a value up once its type is str).
_GOOD_TYPES: set[str] = set()
_GOOD_KEYIDS: set[str] = set()


def _good_name(text: object, pattern: re.Pattern[str], good: set[str]) -> bool:
    """Whether ``text`` is a string ``pattern`` fullmatches (remembered in ``good``)."""
    if type(text) is not str or not pattern.fullmatch(text):
        return False
    if len(good) >= 4096:
        good.clear()
    good.add(text)
    return True


def make_statement(type: str, actor: str, body: dict[str, Any], time: str | None = None, *,
                   registry: str | None = None, id: str | None = None,
                   supersedes: dict[str, Any] | None = None, key_seq: int = 0,
                   sealed: dict[str, str] | None = None) -> dict[str, Any]:
    """Assemble an unsigned statement: v2 when ``registry`` is given (every registry that has
    been established), else the legacy v1 form (for logs that predate v2)."""
    if registry is None:
        return {"type": type, "version": STATEMENT_VERSION, "actor": actor,
                "time": time or utc_now(), "body": body}
    from .ids import new_id

    statement = {"registry": registry, "id": id or new_id("statement"), "type": type,
                 "version": STATEMENT_VERSION, "actor": actor,
                 "key": {"party": actor, "seq": key_seq}, "time": time or utc_now(), "body": body}
    if supersedes is not None:
        statement["supersedes"] = supersedes
    if sealed is not None:
        statement["sealed"] = sealed
    return statement


def sign_statement(statement: dict[str, Any], signing_key: Any) -> bytes:
    """Sign ``statement`` and return the canonical envelope bytes (what a party submits).

    ``signing_key`` is anything with ``sign(bytes) -> bytes`` (64-byte Ed25519 signature) and a
    ``public_key_bytes`` attribute, such as :class:`reelrights.keys.PartyKey`.
    """
    _check_statement_shape(statement)
    message = _context(statement) + canonical_bytes(statement)
    signature = signing_key.sign(message)
    envelope = {
        "signature": {
            "alg": "Ed25519",
            "keyid": key_id_for(signing_key.public_key_bytes),
            "sig": base64.b64encode(signature).decode("ascii"),
        },
        "statement": statement,
    }
    entry = canonical_bytes(envelope)
    limit = MAX_ENVELOPE_BYTES if "registry" in statement else MAX_ENTRY_BYTES
    if len(entry) > limit:
        raise InvalidStatement(
            f"statement is {len(entry)} bytes, over the log's {limit}-byte limit; "
            "reference large content by its SHA-256 instead of embedding it"
        )
    return entry


def _context(statement: dict[str, Any]) -> bytes:
    """What precedes the statement's canonical bytes in the signed message."""
    if "registry" in statement:
        registry: str = statement["registry"]
        return SIGNING_CONTEXT_V2 + registry.encode("ascii") + b"\n"
    return SIGNING_CONTEXT


def make_leaf(envelope: bytes, log_time: str) -> bytes:
    """The v2 leaf: ``JCS({"entry": envelope, "log": {"time": log_time}})`` (the envelope is
    canonical already, so this is its exact JCS)."""
    return make_leaves([envelope], log_time)[0]


def make_leaves(envelopes: Sequence[bytes], log_time: str) -> list[bytes]:
    """:func:`make_leaf` of each envelope, all with one log time (checked once): a batch's
    leaves. The JCS of ``{"entry": E, "log": {"time": T}}`` is these bytes, keys sorted, because
    E is canonical already and T needs no escaping."""
    t = log_time.encode("ascii")
    if not _is_log_time(t):
        raise ValueError(f"log time {log_time!r} must be a real instant written like "
                         "2026-01-31T12:00:00.000000Z")
    tail = _LEAF_MID + t + _LEAF_TAIL
    head = _LEAF_HEAD
    return [head + e + tail for e in envelopes]


@lru_cache(maxsize=1024)  # a batch's entries share one log time
def _is_log_time(t: bytes) -> bool:
    """Whether ``t`` is a log time: the fixed 27-character form, and a real instant."""
    if not _LOG_TIME_RE.fullmatch(t):
        return False
    try:
        datetime.fromisoformat(t[:-1].decode("ascii"))
    except ValueError:  # 2026-02-30, hour 24, second 60, ...
        return False
    return True


def open_leaf(leaf: bytes) -> tuple[bytes, str | None]:
    """(envelope, log time) of a leaf; a v1 leaf is its envelope and has no log time.

    Strict: a v2 leaf is exactly :func:`make_leaf`'s bytes, or it is refused.
    """
    if not leaf.startswith(_LEAF_HEAD):
        return leaf, None
    cut = len(leaf) - len(_LEAF_TAIL) - LOG_TIME_LEN - len(_LEAF_MID)
    t = leaf[cut + len(_LEAF_MID):len(leaf) - len(_LEAF_TAIL)]
    if (cut <= len(_LEAF_HEAD) or leaf[cut:cut + len(_LEAF_MID)] != _LEAF_MID
            or not leaf.endswith(_LEAF_TAIL) or not _is_log_time(t)):
        raise InvalidStatement("a v2 leaf must be exactly "
                               '{"entry":<signed statement>,"log":{"time":"<log time>"}}, the log '
                               "time a real instant written like 2026-01-31T12:00:00.000000Z",
                               "/log")
    return leaf[len(_LEAF_HEAD):cut], t.decode("ascii")


@dataclass(frozen=True, slots=True)
class SignedStatement:
    """A decoded signed statement: who signed what, and the exact signed bytes.

    ``entry`` is the signed envelope; ``log_time`` is the log's time when it was decoded from a
    v2 leaf (None for a submission or a v1 entry). ``id``, ``registry``, ``supersedes`` and
    ``key_seq`` are v2 fields (None / 0 for v1). ``sealed`` is the envelope's sealed member
    (``{alg, root}``) of a sealed statement; its ``body`` is then the public body as decoded,
    or the full body once the registry has opened it against the root.
    """

    entry: bytes
    type: str
    version: int
    actor: str
    time: str
    body: dict[str, Any]
    key_id: str
    signature: bytes
    id: str | None = None
    registry: str | None = None
    supersedes: dict[str, Any] | None = None
    key_seq: int = 0
    log_time: str | None = None
    sealed: dict[str, Any] | None = None

    @property
    def format(self) -> int:
        """2 for a v2 statement, 1 for a legacy one."""
        return 1 if self.registry is None else 2

    @property
    def message(self) -> bytes:
        """The bytes the signature covers."""
        start = self.entry.index(_STATEMENT_MARK) + len(_STATEMENT_MARK)
        return self._context() + self.entry[start:-1]

    def signed_message(self) -> bytes:
        """``signature || message``: what libsodium's ``crypto_sign_open`` checks."""
        start = self.entry.index(_STATEMENT_MARK) + len(_STATEMENT_MARK)
        return self.signature + self._context() + self.entry[start:-1]

    def _context(self) -> bytes:
        if self.registry is None:
            return SIGNING_CONTEXT
        return SIGNING_CONTEXT_V2 + self.registry.encode("ascii") + b"\n"

    def to_json(self) -> dict[str, Any]:
        out = {"type": self.type, "version": self.version, "actor": self.actor,
               "time": self.time, "body": self.body}
        if self.registry is not None:
            out = {"registry": self.registry, "id": self.id, **out,
                   "key": {"party": self.actor, "seq": self.key_seq}}
            if self.supersedes is not None:
                out["supersedes"] = self.supersedes
            if self.sealed is not None:
                out["sealed"] = self.sealed
        if self.log_time is not None:
            out["log_time"] = self.log_time
        return out


def decode_entry(entry: bytes) -> SignedStatement:
    """Parse and check a signed statement's envelope (not its signature, not its body).

    ``entry`` is a signed envelope (a submission, or a v1 leaf) or a v2 leaf, whose log time is
    then kept in :attr:`SignedStatement.log_time`.
    """
    envelope, log_time = open_leaf(entry)
    if len(envelope) > MAX_ENTRY_BYTES:
        raise InvalidStatement(
            f"entry is {len(envelope)} bytes, over the {MAX_ENTRY_BYTES}-byte limit; "
            "reference large content by hash"
        )
    doc = parse_canonical(envelope, what="signed statement", floats_in=_body)
    if type(doc) is not dict or doc.keys() != _ENVELOPE_KEYS:
        raise InvalidStatement("must be an object with exactly 'signature' and 'statement'")
    sig = doc["signature"]
    if type(sig) is not dict or sig.keys() != _SIGNATURE_KEYS:
        raise InvalidStatement("must have exactly alg, keyid and sig", "/signature")
    if sig["alg"] != "Ed25519":
        raise InvalidStatement(f"unsupported algorithm {sig['alg']!r}; sign with Ed25519",
                               "/signature/alg")
    keyid = sig["keyid"]
    if not (type(keyid) is str and keyid in _GOOD_KEYIDS) and \
            not _good_name(keyid, _KEYID_RE, _GOOD_KEYIDS):
        raise InvalidStatement("must be 16 lowercase hex characters", "/signature/keyid")
    # Only the canonical spelling: 88 characters ending "==", the last data character with its
    # 4 unused bits zero (else one signature would have 16 different entries and leaf hashes).
    signature = _signature_bytes(sig["sig"])
    if len(signature) != 64:
        raise InvalidStatement("must be the canonical base64 of a 64-byte Ed25519 signature",
                               "/signature/sig")
    stmt = doc["statement"]
    _check_statement_shape(stmt)
    if log_time is not None and "registry" not in stmt:
        raise InvalidStatement("a v1 statement cannot stand in a v2 leaf", "/statement")
    if "registry" in stmt and len(envelope) > MAX_ENVELOPE_BYTES:
        raise InvalidStatement(
            f"entry is {len(envelope)} bytes, over the {MAX_ENVELOPE_BYTES}-byte limit of a v2 "
            "statement (its leaf adds the log's time); reference large content by hash")
    return _signed(envelope, stmt, sig["keyid"], signature, log_time)


def _signature_bytes(text: Any) -> bytes:
    """The 64 bytes ``text`` is the canonical base64 of, else b""."""
    if type(text) is not str or len(text) != 88 or text[85] not in _SIG_LAST or \
            text[86:] != "==":
        return b""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return b""


def _body(doc: Any) -> Any:
    """Where a float may stand in an envelope that passes the shape checks: the statement's body
    (every other member is type-checked, a float refused)."""
    stmt = doc.get("statement") if type(doc) is dict else None
    return stmt.get("body") if type(stmt) is dict else doc


def _signed(envelope: bytes, stmt: dict[str, Any], key_id: str, signature: bytes,
            log_time: str | None) -> SignedStatement:
    if "registry" not in stmt:
        return _new_signed(envelope, stmt["type"], stmt["version"], stmt["actor"],
                           stmt["time"], stmt["body"], key_id, signature, None, None, None, 0,
                           None, None)
    return _new_signed(envelope, stmt["type"], stmt["version"], stmt["actor"], stmt["time"],
                       stmt["body"], key_id, signature, stmt["id"], stmt["registry"],
                       stmt.get("supersedes"), stmt["key"]["seq"], log_time, stmt.get("sealed"))


#: SignedStatement(...) with every field given (the C constructor when built: core._accel).
_new_signed = fast_constructor(SignedStatement)


def key_id_matches(signed: SignedStatement, public_key: bytes) -> bool:
    """Whether the statement names ``public_key``'s key id (checked before any Ed25519)."""
    return _cached_key_id(public_key) == signed.key_id


def read_entry(entry: bytes) -> SignedStatement:
    """Parse a signed envelope WITHOUT checking it: for a caller that has every entry checked
    in full (:func:`decode_entry`, the body's type, the signature) before it commits anything.

    Raises whatever the parser or a missing field raises; any error means "check it properly".
    """
    text = entry.decode("utf-8")
    doc, end = _scan_json(text, 0)  # the C scanner, without json.loads's wrapping
    if end != len(text):
        raise ValueError("trailing bytes after the envelope")
    sig = doc["signature"]
    return _signed(entry, doc["statement"], sig["keyid"], base64.b64decode(sig["sig"]), None)


def verify_entry_signature(signed: SignedStatement, public_key: bytes) -> None:
    """Check the Ed25519 signature with the actor's public key (libsodium; releases the GIL)."""
    if _cached_key_id(public_key) != signed.key_id:
        raise SignatureError(
            f"statement by {signed.actor} names key {signed.key_id}, which is not that party's "
            "registered key; sign with the party's registered key"
        )
    try:
        crypto_sign_open(signed.signed_message(), public_key)
    except (BadSignatureError, CryptoError):
        raise SignatureError(
            f"signature of the {signed.type} statement by {signed.actor} does not verify; "
            "the statement was altered or signed with another key"
        ) from None


def _check_statement_shape(stmt: Any) -> None:
    if type(stmt) is not dict:
        raise InvalidStatement("must be an object", "/statement")
    v2 = "registry" in stmt
    required = _STATEMENT_KEYS_V2 if v2 else _STATEMENT_KEYS
    keys = stmt.keys()
    if keys != required and not (
            required <= keys and keys - required <= (_OPTIONAL_KEYS_V2 if v2 else frozenset())):
        missing = required - keys
        extra = keys - required - (_OPTIONAL_KEYS_V2 if v2 else frozenset())
        fields = ("registry, id, type, version, actor, key, time and body (and optionally "
                  "supersedes, sealed)" if v2 else "type, version, actor, time and body")
        raise InvalidStatement(f"must have exactly {fields} (missing {sorted(missing)}, "
                               f"unexpected {sorted(extra)})", "/statement")
    s_type = stmt["type"]
    if not (type(s_type) is str and s_type in _GOOD_TYPES) and \
            not _good_name(s_type, _TYPE_RE, _GOOD_TYPES):
        raise InvalidStatement("must be a dotted lowercase name such as 'work.registered'",
                               "/statement/type")
    if type(stmt["version"]) is not int or stmt["version"] < 1:
        raise InvalidStatement("must be a positive integer", "/statement/version")
    if type(stmt["actor"]) is not str or not stmt["actor"] or len(stmt["actor"]) > 40:
        raise InvalidStatement("must be the acting party's id", "/statement/actor")
    parse_time(stmt["time"])
    if type(stmt["body"]) is not dict:
        raise InvalidStatement("must be an object", "/statement/body")
    if v2:
        _check_v2_fields(stmt)
    elif stmt["type"] == "registry.established":
        # It is what switches a log to v2, so it is v2 itself: it names the registry.
        raise InvalidStatement("registry.established is a v2 statement: make it with the "
                               "registry it establishes (make_statement(..., registry=R))",
                               "/statement")


def _check_v2_fields(stmt: dict[str, Any]) -> None:
    check_registry_id(stmt["registry"])
    if type(stmt["id"]) is not str or not _STATEMENT_ID_RE.fullmatch(stmt["id"]):
        raise InvalidStatement("must be a statement id like stm_k3vq7xw2m4a6c5de",
                               "/statement/id")
    key = stmt["key"]
    if (type(key) is not dict or key.keys() != _KEY_KEYS or key["party"] != stmt["actor"]
            or type(key["seq"]) is not int or not 0 <= key["seq"] < 1 << 31):
        raise InvalidStatement('must be {"party": <the actor>, "seq": <key number, 0 for the '
                               "key the party registered>}", "/statement/key")
    # Which key number may sign at the statement's log position is the key history's
    # question (reelrights.core.key_history): the registry and every verifier ask it.
    sup = stmt.get("supersedes")
    if "supersedes" in stmt and not (
            type(sup) is dict and len(sup) == 1
            and ((type(sup.get("id")) is str and _STATEMENT_ID_RE.fullmatch(sup["id"]))
                 or (type(sup.get("index")) is int and 0 <= sup["index"] < 1 << 62))):
        raise InvalidStatement('must be {"id": "stm_..."} or {"index": <log index>} of the '
                               "fact this statement replaces", "/statement/supersedes")
    if "sealed" in stmt:  # present means a value: null would be a second spelling of absent
        check_sealed_member(stmt["sealed"])
