"""Credits: a work's owner credits a party in a role with a share (``work credit``).

The applier enforces what a signature cannot: only a work's owner credits it, the credited
party is registered, a party holds one credit per role, and the shares of a role add up to at
most 1.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, select

from ..core.schema import parse_ratio
from ..errors import Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..store.fund_tables import unmatched_credits
from ..store.tables import credits, parties, works
from .resolve import resolve_party, resolve_work
from .submit import sign_and_submit, signing_key

__all__ = ["credit_work"]


# ---------------------------------------------------------------------------------------------
# The applier: statements -> rows (inside the ledger's transaction)
# ---------------------------------------------------------------------------------------------

@applier("work.credited")
@each_statement
def _apply_credit(conn: Connection, a: Accepted) -> dict[str, Any]:
    b, actor = a.statement.body, a.statement.actor
    work = conn.execute(select(works.c.id, works.c.owner_id, works.c.title)
                        .where(works.c.id == b["work"])).first()
    if work is None:
        raise NotFound(f"work {b['work']} is not registered; check the id with "
                       "`reelrights work list`")
    if work.owner_id != actor:
        raise PolicyDenied(f"only the owner of {work.id} ({work.owner_id}) may credit it, not "
                           f"{actor}; sign with the owner's key")
    if conn.execute(select(parties.c.id).where(parties.c.id == b["party"])).first() is None:
        raise NotFound(f"party {b['party']} is not registered; register it first with "
                       "`reelrights party add`")
    shares = conn.execute(select(credits.c.party_id, credits.c.share).where(
        credits.c.work_id == b["work"], credits.c.role == b["role"])).all()
    if any(r.party_id == b["party"] for r in shares):
        raise Conflict(f"{b['party']} is already credited as {b['role']} on {b['work']}; each "
                       "party has one credit per role")
    total = sum((parse_ratio(r.share) for r in shares), Fraction(0))
    total += sum((parse_ratio(x) for x in conn.scalars(select(unmatched_credits.c.share).where(
        unmatched_credits.c.work_id == b["work"], unmatched_credits.c.role == b["role"]))),
        Fraction(0))  # credits for contributors with no party yet (credit.unmatched)
    new = parse_ratio(b["share"])
    if total + new > 1:
        left = (f"{_fmt(1 - total)} is left, so pass --share {_fmt(1 - total)} or less"
                if total < 1 else "the role is fully allocated")
        raise Conflict(f"{b['role']} shares on {b['work']} would total {_fmt(total + new)}, "
                       f"over 1; {left}")
    conn.execute(credits.insert().values(work_id=b["work"], party_id=b["party"],
                                         role=b["role"], share=b["share"], log_index=a.index))
    return {"work": b["work"], "party": b["party"], "role": b["role"], "share": b["share"],
            "role_total": _fmt(total + new)}


# ---------------------------------------------------------------------------------------------
# The command: what a work's owner runs (sign with its key, submit)
# ---------------------------------------------------------------------------------------------

def credit_work(home: Home, ledger: Ledger, work: str, party: str, role: str,
                share: str) -> Receipt:
    with ledger.db.read() as conn:
        work_row = resolve_work(conn, work)
        party_row = resolve_party(conn, party)
    body = {"work": work_row.id, "party": party_row.id, "role": role, "share": share}
    return sign_and_submit(ledger, signing_key(home, ledger, work_row.owner_id), "work.credited",
                           work_row.owner_id, body)


def _fmt(x: Fraction) -> str:
    """``x`` as ``--share`` accepts it: an integer, a decimal of at most 12 places, or n/d.

    (``str(float(x))`` would print 1e-12, which no share parser takes.)
    """
    if x.denominator == 1:
        return str(x.numerator)
    for places in range(1, 13):
        scaled = abs(x) * 10**places
        if scaled.denominator == 1:
            whole, frac = divmod(scaled.numerator, 10**places)
            return f"{'-' if x < 0 else ''}{whole}.{frac:0{places}d}"
    return f"{x.numerator}/{x.denominator}"
