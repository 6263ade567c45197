"""Statement types of unmatched royalties: credits for contributors with no registered party,
their claims, and what happens to the money held for them (docs/fund.md, "Unmatched
royalties").

A work's owner credits a contributor it cannot name by party (``credit.unmatched``), or a
party disputes a registered credit, claiming it (``credit.disputed``): the
contributor's name as credited, the role, the share and any standard ids (ISNI, IPI). The
money that credit earns is held in a suspense account per claim. A party who proves the claim
logs ``credit.claimed``; the work's owner, or a guild the claimant belongs to whose agreement
covers the role, confirms it (``credit.confirmed``); the claimant is then paid exactly what the
suspense account held, and later revenue goes to it directly. A claim nobody proves within
:data:`HOLD_MONTHS` months can be closed by the work's owner (``credit.expired``): what was held
goes to the work's owner or to the guild fund named, as the license's terms say.
"""

from __future__ import annotations

from ..core.ids import ID_PATTERNS
from ..core.schema import List, Obj, Ratio, Str
from ..core.statement_types import PARTY_ID, WORK_ID, StatementType, collector
from ..registry.types import CREDIT_ROLES

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

__all__ = ["CLAIM_ID", "HOLD_MONTHS"]

CLAIM_ID = Str(pattern=ID_PATTERNS["claim"], hint="a claim id like clm_k3vq7xw2m4a6c5de",
               max_len=20)
#: How long money for an unclaimed credit is held before it can be released elsewhere (the
#: MLC's practice for unmatched mechanical royalties: about three years).
HOLD_MONTHS = 36
STANDARD_ID = Str(pattern=r"(isni|ipi):[0-9A-Za-z]{9,16}",
                  hint="a standard id like isni:0000000121032683 or ipi:00052210040",
                  max_len=24)

register(StatementType(
    "credit.unmatched", 1,
    Obj({"claim": CLAIM_ID, "work": WORK_ID, "name": Str(min_len=1, max_len=300),
         "role": Str(choices=CREDIT_ROLES), "share": Ratio()},
        {"identifiers": List(STANDARD_ID, max_items=4)}),
    actor_field=None,
    summary="A work's owner credits a contributor who has no registered party: the money the "
            "credit earns is held in suspense until the contributor claims it."))

register(StatementType(
    "credit.disputed", 1,
    Obj({"claim": CLAIM_ID, "work": WORK_ID, "party": PARTY_ID,
         "role": Str(choices=CREDIT_ROLES), "claimant": PARTY_ID,
         "reason": Str(min_len=1, max_len=2000)}),
    actor_field="claimant",
    summary="A party disputes another's credit on a work, claiming it for itself: from then on "
            "the credit's money is held in suspense until the dispute is confirmed for one of "
            "them."))

register(StatementType(
    "credit.claimed", 1,
    Obj({"claim": CLAIM_ID, "party": PARTY_ID, "evidence": Str(min_len=1, max_len=2000)}),
    actor_field="party",
    summary="A party claims an unmatched credit as its own, saying how it proves it."))

register(StatementType(
    "credit.confirmed", 1,
    Obj({"claim": CLAIM_ID, "party": PARTY_ID}),
    actor_field=None,
    summary="The work's owner, or a guild of the claimant covering the role, confirms a claim: "
            "the claimant is paid what suspense held for it and is credited from then on."))

register(StatementType(
    "credit.expired", 1,
    Obj({"claim": CLAIM_ID, "to": PARTY_ID, "reason": Str(min_len=1, max_len=2000)}),
    actor_field=None,
    summary="The work's owner closes a claim nobody proved within the holding period: what "
            "suspense held goes to the owner or to the guild fund named."))
