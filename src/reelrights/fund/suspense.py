"""Unmatched royalties: credits nobody has claimed, the suspense accounts that hold their money,
claims, confirmations and expiry (types in :mod:`.claim_types`; docs/fund.md).

Money follows the allocation: a pool's line for an unmatched credit has the payee
``suspense:<claim>`` (:func:`pool_credits`), which the revenue applier books on the account of
that name in the journal (``fund_postings``), never as a party's line. Corrections of a report
reverse and rebook it like any account, so the account's balance is always exactly what is
held. A confirmation (or an expiry) moves that balance, per currency, to the payee's account in
one journal (``release:<claim>``), and the payee's royalty statement for the quarter of the
confirmation shows it line by line (:func:`released_lines`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, select, update

from ..catalogue import check_body
from ..core.fund_rules import Credit
from ..core.ids import new_id
from ..core.money import format_amount
from ..core.schema import parse_ratio
from ..errors import Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..log.database_log import insert_rows
from ..registry.resolve import resolve_party, resolve_work
from ..registry.submit import submit_as
from ..store.db import Database
from ..store.fund_tables import fund_postings, unmatched_credits
from ..store.tables import (
    credits,
    guild_agreements,
    guild_members,
    log_entries,
    parties,
    works,
)
from .claim_types import HOLD_MONTHS

__all__ = ["SUSPENSE", "Claim", "claim_credit", "confirm_claim", "credit_unmatched",
           "dispute_credit",
           "expire_claim", "held", "list_claims", "pool_credits", "unmatched_share"]

#: The payee (and journal account) prefix of money held for an unmatched credit.
SUSPENSE = "suspense:"


@dataclass(frozen=True)
class Claim:
    claim: str
    work: str
    name: str
    role: str
    share: str
    identifiers: list[str]
    log_index: int
    status: str                    # unclaimed | claimed | confirmed | expired
    claimed_by: str | None
    confirmed_party: str | None
    released_to: str | None
    held: dict[str, str]           # currency -> amount still in suspense

    def to_json(self) -> dict[str, Any]:
        return {"id": self.claim, "claim": self.claim, "work": self.work, "name": self.name, "role": self.role,
                "share": self.share, "identifiers": self.identifiers,
                "log_index": self.log_index, "status": self.status,
                "claimed_by": self.claimed_by, "confirmed_party": self.confirmed_party,
                "released_to": self.released_to, "held": self.held}


# -- the allocation's view ----------------------------------------------------------------------
def pool_credits(conn: Connection, work_ids: tuple[str, ...], as_of: int
                 ) -> tuple[list[Credit], set[tuple[str, str, str]]]:
    """The unmatched and disputed credits of ``work_ids`` as an allocation before ``as_of``
    sees them: the confirmed party's, from its confirmation on; otherwise the suspense
    account's. Also the registered credits (work, party, role) a dispute took over: the
    allocation leaves those out."""
    out: list[Credit] = []
    replaced: set[tuple[str, str, str]] = set()
    for r in conn.execute(select(unmatched_credits).where(
            unmatched_credits.c.work_id.in_(work_ids), unmatched_credits.c.log_index < as_of)):
        if r.disputed_party is not None:
            replaced.add((r.work_id, r.disputed_party, r.role))
        if r.confirmed_index is not None and r.confirmed_index < as_of:
            out.append(Credit(r.work_id, r.confirmed_party, r.role, parse_ratio(r.share),
                              int(r.confirmed_index)))
        else:
            out.append(Credit(r.work_id, SUSPENSE + r.claim_id, r.role, parse_ratio(r.share),
                              int(r.log_index)))
    return out, replaced


def unmatched_share(conn: Connection, work: str, role: str) -> Fraction:
    """The share of ``role`` on ``work`` that unmatched credits hold."""
    return sum((parse_ratio(s) for s in conn.scalars(select(unmatched_credits.c.share).where(
        unmatched_credits.c.work_id == work, unmatched_credits.c.role == role,
        unmatched_credits.c.disputed_party.is_(None)))), Fraction(0))  # a dispute mirrors a credit


def held(conn: Connection, claim: str) -> dict[str, int]:
    """What the claim's suspense account holds now, per currency (minor units)."""
    return {c: int(a) for c, a in conn.execute(
        select(fund_postings.c.currency, func.sum(fund_postings.c.amount))
        .where(fund_postings.c.account == SUSPENSE + claim)
        .group_by(fund_postings.c.currency)).all() if int(a)}


