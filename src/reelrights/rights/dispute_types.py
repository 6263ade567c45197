"""Statement types for ownership disputes over assets (docs/rules.md, "Ownership disputes").

A dispute is opened in one of two ways. The same bytes registered by a second owner open one
inside the ``work.registered`` applier (the claim is the registration itself). A whole-asset
near-duplicate found through the fingerprint index opens one with ``asset.disputed``, signed by
either of the two owners. A dispute is closed by the first owner (``dispute.released``) or by
the registry's operator (``dispute.decided``).
"""

from __future__ import annotations

from ..core.ids import ID_PATTERNS
from ..core.schema import Int, Obj, Str
from ..core.statement_types import OPERATOR, PARTY_ID, SHA256, StatementType, collector

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

__all__ = ["DISPUTE_ID", "OPERATOR_ACTOR", "OUTCOMES"]

#: A registry id of kind dispute. The registry derives it from the opening entry's log time and
#: log index (rights.disputes.dispute_id), so a replay of the log gives every dispute the
#: same id.
DISPUTE_ID = Str(pattern=ID_PATTERNS.get("dispute", r"dsp_[a-z2-7]{16}"),
                 hint="a dispute id like dsp_k3vq7xw2m4a6c5de", max_len=20)
#: What an operator may decide: the first owner keeps the asset (the claim is dismissed), or
#: the claimant is its owner (the first owner's chain on it ends).
OUTCOMES = ("first_owner", "claimant")
#: The actor of the operator's decisions: the registry's operator, signing with the log's key.
OPERATOR_ACTOR = OPERATOR

register(StatementType(
    "asset.disputed", 1,
    Obj({"asset": SHA256, "original": SHA256, "matched_ms": Int(min=0),
         "duration_ms": Int(min=1)},
        {"note": Str(max_len=2000)}),
    actor_field=None,
    summary="An owner reports that a later asset is a whole-asset near-duplicate of an earlier "
            "asset of another owner (at least 80 % of either's content duration matches); it "
            "opens an ownership dispute that suspends licensing of both assets."))

register(StatementType(
    "dispute.released", 1,
    Obj({"dispute": DISPUTE_ID, "first_owner": PARTY_ID, "reason": Str(max_len=2000)}),
    actor_field="first_owner",
    summary="The first owner releases a dispute: the claimant's registration stands beside its "
            "own, and licensing of the asset resumes for both."))

register(StatementType(
    "dispute.decided", 1,
    Obj({"dispute": DISPUTE_ID, "outcome": Str(choices=OUTCOMES), "reason": Str(max_len=2000)}),
    actor_field=None, operator=True,
    summary="The registry's operator decides a dispute: for the first owner (the claim is "
            "dismissed) or for the claimant (the first owner's chain on the asset ends)."))
