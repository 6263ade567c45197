"""Statement types for keys over time and for disputed statements (docs/keys.md).

The rules of the key types live in :mod:`reelrights.core.key_history` (pure, shared by the
ledger and every verifier); here are their bodies. A new key is declared with its sequence
number (the party's next), its base64 public key and ``proof``: the new key's Ed25519 signature
of :func:`~reelrights.core.key_history.possession_message`.

A party that disowns statements logged in its name (a stolen key) logs ``statement.disputed``;
the names keep apart from the ownership disputes over assets (``asset.disputed``,
``dispute.released``, ``dispute.decided`` in rights/dispute_types.py).
"""

from __future__ import annotations

from ..core.ids import ID_PATTERNS
from ..core.key_history import (
    RECOVERED,
    RECOVERY_SET,
    REVOKED,
    ROTATION_CANCELLED,
    ROTATION_REQUESTED,
)
from ..core.schema import Int, List, Obj, Str
from ..core.statement_types import PARTY_ID, StatementType, collector

__all__ = ["DISPUTE_OUTCOMES", "PUBLIC_KEY", "STATEMENT_ID", "TYPES"]

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

#: Canonical base64 of a 32-byte Ed25519 public key (as party.registered writes it).
PUBLIC_KEY = Str(pattern=r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=", min_len=44, max_len=44,
                 hint="the base64 of a 32-byte Ed25519 public key")
#: Canonical base64 of a 64-byte Ed25519 signature.
PROOF = Str(pattern=r"[A-Za-z0-9+/]{85}[AQgw]==", min_len=88, max_len=88,
            hint="the base64 of a 64-byte Ed25519 signature")
SEQ = Int(min=1, max=(1 << 31) - 1)
STATEMENT_ID = Str(pattern=ID_PATTERNS["statement"], hint="a statement id like stm_k3vq7xw2m4a6c5de",
                   max_len=20)
REASON = Str(max_len=2000)
NEW_KEY = Obj({"seq": SEQ, "public_key": PUBLIC_KEY, "proof": PROOF})

register(StatementType(
    RECOVERY_SET, 1,
    Obj({"party": PARTY_ID, "seq": SEQ, "public_key": PUBLIC_KEY, "proof": PROOF}),
    actor_field="party",
    summary="A party names its offline recovery key (signed by its signing key, once): the "
            "recovery key cancels rotations, rotates at once and revokes."))

register(StatementType(
    ROTATION_REQUESTED, 1,
    Obj({"party": PARTY_ID, "seq": SEQ, "public_key": PUBLIC_KEY, "proof": PROOF},
        {"reason": REASON}),
    actor_field="party",
    summary="A party's signing key names its successor; it takes effect after the registry's "
            "waiting period (72 h by default) unless the recovery key cancels it."))

register(StatementType(
    ROTATION_CANCELLED, 1,
    Obj({"party": PARTY_ID, "seq": SEQ}, {"reason": REASON}),
    actor_field="party",
    summary="The party's recovery key cancels a pending rotation (the thief's): the old key "
            "stays, the cancelled key is never accepted again."))

register(StatementType(
    RECOVERED, 1,
    Obj({"party": PARTY_ID, "seq": SEQ, "public_key": PUBLIC_KEY, "proof": PROOF},
        {"recovery": NEW_KEY, "reason": REASON}),
    actor_field="party",
    summary="The party's recovery key installs a new signing key at once (and optionally a new "
            "recovery key); the previous signing key and any pending rotation end here."))

register(StatementType(
    REVOKED, 1,
    Obj({"party": PARTY_ID, "seq": Int(min=0, max=(1 << 31) - 1)}, {"reason": REASON}),
    actor_field="party",
    summary="The party's signing key is revoked from this log position on (never earlier), by "
            "itself or by the recovery key; earlier statements stand unless disputed."))

#: How a statement dispute ends: withdrawn by the disputing party; upheld (the statements are
#: not the party's) or rejected (they are) by a counterparty or the operator.
DISPUTE_OUTCOMES = ("withdrawn", "upheld", "rejected")

register(StatementType(
    "statement.disputed", 1,
    Obj({"party": PARTY_ID,
         "entries": List(Obj({"index": Int()}, {"id": STATEMENT_ID}), min_items=1,
                         max_items=100, unique_by="index"),
         "reason": REASON}),
    actor_field="party",
    summary="A party disowns earlier statements logged in its name (a stolen key): they stay "
            "in the log, marked disputed wherever they are relied on, until resolved."))

register(StatementType(
    "statement.dispute.resolved", 1,
    Obj({"dispute": STATEMENT_ID, "outcome": Str(choices=DISPUTE_OUTCOMES), "reason": REASON}),
    actor_field=None,
    summary="A statement dispute ends: withdrawn by the disputing party, or upheld or rejected "
            "by a counterparty (a party the disputed statements name)."))

register(StatementType(
    "statement.dispute.decided", 1,
    Obj({"dispute": STATEMENT_ID, "outcome": Str(choices=("upheld", "rejected")),
         "reason": REASON}),
    actor_field=None, operator=True,
    summary="The registry's operator decides a statement dispute: upheld (the statements are "
            "not the party's) or rejected."))
