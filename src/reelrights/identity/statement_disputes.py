"""Disputed statements: a party disowns statements logged in its name (a stolen key).

A revocation takes effect at its own log position, never earlier (docs/keys.md): statements
signed before it stay valid in the log, and ``log verify`` still passes. The party marks the
ones it disowns with ``statement.disputed``; ``check`` shows the dispute beside every fact it
relies on that is disputed, until a counterparty (a party the disputed statement names) or the
operator resolves it (``statement.dispute.resolved``, ``statement.dispute.decided``), or the
party withdraws it. Not to be mixed up with ownership disputes over assets (rights/disputes.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, update

from ..core.statements import decode_entry
from ..errors import BadInput, Conflict, NotFound
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as, submit_as_operator
from ..store.db import Database
from ..store.key_tables import statement_disputes
from ..store.tables import (
    bundle_works,
    bundles,
    consents,
    license_cosigns,
    licenses,
    log_entries,
    work_assets,
    works,
)

__all__ = ["dispute_statements", "disputes_over", "disputes_relied_on", "list_statement_disputes",
           "resolve_dispute"]


# ---------------------------------------------------------------------------------------------
# The appliers
# ---------------------------------------------------------------------------------------------

@applier("statement.disputed")
@each_statement
def _apply_disputed(conn: Connection, a: Accepted) -> dict[str, Any]:
    s, b = a.statement, a.statement.body
    wanted = [e["index"] for e in b["entries"]]
    found = {int(r.idx): r for r in conn.execute(
        select(log_entries.c.idx, log_entries.c.actor, log_entries.c.type,
               log_entries.c.statement_id).where(log_entries.c.idx.in_(wanted)))}
    open_ = set(conn.scalars(select(statement_disputes.c.entry_index).where(
        statement_disputes.c.entry_index.in_(wanted), statement_disputes.c.status == "open",
        statement_disputes.c.party_id == s.actor)))
    rows = []
    for e in b["entries"]:
        idx = e["index"]
        r = found.get(idx)
        if r is None or idx >= a.index:
            raise Conflict(f"log index {idx} holds no earlier statement to dispute")
        if r.actor != s.actor:
            raise Conflict(f"the statement at log index {idx} was logged in the name of "
                           f"{r.actor}, not {s.actor}: a party disputes only statements made "
                           "in its own name")
        if "id" in e and e["id"] != r.statement_id:
            raise Conflict(f"log index {idx} holds statement {r.statement_id}, not {e['id']}")
        if idx in open_:
            raise Conflict(f"the statement at log index {idx} is already under an open "
                           f"dispute by {s.actor}")
        if r.type.startswith("statement.dispute"):
            raise Conflict(f"log index {idx} is itself a dispute statement; withdraw it instead")
        rows.append({"dispute_id": s.id, "entry_index": idx, "entry_statement_id": r.statement_id,
                     "entry_type": r.type, "party_id": s.actor, "log_index": a.index,
                     "opened_at": a.time, "reason": b["reason"], "status": "open"})
    conn.execute(statement_disputes.insert(), rows)
    return {"id": s.id, "entries": len(rows)}


def _close(conn: Connection, a: Accepted, dispute: str, outcome: str) -> dict[str, Any]:
    conn.execute(update(statement_disputes).where(statement_disputes.c.dispute_id == dispute)
                 .values(status=outcome, closed_index=a.index, closed_at=a.time,
                         closed_by=a.statement.actor, close_reason=a.statement.body["reason"]))
    return {"id": dispute, "outcome": outcome}


def _open_rows(conn: Connection, dispute: str) -> list[Any]:
    rows = list(conn.execute(select(statement_disputes).where(
        statement_disputes.c.dispute_id == dispute)))
    if not rows:
        raise NotFound(f"no statement dispute {dispute}; `reelrights statement disputes` "
                       "lists them")
    if rows[0].status != "open":
        raise Conflict(f"statement dispute {dispute} is closed already ({rows[0].status}, log "
                       f"index {rows[0].closed_index})")
    return rows


@applier("statement.dispute.resolved")
@each_statement
def _apply_resolved(conn: Connection, a: Accepted) -> dict[str, Any]:
    s, b = a.statement, a.statement.body
    rows = _open_rows(conn, b["dispute"])
    disputant = rows[0].party_id
    if s.actor == disputant:
        if b["outcome"] != "withdrawn":
            raise Conflict("the disputing party only withdraws its dispute; a counterparty or "
                           "the operator upholds or rejects it")
    else:
        if b["outcome"] == "withdrawn":
            raise Conflict("only the disputing party withdraws a dispute")
        if s.actor not in counterparties(conn, [int(r.entry_index) for r in rows]):
            raise Conflict(f"{s.actor} is not named in the disputed statements: only a "
                           "counterparty (or the operator) resolves a statement dispute")
    return _close(conn, a, b["dispute"], b["outcome"])


@applier("statement.dispute.decided")
@each_statement
def _apply_decided(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    _open_rows(conn, b["dispute"])
    return _close(conn, a, b["dispute"], b["outcome"])


def counterparties(conn: Connection, indexes: list[int]) -> set[str]:
    """Every party id named in the bodies of the entries at ``indexes`` (but their actors)."""
    out: set[str] = set()
    for entry, actor in conn.execute(select(log_entries.c.entry, log_entries.c.actor)
                                     .where(log_entries.c.idx.in_(indexes))):
        out |= {v for v in _strings(decode_entry(bytes(entry)).body)
                if v.startswith("pty_") and v != actor}
    return out


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

def dispute_statements(home: Home, ledger: Ledger, party: str, indexes: list[int],
                       reason: str) -> Receipt:
    """Log that ``party`` disowns the statements at ``indexes`` (logged in its name)."""
    if not indexes:
        raise BadInput("name at least one log index to dispute")
    with ledger.db.read() as conn:
        pid = resolve_party(conn, party).id
        ids = dict(conn.execute(select(log_entries.c.idx, log_entries.c.statement_id)
                                .where(log_entries.c.idx.in_(indexes))).all())
    entries = [{"index": i, **({"id": ids[i]} if ids.get(i) else {})} for i in indexes]
    return submit_as(home, ledger, "statement.disputed", pid,
                     {"party": pid, "entries": entries, "reason": reason})


def resolve_dispute(home: Home, ledger: Ledger, dispute: str, outcome: str, reason: str,
                    as_party: str | None = None) -> Receipt:
    """Close a statement dispute: as ``as_party`` (the disputant withdraws; a counterparty
    upholds or rejects), or as the operator when ``as_party`` is None."""
    body = {"dispute": dispute, "outcome": outcome, "reason": reason}
    if as_party is None:
        return submit_as_operator(home, ledger, "statement.dispute.decided", body)
    with ledger.db.read() as conn:
        pid = resolve_party(conn, as_party).id
    return submit_as(home, ledger, "statement.dispute.resolved", pid, body)


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def _row(r: Any) -> dict[str, Any]:
    return {"id": r.dispute_id, "dispute": r.dispute_id, "party": r.party_id, "entry_index": int(r.entry_index),
            "entry_statement": r.entry_statement_id, "entry_type": r.entry_type,
            "log_index": int(r.log_index), "opened_at": r.opened_at, "reason": r.reason,
            "status": r.status, "closed_index": r.closed_index, "closed_at": r.closed_at,
            "closed_by": r.closed_by, "close_reason": r.close_reason}


def list_statement_disputes(db: Database, party: str | None = None) -> list[dict[str, Any]]:
    """Every disputed entry (one row per entry of each dispute), or ``party``'s."""
    with db.read() as conn:
        q = select(statement_disputes).order_by(statement_disputes.c.log_index,
                                                statement_disputes.c.entry_index)
        if party:
            q = q.where(statement_disputes.c.party_id == resolve_party(conn, party).id)
        return [_row(r) for r in conn.execute(q)]