# -- appliers -----------------------------------------------------------------------------------
def _row(conn: Connection, claim: str) -> Any:
    row = conn.execute(select(unmatched_credits).where(
        unmatched_credits.c.claim_id == claim)).first()
    if row is None:
        raise NotFound(f"claim {claim} is not an unmatched credit; `reelrights fund suspense` "
                       "lists them")
    return row


def _owner(conn: Connection, work: str) -> str:
    owner = conn.scalar(select(works.c.owner_id).where(works.c.id == work))
    if owner is None:
        raise NotFound(f"work {work} is not registered")
    return str(owner)


def _guild_covers(conn: Connection, guild: str, role: str, member: str | None) -> bool:
    """``guild`` has an agreement covering ``role`` (and, given ``member``, counts it)."""
    covers = any(role in json.loads(c) for c in conn.scalars(
        select(guild_agreements.c.covers).where(guild_agreements.c.guild_id == guild)))
    if not covers or member is None:
        return covers
    return conn.execute(select(guild_members.c.member_id).where(
        guild_members.c.guild_id == guild, guild_members.c.member_id == member)).first() \
        is not None


@applier("credit.unmatched")
@each_statement
def _apply_unmatched(conn: Connection, a: Accepted) -> dict[str, Any]:
    b, actor = a.statement.body, a.statement.actor
    owner = _owner(conn, b["work"])
    if owner != actor:
        raise PolicyDenied(f"only the owner of {b['work']} ({owner}) credits it, not {actor}")
    if conn.execute(select(unmatched_credits.c.claim_id).where(
            unmatched_credits.c.claim_id == b["claim"])).first() is not None:
        raise Conflict(f"claim {b['claim']} is already logged")
    taken = sum((parse_ratio(s) for s in conn.scalars(select(credits.c.share).where(
        credits.c.work_id == b["work"], credits.c.role == b["role"]))), Fraction(0))
    taken += unmatched_share(conn, b["work"], b["role"])
    if taken + parse_ratio(b["share"]) > 1:
        raise Conflict(f"{b['role']} shares on {b['work']} would total over 1 "
                       f"({taken} is taken); pass a smaller --share")
    conn.execute(unmatched_credits.insert().values(
        claim_id=b["claim"], work_id=b["work"], name=b["name"], role=b["role"],
        share=b["share"], identifiers=json.dumps(b.get("identifiers", [])),
        log_index=a.index, logged_at=a.time))
    return {"id": b["claim"], "claim": b["claim"], "work": b["work"]}


