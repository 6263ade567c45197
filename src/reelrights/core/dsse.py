"""DSSE v1 envelopes and in-toto Statement v1: the standard wrapping of audit certificates.

An audit certificate is an in-toto Statement (``https://in-toto.io/Statement/v1``) whose subject
is the training-run commitment. It travels in a DSSE envelope (secure-systems-lab/dsse v1.0.0)::

    {"payload": "<base64 of the statement's JSON>", "payloadType": "application/vnd.in-toto+json",
     "signatures": [{"keyid": "<16 hex>", "sig": "<base64 Ed25519 signature>"}]}

The signature covers the Pre-Authentication Encoding, never the bare payload::

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

(LEN: ASCII decimal byte length). So any DSSE tool (in-toto, sigstore, or ``openssl pkeyutl``
over the PAE bytes) can check a certificate with the auditor's public key alone. The key id is
the party's key id in the registry (the first 8 bytes of SHA-256 of the raw public key, hex).
Signing uses the party's Ed25519 key; verification uses libsodium. Pure, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from ..errors import BadInput, SignatureError
from .canonical import canonical_bytes
from .statements import key_id_for

__all__ = ["Envelope", "INTOTO_PAYLOAD_TYPE", "INTOTO_STATEMENT_TYPE", "check_intoto_statement",
           "intoto_statement", "pae", "parse_envelope", "sign_envelope", "statement_payload",
           "verify_envelope"]

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
INTOTO_STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding of (UTF-8 type, body)."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    #: (keyid or None, raw signature) in envelope order.
    signatures: tuple[tuple[str | None, bytes], ...]

    def to_json(self) -> dict[str, Any]:
        sigs = []
        for keyid, sig in self.signatures:
            entry = {"sig": base64.b64encode(sig).decode("ascii")}
            if keyid is not None:
                entry["keyid"] = keyid
            sigs.append(entry)
        return {"payload": base64.b64encode(self.payload).decode("ascii"),
                "payloadType": self.payload_type, "signatures": sigs}

    def payload_json(self) -> Any:
        try:
            return json.loads(self.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadInput(f"DSSE payload is not UTF-8 JSON ({exc}); it is not a certificate") \
                from None


def sign_envelope(payload_type: str, payload: bytes, signing_key: Any) -> Envelope:
    """Sign ``payload`` with an Ed25519 key (``sign(bytes)``, ``public_key_bytes``)."""
    sig = signing_key.sign(pae(payload_type, payload))
    return Envelope(payload_type, payload, ((key_id_for(signing_key.public_key_bytes), sig),))


def _b64(value: Any, what: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE: verifiers MUST accept either)."""
    if type(value) is not str:
        raise BadInput(f"DSSE {what} must be a base64 string")
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(f"DSSE {what} is not base64; the envelope is damaged") from None


def parse_envelope(doc: Any) -> Envelope:
    """Decode a DSSE JSON envelope (a dict, or its JSON bytes/text)."""
    if isinstance(doc, (bytes, str)):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise BadInput(f"not a DSSE envelope: invalid JSON ({exc})") from None
    if type(doc) is not dict or not {"payload", "payloadType", "signatures"} <= doc.keys():
        raise BadInput("not a DSSE envelope: it needs payload, payloadType and signatures")
    if type(doc["payloadType"]) is not str:
        raise BadInput("DSSE payloadType must be a string")
    sigs = doc["signatures"]
    if type(sigs) is not list or not sigs:
        raise BadInput("a DSSE envelope needs at least one signature")
    out = []
    for i, s in enumerate(sigs):
        if type(s) is not dict or "sig" not in s:
            raise BadInput(f"DSSE signature {i} must be an object with sig")
        keyid = s.get("keyid")
        if keyid is not None and type(keyid) is not str:
            raise BadInput(f"DSSE signature {i} keyid must be a string")
        out.append((keyid or None, _b64(s["sig"], f"signature {i}")))
    return Envelope(doc["payloadType"], _b64(doc["payload"], "payload"), tuple(out))


def verify_envelope(env: Envelope, keys: Mapping[str, bytes]) -> str:
    """Check the envelope against trusted Ed25519 keys (key id -> raw public key).

    Returns the key id of the first signature that verifies. The key id only narrows which key
    to try (DSSE: it is not authenticated); the signature decides. SignatureError if none does.
    """
    message = pae(env.payload_type, env.payload)
    for keyid, sig in env.signatures:
        candidates = [keyid] if keyid is not None and keyid in keys else list(keys)
        for kid in candidates:
            if len(sig) != 64:
                continue
            try:
                crypto_sign_open(sig + message, keys[kid])
            except (BadSignatureError, CryptoError, ValueError):
                continue
            return kid
    raise SignatureError("the DSSE envelope's signature does not verify under the expected key "
                         f"({', '.join(sorted(keys)) or 'none given'}); it was altered or signed "
                         "by someone else")


# ---------------------------------------------------------------------------------------------
# in-toto Statement v1
# ---------------------------------------------------------------------------------------------

def intoto_statement(subjects: list[dict[str, Any]], predicate_type: str,
                     predicate: dict[str, Any]) -> dict[str, Any]:
    """An in-toto Statement v1 (subjects: ``{"name", "digest": {"sha256": hex}}``)."""
    stmt = {"_type": INTOTO_STATEMENT_TYPE, "subject": subjects, "predicateType": predicate_type,
            "predicate": predicate}
    check_intoto_statement(stmt)
    return stmt


def statement_payload(stmt: dict[str, Any]) -> bytes:
    """The payload bytes: RFC 8785 canonical JSON (any JSON parser reads them)."""
    return canonical_bytes(stmt)


def check_intoto_statement(stmt: Any, predicate_type: str | None = None) -> dict[str, Any]:
    """The statement's required shape (in-toto attestation spec, Statement v1)."""
    if type(stmt) is not dict:
        raise BadInput("in-toto statement must be a JSON object")
    if stmt.get("_type") != INTOTO_STATEMENT_TYPE:
        raise BadInput(f"in-toto statement _type must be {INTOTO_STATEMENT_TYPE}, "
                       f"not {stmt.get('_type')!r}")
    subjects = stmt.get("subject")
    if type(subjects) is not list or not subjects:
        raise BadInput("in-toto statement needs at least one subject")
    for i, s in enumerate(subjects):
        digest = s.get("digest") if type(s) is dict else None
        if type(digest) is not dict or not digest or not all(
                type(k) is str and type(v) is str for k, v in digest.items()):
            raise BadInput(f"in-toto subject {i} needs a digest map like {{\"sha256\": hex}}")
    if type(stmt.get("predicateType")) is not str or not stmt["predicateType"]:
        raise BadInput("in-toto statement needs a predicateType URI")
    if predicate_type is not None and stmt["predicateType"] != predicate_type:
        raise BadInput(f"predicateType is {stmt['predicateType']!r}, not {predicate_type!r}")
    if "predicate" in stmt and type(stmt["predicate"]) is not dict:
        raise BadInput("in-toto predicate must be a JSON object")
    return stmt
