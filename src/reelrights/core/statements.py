"""Signed statements: the unit of every fact reelrights records.

A statement is ``{type, version, actor, time, body}``. Its signed form, and the exact bytes that
become a log leaf, is the RFC 8785 canonical JSON of::

    {"signature": {"alg": "Ed25519", "keyid": "<16 hex>", "sig": "<base64>"},
     "statement": {...}}

The signature is Ed25519 over ``b"reelrights/statement/v1\\n" + JCS(statement)``. The context
prefix keeps a party's statement signature from being replayed as any other kind of signature.
Because JCS sorts keys, ``"signature"`` comes before ``"statement"``. The statement's canonical
bytes are therefore a slice of the entry, and a verifier never has to re-serialize them.

Signing (:func:`sign_statement`) happens where the party's key lives. Accepting
(:func:`decode_entry` plus :func:`verify_entry_signature`) happens in the registry, which only
ever sees public keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from ..errors import InvalidStatement, SignatureError
from .canonical import canonical_bytes, parse_canonical

__all__ = [
    "MAX_ENTRY_BYTES",
    "SIGNING_CONTEXT",
    "SignedStatement",
    "decode_entry",
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
STATEMENT_VERSION = 1

# Used with fullmatch and ASCII classes: "$" would also accept a trailing newline.
_TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_TYPE_RE = re.compile(r"[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9]*)+")
_KEYID_RE = re.compile(r"[0-9a-f]{16}")
_STATEMENT_MARK = b',"statement":'
_ENVELOPE_KEYS = frozenset({"signature", "statement"})
_SIGNATURE_KEYS = frozenset({"alg", "keyid", "sig"})
_STATEMENT_KEYS = frozenset({"type", "version", "actor", "time", "body"})


def key_id_for(public_key: bytes) -> str:
    """The key id a signature names: the first 8 bytes of SHA-256(raw public key), in hex."""
    return hashlib.sha256(public_key).hexdigest()[:16]


_cached_key_id = lru_cache(maxsize=8192)(key_id_for)  # the verifier sees few distinct keys


def utc_now() -> str:
    """The current time as the statements write it (RFC 3339, UTC, microseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_statement(type: str, actor: str, body: dict[str, Any], time: str | None = None) -> dict:
    """Assemble an unsigned statement."""
    return {"type": type, "version": STATEMENT_VERSION, "actor": actor,
            "time": time or utc_now(), "body": body}


def sign_statement(statement: dict[str, Any], signing_key: Any) -> bytes:
    """Sign ``statement`` and return the canonical entry bytes.

    ``signing_key`` is anything with ``sign(bytes) -> bytes`` (64-byte Ed25519 signature) and a
    ``public_key_bytes`` attribute, such as :class:`reelrights.keys.PartyKey`.
    """
    _check_statement_shape(statement)
    message = SIGNING_CONTEXT + canonical_bytes(statement)
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
    if len(entry) > MAX_ENTRY_BYTES:
        raise InvalidStatement(
            f"statement is {len(entry)} bytes, over the log's {MAX_ENTRY_BYTES}-byte entry limit; "
            "reference large content by its SHA-256 instead of embedding it"
        )
    return entry


@dataclass(frozen=True, slots=True)
class SignedStatement:
    """A decoded log entry: the statement, who signed it and the exact signed bytes."""

    entry: bytes
    type: str
    version: int
    actor: str
    time: str
    body: dict[str, Any]
    key_id: str
    signature: bytes

    @property
    def message(self) -> bytes:
        """The bytes the signature covers."""
        start = self.entry.index(_STATEMENT_MARK) + len(_STATEMENT_MARK)
        return SIGNING_CONTEXT + self.entry[start:-1]

    def signed_message(self) -> bytes:
        """``signature || message``: what libsodium's ``crypto_sign_open`` checks."""
        start = self.entry.index(_STATEMENT_MARK) + len(_STATEMENT_MARK)
        return self.signature + SIGNING_CONTEXT + self.entry[start:-1]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "version": self.version, "actor": self.actor,
                "time": self.time, "body": self.body}