@applier("credit.disputed")
@each_statement
def _apply_disputed(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    share = conn.scalar(select(credits.c.share).where(
        credits.c.work_id == b["work"], credits.c.party_id == b["party"],
        credits.c.role == b["role"]))
    if share is None:
        raise NotFound(f"{b['party']} holds no {b['role']} credit on {b['work']}; a dispute "
                       "names an existing credit")
    if b["claimant"] == b["party"]:
        raise PolicyDenied(f"{b['party']} cannot dispute its own credit")
    if conn.execute(select(unmatched_credits.c.claim_id).where(
            (unmatched_credits.c.claim_id == b["claim"])
            | ((unmatched_credits.c.work_id == b["work"])
               & (unmatched_credits.c.disputed_party == b["party"])
               & (unmatched_credits.c.role == b["role"])
               & unmatched_credits.c.confirmed_index.is_(None)))).first() is not None:
        raise Conflict(f"the {b['role']} credit of {b['party']} on {b['work']} is already "
                       f"disputed (or claim {b['claim']} exists); settle that dispute first")
    name = conn.scalar(select(parties.c.name).where(parties.c.id == b["party"]))
    conn.execute(unmatched_credits.insert().values(
        claim_id=b["claim"], work_id=b["work"], name=str(name), role=b["role"], share=share,
        identifiers="[]", log_index=a.index, logged_at=a.time, claimed_by=b["claimant"],
        claimed_index=a.index, evidence=b["reason"], disputed_party=b["party"]))
    return {"id": b["claim"], "claim": b["claim"], "work": b["work"], "party": b["party"]}


@applier("credit.claimed")
@each_statement
def _apply_claimed(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    row = _row(conn, b["claim"])
    if row.confirmed_index is not None or row.released_index is not None:
        closed = (f"confirmed for {row.confirmed_party}" if row.confirmed_party
                  else f"expired to {row.released_to}")
        raise Conflict(f"claim {row.claim_id} is closed ({closed})")
    # A later claim replaces an unconfirmed one; the log keeps both.
    conn.execute(update(unmatched_credits).where(unmatched_credits.c.claim_id == row.claim_id)
                 .values(claimed_by=b["party"], claimed_index=a.index, evidence=b["evidence"]))
    return {"id": row.claim_id, "claim": row.claim_id, "party": b["party"]}


def _release(conn: Connection, claim: str, party: str, index: int) -> dict[str, str]:
    """Move the claim's whole suspense balance to ``party``'s account, per currency."""
    amounts = held(conn, claim)
    journal = f"release:{claim}"
    rows, seq = [], 0
    for cur, amount in sorted(amounts.items()):
        rows.append((journal, seq, SUSPENSE + claim, cur, -amount, index))
        rows.append((journal, seq + 1, f"payee:{party}", cur, amount, index))
        seq += 2
    insert_rows(conn, fund_postings, ("journal", "seq", "account", "currency", "amount",
                                      "log_index"), rows)
    return {c: format_amount(v, c) for c, v in sorted(amounts.items())}


@applier("credit.confirmed")
@each_statement
def _apply_confirmed(conn: Connection, a: Accepted) -> dict[str, Any]:
    b, actor = a.statement.body, a.statement.actor
    row = _row(conn, b["claim"])
    if row.confirmed_index is not None or row.released_index is not None:
        raise Conflict(f"claim {row.claim_id} is already closed")
    if b["party"] not in {row.claimed_by, row.disputed_party} - {None}:
        raise Conflict(f"{b['party']} has not claimed {row.claim_id}"
                       + (f" (the standing claim is {row.claimed_by}'s)" if row.claimed_by
                          else "; it logs credit.claimed first"))
    owner = _owner(conn, row.work_id)
    if actor != owner and not _guild_covers(conn, actor, row.role, b["party"]):
        raise PolicyDenied(f"only {owner}, the work's owner, or a guild of {b['party']} "
                           f"covering {row.role}s confirms claim {row.claim_id}; not {actor}")
    paid = _release(conn, row.claim_id, b["party"], a.index)
    conn.execute(update(unmatched_credits).where(unmatched_credits.c.claim_id == row.claim_id)
                 .values(confirmed_party=b["party"], confirmed_by=actor,
                         confirmed_index=a.index))
    return {"id": row.claim_id, "claim": row.claim_id, "party": b["party"], "released": paid}


def _months_between(earlier: str, later: str) -> int:
    t0 = datetime.fromisoformat(earlier.replace("Z", "+00:00"))
    t1 = datetime.fromisoformat(later.replace("Z", "+00:00"))
    months = (t1.year - t0.year) * 12 + t1.month - t0.month
    return months - (1 if (t1.day, t1.time()) < (t0.day, t0.time()) else 0)


@applier("credit.expired")
@each_statement
def _apply_expired(conn: Connection, a: Accepted) -> dict[str, Any]:
    b, actor = a.statement.body, a.statement.actor
    row = _row(conn, b["claim"])
    owner = _owner(conn, row.work_id)
    if actor != owner:
        raise PolicyDenied(f"only {owner}, the work's owner, closes claim {row.claim_id}")
    if row.disputed_party is not None:
        raise PolicyDenied(f"{row.claim_id} is a disputed credit: it is settled by confirming it "
                           f"for {row.disputed_party} or {row.claimed_by}, not by expiry")
    if row.confirmed_index is not None or row.released_index is not None:
        raise Conflict(f"claim {row.claim_id} is already closed")
    age = _months_between(row.logged_at, a.time)
    if age < HOLD_MONTHS:
        raise PolicyDenied(f"claim {row.claim_id} has been held {age} months; money for an "
                           f"unclaimed credit is held {HOLD_MONTHS} months before it goes "
                           "elsewhere")
    if b["to"] != owner and not _guild_covers(conn, b["to"], row.role, None):
        raise PolicyDenied(f"{b['to']} is neither the work's owner nor a guild covering "
                           f"{row.role}s; expired suspense goes to one of those")
    paid = _release(conn, row.claim_id, b["to"], a.index)
    conn.execute(update(unmatched_credits).where(unmatched_credits.c.claim_id == row.claim_id)
                 .values(released_to=b["to"], released_index=a.index,
                         released_reason=b["reason"]))
    return {"id": row.claim_id, "claim": row.claim_id, "to": b["to"], "released": paid}


# -- commands -----------------------------------------------------------------------------------
def credit_unmatched(home: Home, ledger: Ledger, work: str, name: str, role: str, share: str,
                     identifiers: list[str] | None = None) -> Receipt:
    with ledger.db.read() as conn:
        w = resolve_work(conn, work)
    body: dict[str, Any] = {"claim": new_id("claim"), "work": w.id, "name": name,
                            "role": role, "share": share}
    if identifiers:
        body["identifiers"] = list(identifiers)
    return submit_as(home, ledger, "credit.unmatched", w.owner_id, body)


def claim_credit(home: Home, ledger: Ledger, claim: str, party: str, evidence: str) -> Receipt:
    with ledger.db.read() as conn:
        _row(conn, claim)
        p = resolve_party(conn, party)
    return submit_as(home, ledger, "credit.claimed", p.id,
                     {"claim": claim, "party": p.id, "evidence": evidence})


def confirm_claim(home: Home, ledger: Ledger, claim: str, by: str | None = None,
                  party: str | None = None) -> Receipt:
    """Confirm the standing claim (or, for a dispute, ``party``: the claimant or the credited
    party), signed by ``by`` (default: the work's owner)."""
    with ledger.db.read() as conn:
        row = _row(conn, claim)
        signer = resolve_party(conn, by).id if by else _owner(conn, row.work_id)
        target = resolve_party(conn, party).id if party else row.claimed_by
    if target is None:
        raise Conflict(f"nobody has claimed {claim} yet; the claimant logs `reelrights credit "
                       "claim` first")
    body = {"claim": claim, "party": target}
    check_body("credit.confirmed", 1, body, signer)
    return submit_as(home, ledger, "credit.confirmed", signer, body)


def dispute_credit(home: Home, ledger: Ledger, work: str, party: str, role: str,
                   claimant: str, reason: str) -> Receipt:
    """``claimant`` disputes ``party``'s ``role`` credit on ``work``, claiming it."""
    with ledger.db.read() as conn:
        w = resolve_work(conn, work)
        p = resolve_party(conn, party)
        c = resolve_party(conn, claimant)
    return submit_as(home, ledger, "credit.disputed", c.id,
                     {"claim": new_id("claim"), "work": w.id, "party": p.id, "role": role,
                      "claimant": c.id, "reason": reason})


def expire_claim(home: Home, ledger: Ledger, claim: str, to: str, reason: str) -> Receipt:
    with ledger.db.read() as conn:
        row = _row(conn, claim)
        target = resolve_party(conn, to).id
        owner = _owner(conn, row.work_id)
    return submit_as(home, ledger, "credit.expired", owner,
                     {"claim": claim, "to": target, "reason": reason})


def list_claims(db: Database, work: str | None = None) -> list[Claim]:
    with db.read() as conn:
        q = select(unmatched_credits).order_by(unmatched_credits.c.log_index)
        if work is not None:
            q = q.where(unmatched_credits.c.work_id == resolve_work(conn, work).id)
        out = []
        for r in conn.execute(q):
            status = ("confirmed" if r.confirmed_index is not None else
                      "expired" if r.released_index is not None else
                      "disputed" if r.disputed_party else
                      "claimed" if r.claimed_by else "unclaimed")
            out.append(Claim(r.claim_id, r.work_id, r.name, r.role, r.share,
                             json.loads(r.identifiers), int(r.log_index), status, r.claimed_by,
                             r.confirmed_party, r.released_to,
                             {c: format_amount(v, c)
                              for c, v in sorted(held(conn, r.claim_id).items())}))
        return out


def released_claims(conn: Connection, party: str, as_of: int) -> list[tuple[str, int, str]]:
    """(claim, release log index, release log time) of claims released to ``party`` before
    ``as_of`` (confirmed for it, or expired to it)."""
    out = []
    for r in conn.execute(select(unmatched_credits).where(
            ((unmatched_credits.c.confirmed_party == party)
             & (unmatched_credits.c.confirmed_index < as_of))
            | ((unmatched_credits.c.released_to == party)
               & (unmatched_credits.c.released_index < as_of)))):
        idx = int(r.confirmed_index if r.confirmed_party == party else r.released_index)
        t = conn.scalar(select(log_entries.c.time).where(log_entries.c.idx == idx))
        out.append((r.claim_id, idx, str(t)))
    return sorted(out, key=lambda x: x[1])

