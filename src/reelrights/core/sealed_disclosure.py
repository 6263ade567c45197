"""A sealed statement's disclosure, checked from the log's public key alone (pure, no I/O).

A party shows some private fields of a sealed statement to anyone (a regulator, a court, a
payee) with a disclosure file (docs/sealed.md, "Disclosures")::

    {"disclosure": "reelrights/sealed-disclosure/v1",
     "checkpoint": <the log's signed checkpoint note, text>,
     "statement": {"leaf": <the log leaf, text>, "index": N, "proof": [<hex>, ...]},
     "signer": {"leaf": <the signer's party.registered leaf>, "index": M, "proof": [...]},
     "leaves": [{"path", "salt", "value", "index", "size", "proof"}, ...]}

:func:`verify_disclosure` checks, in order, naming the first failure: the checkpoint's signature
(the log's key), both leaves' inclusion in that checkpoint, that the signer leaf registers the
statement's actor and its key, the statement's signature with that key, and every disclosed
leaf against the statement's signed root. Nothing here trusts the party that made the file.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput, ReelrightsError, VerificationError
from .checkpoint import open_checkpoint
from .merkle import leaf_hash, verify_inclusion
from .note import NoteVerifier
from .sealed import DisclosedLeaf, verify_leaves
from .statements import SignedStatement, decode_entry, verify_entry_signature

__all__ = ["FORMAT", "DisclosureReport", "verify_disclosure"]

FORMAT = "reelrights/sealed-disclosure/v1"


@dataclass(frozen=True)
class DisclosureReport:
    """What a verified disclosure shows: which statement, where in the log, which fields."""

    statement_id: str
    type: str
    actor: str
    log_index: int
    log_time: str
    origin: str
    checkpoint_size: int
    fields: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement_id, "type": self.type, "actor": self.actor,
                "log_index": self.log_index, "log_time": self.log_time, "origin": self.origin,
                "checkpoint_size": self.checkpoint_size, "fields": self.fields}


def _entry(doc: Any, what: str) -> tuple[bytes, int, list[bytes]]:
    if (type(doc) is not dict or type(doc.get("leaf")) is not str
            or type(doc.get("index")) is not int or type(doc.get("proof")) is not list):
        raise BadInput(f"disclosure: {what} must be {{leaf, index, proof}}")
    try:
        proof = [bytes.fromhex(h) for h in doc["proof"]]
    except (TypeError, ValueError):
        raise BadInput(f"disclosure: {what}.proof must be a list of hex hashes") from None
    return doc["leaf"].encode("utf-8"), doc["index"], proof


def _included(leaf: bytes, index: int, proof: list[bytes], size: int, root: bytes,
              what: str) -> None:
    try:
        verify_inclusion(leaf_hash(leaf), index, size, proof, root)
    except ReelrightsError as exc:
        raise VerificationError(f"the {what} is not in the log at index {index} under the "
                                f"signed checkpoint ({exc.message})") from None


def _signer_key(signer: SignedStatement, actor: str) -> bytes:
    if signer.type != "party.registered" or signer.body.get("id") != actor:
        raise VerificationError(f"the signer entry is not {actor}'s party.registered statement")
    return base64.b64decode(signer.body["public_key"])


def verify_disclosure(doc: Any, log_key: str) -> DisclosureReport:
    """Check a disclosure (module doc) against the log's note verifier key ``log_key``."""
    if type(doc) is not dict or doc.get("disclosure") != FORMAT:
        raise BadInput(f"not a sealed disclosure: its \"disclosure\" must be {FORMAT!r}")
    if type(doc.get("checkpoint")) is not str or type(doc.get("leaves")) is not list:
        raise BadInput("disclosure: checkpoint (text) and leaves (list) are required")
    cp = open_checkpoint(doc["checkpoint"].encode("utf-8"), NoteVerifier(log_key))
    leaf, index, proof = _entry(doc.get("statement"), "statement")
    _included(leaf, index, proof, cp.size, cp.root, "statement")
    s_leaf, s_index, s_proof = _entry(doc.get("signer"), "signer")
    _included(s_leaf, s_index, s_proof, cp.size, cp.root, "signer's registration")
    try:
        s = decode_entry(leaf)
        signer = decode_entry(s_leaf)
    except ReelrightsError as exc:
        raise VerificationError(f"a disclosed log entry does not decode ({exc.message})") \
            from None
    if s.sealed is None or s.id is None or s.log_time is None:
        raise VerificationError("the disclosed statement is not a sealed v2 statement")
    if s_index > index:
        raise VerificationError("the signer registered after the statement was logged")
    verify_entry_signature(s, _signer_key(signer, s.actor))
    shown = [DisclosedLeaf.from_json(d, f"/leaves/{i}") for i, d in enumerate(doc["leaves"])]
    leaves = verify_leaves(s.sealed, shown)
    return DisclosureReport(s.id, s.type, s.actor, index, s.log_time, cp.origin, cp.size,
                            {leaf.path: leaf.value for leaf in leaves})
