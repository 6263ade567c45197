"""A sealed statement's disclosure, checked from the log's public key alone (pure, no I/O).

A party shows some private fields of a sealed statement to anyone (a regulator, a court, a
payee) with a disclosure file (docs/sealed.md, "Disclosures")::

    {"disclosure": "reelrights/sealed-disclosure/v1",
     "checkpoint": <the log's signed checkpoint note, text>,
     "statement": {"leaf": <the log leaf, text>, "index": N, "proof": [<hex>, ...]},
     "signer": {"leaf": <the signer's party.registered leaf>, "index": M, "proof": [...]},
     "keys": [{"leaf", "index", "proof"}, ...],
     "leaves": [{"path", "salt", "value", "index", "size", "proof"}, ...]}

``keys`` (absent: none) are the signer's key statements logged before the statement (docs/
keys.md: recovery keys, rotations, recoveries, revocations), with the ``registry.established``
entry that sets the rotation wait when there are any. They are replayed through
:class:`~reelrights.core.key_history.KeyHistory`, each checked with the key in force at its own
index, so a statement signed after a rotation (or before one) verifies with the key in force at
its log index, never merely the party's first or current key.

:func:`verify_disclosure` checks, in order, naming the first failure: the checkpoint's signature
(the log's key), every leaf's inclusion in that checkpoint, that the signer leaf registers the
statement's actor and its key, the key the history puts in force at the statement's index, the
statement's signature with that key, and every disclosed leaf against the statement's signed
root. Nothing here trusts the party that made the file.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ..errors import BadInput, ReelrightsError, VerificationError
from .checkpoint import open_checkpoint
from .key_history import DEFAULT_ROTATION_WAIT_S, KEY_TYPES, KeyHistory
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


def _key_in_force(s: SignedStatement, index: int, registered: bytes,
                  keys: list[tuple[int, SignedStatement]]) -> bytes:
    """The key of ``s``'s actor in force at ``index`` for the key ``s`` names, from its
    registered key and its key statements (each checked with the key in force at its index)."""
    wait = DEFAULT_ROTATION_WAIT_S
    events = []
    for i, k in keys:
        if k.type == "registry.established":
            given = k.body.get("key_rotation_wait_s")
            wait = given if type(given) is int else wait
        elif k.type in KEY_TYPES and k.actor == s.actor and i < index:
            events.append((i, k))
        else:
            raise VerificationError(f"keys: the entry at index {i} is not a key statement of "
                                    f"{s.actor} logged before the statement")
    history = KeyHistory(wait)
    try:
        for i, k in sorted(events, key=lambda e: e[0]):
            verify_entry_signature(k, history.signer(k.type, k.actor, k.key_seq, i,
                                                     k.log_time, registered))
            history.apply(k.type, k.actor, k.registry or "", k.key_seq, dict(k.body), i,
                          k.log_time or "", registered)
        return history.signer(s.type, s.actor, s.key_seq, index, s.log_time, registered)
    except ReelrightsError as exc:
        raise VerificationError(f"the statement's key: {s.actor}'s key history gives no key "
                                f"{s.key_seq} that signed it at log index {index} "
                                f"({exc.message})") from None


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
    if type(doc.get("keys", [])) is not list:
        raise BadInput("disclosure: keys must be a list of {leaf, index, proof}")
    keys = []
    for n, item in enumerate(doc.get("keys", [])):
        k_leaf, k_index, k_proof = _entry(item, f"keys[{n}]")
        _included(k_leaf, k_index, k_proof, cp.size, cp.root, f"key statement keys[{n}]")
        try:
            keys.append((k_index, decode_entry(k_leaf)))
        except ReelrightsError as exc:
            raise VerificationError(f"keys[{n}] does not decode ({exc.message})") from None
    verify_entry_signature(s, _key_in_force(s, index, _signer_key(signer, s.actor), keys))
    shown = [DisclosedLeaf.from_json(d, f"/leaves/{i}") for i, d in enumerate(doc["leaves"])]
    leaves = verify_leaves(s.sealed, shown)
    return DisclosureReport(s.id, s.type, s.actor, index, s.log_time, cp.origin, cp.size,
                            {leaf.path: leaf.value for leaf in leaves})