def decode_entry(entry: bytes) -> SignedStatement:
    """Parse and check the envelope of a signed statement (not its signature, not its body)."""
    if len(entry) > MAX_ENTRY_BYTES:
        raise InvalidStatement(
            f"entry is {len(entry)} bytes, over the {MAX_ENTRY_BYTES}-byte limit; "
            "reference large content by hash"
        )
    doc = parse_canonical(entry, what="signed statement")
    if type(doc) is not dict or doc.keys() != _ENVELOPE_KEYS:
        raise InvalidStatement("must be an object with exactly 'signature' and 'statement'")
    sig = doc["signature"]
    if type(sig) is not dict or sig.keys() != _SIGNATURE_KEYS:
        raise InvalidStatement("must have exactly alg, keyid and sig", "/signature")
    if sig["alg"] != "Ed25519":
        raise InvalidStatement(f"unsupported algorithm {sig['alg']!r}; sign with Ed25519",
                               "/signature/alg")
    if type(sig["keyid"]) is not str or not _KEYID_RE.fullmatch(sig["keyid"]):
        raise InvalidStatement("must be 16 lowercase hex characters", "/signature/keyid")
    try:
        signature = base64.b64decode(sig["sig"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        signature = b""
    # Only the canonical spelling: the last base64 character carries unused bits, and letting
    # them vary would give one signature 16 different entries (and leaf hashes).
    if len(signature) != 64 or base64.b64encode(signature).decode("ascii") != sig["sig"]:
        raise InvalidStatement("must be the canonical base64 of a 64-byte Ed25519 signature",
                               "/signature/sig")
    stmt = doc["statement"]
    _check_statement_shape(stmt)
    return SignedStatement(entry, stmt["type"], stmt["version"], stmt["actor"], stmt["time"],
                           stmt["body"], sig["keyid"], signature)


def key_id_matches(signed: SignedStatement, public_key: bytes) -> bool:
    """Whether the statement names ``public_key``'s key id (checked before any Ed25519)."""
    return _cached_key_id(public_key) == signed.key_id


def read_entry(entry: bytes) -> SignedStatement:
    """Parse a signed statement WITHOUT checking it: for a caller that has every entry checked
    in full (:func:`decode_entry`, the body's type, the signature) before it commits anything.

    Raises whatever the parser or a missing field raises; any error means "check it properly".
    """
    doc = json.loads(entry)
    sig, stmt = doc["signature"], doc["statement"]
    return SignedStatement(entry, stmt["type"], stmt["version"], stmt["actor"], stmt["time"],
                           stmt["body"], sig["keyid"], base64.b64decode(sig["sig"]))


def verify_entry_signature(signed: SignedStatement, public_key: bytes) -> None:
    """Check the Ed25519 signature with the actor's public key (libsodium; releases the GIL)."""
    if _cached_key_id(public_key) != signed.key_id:
        raise SignatureError(
            f"statement by {signed.actor} names key {signed.key_id}, which is not that party's "
            "registered key; sign with the party's registered key"
        )
    try:
        crypto_sign_open(signed.signature + signed.message, public_key)
    except (BadSignatureError, CryptoError):
        raise SignatureError(
            f"signature of the {signed.type} statement by {signed.actor} does not verify; "
            "the statement was altered or signed with another key"
        ) from None


def _check_statement_shape(stmt: Any) -> None:
    if type(stmt) is not dict:
        raise InvalidStatement("must be an object", "/statement")
    if stmt.keys() != _STATEMENT_KEYS:
        missing = _STATEMENT_KEYS - stmt.keys()
        extra = stmt.keys() - _STATEMENT_KEYS
        raise InvalidStatement(
            f"must have exactly type, version, actor, time and body (missing {sorted(missing)}, "
            f"unexpected {sorted(extra)})", "/statement")
    if type(stmt["type"]) is not str or not _TYPE_RE.fullmatch(stmt["type"]):
        raise InvalidStatement("must be a dotted lowercase name such as 'work.registered'",
                               "/statement/type")
    if type(stmt["version"]) is not int or stmt["version"] < 1:
        raise InvalidStatement("must be a positive integer", "/statement/version")
    if type(stmt["actor"]) is not str or not stmt["actor"]:
        raise InvalidStatement("must be the acting party's id", "/statement/actor")
    if type(stmt["time"]) is not str or not _TIME_RE.fullmatch(stmt["time"]):
        raise InvalidStatement("must be an RFC 3339 UTC time like 2026-01-31T12:00:00Z",
                               "/statement/time")
    if type(stmt["body"]) is not dict:
        raise InvalidStatement("must be an object", "/statement/body")