def disputes_over(conn: Connection, indexes: Iterable[int]) -> list[dict[str, Any]]:
    """The disputes that stand (open or upheld) over the entries at ``indexes``: what ``check``
    shows beside the facts it relied on."""
    wanted = sorted(set(indexes))
    out = []
    for k in range(0, len(wanted), 500):
        out += [_row(r) for r in conn.execute(select(statement_disputes).where(
            statement_disputes.c.entry_index.in_(wanted[k:k + 500]),
            statement_disputes.c.status.in_(("open", "upheld"))))]
    return sorted(out, key=lambda d: (d["entry_index"], d["log_index"]))




def disputes_relied_on(conn: Connection, *, license_id: str | None, consent_id: str | None,
                       shas: Iterable[str], bundle_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The standing statement disputes over the facts a ``check`` verdict relied on: the
    license it names and its co-signatures, the consent, the works holding the item's assets
    (or in its bundles) and the bundles."""
    shas, bundle_ids = list(shas), list(bundle_ids)
    if not conn.execute(select(statement_disputes.c.entry_index).limit(1)).first():
        return []  # none at all: the common case, one indexed read
    idx: set[int] = set()
    if license_id is not None:
        idx |= set(conn.scalars(select(licenses.c.log_index).where(licenses.c.id == license_id)))
        idx |= set(conn.scalars(select(license_cosigns.c.log_index)
                                .where(license_cosigns.c.license_id == license_id)))
    if consent_id is not None:
        idx |= set(conn.scalars(select(consents.c.log_index).where(consents.c.id == consent_id)))
    work_ids: set[str] = set()
    for k in range(0, len(shas), 500):
        work_ids |= set(conn.scalars(select(work_assets.c.work_id)
                                     .where(work_assets.c.sha256.in_(shas[k:k + 500]))))
    if bundle_ids:
        idx |= set(conn.scalars(select(bundles.c.log_index).where(bundles.c.id.in_(bundle_ids))))
        work_ids |= set(conn.scalars(select(bundle_works.c.work_id)
                                     .where(bundle_works.c.bundle_id.in_(bundle_ids))))
    wanted = sorted(work_ids)
    for k in range(0, len(wanted), 500):
        idx |= set(conn.scalars(select(works.c.log_index)
                                .where(works.c.id.in_(wanted[k:k + 500]))))
    return disputes_over(conn, (int(i) for i in idx))
