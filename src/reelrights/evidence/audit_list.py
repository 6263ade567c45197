"""An auditor's work at a glance: its challenges, each with the run, and how it ended (a
certificate with its result, a withdrawal, or still open)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..errors import NotFound
from ..registry.resolve import resolve_party
from ..store.db import Database
from ..store.evidence_tables import (
    audit_certificates,
    audit_challenges,
    audit_withdrawals,
    training_runs,
)

__all__ = ["AuditRecord", "challenge_detail", "list_audits"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    challenge: str
    run: str
    developer: str
    model: str
    samples: int
    challenged_at: str
    log_index: int
    status: str  # open | certified | withdrawn
    certificate: str | None = None
    result: str | None = None
    not_after: str | None = None
    closed_index: int | None = None
    reason: str | None = None
    auditor: str | None = None


def list_audits(db: Database, *, auditor: str | None = None,
                developer: str | None = None, challenge: str | None = None) -> list[AuditRecord]:
    """Challenges (newest first) by ``auditor``, of ``developer``'s runs, or the one named."""
    with db.read() as conn:
        q = (select(audit_challenges, training_runs.c.developer_id, training_runs.c.model)
             .join(training_runs, training_runs.c.id == audit_challenges.c.run_id))
        if auditor:
            q = q.where(audit_challenges.c.auditor_id == resolve_party(conn, auditor).id)
        if developer:
            q = q.where(training_runs.c.developer_id == resolve_party(conn, developer).id)
        if challenge:
            q = q.where(audit_challenges.c.id == challenge)
        rows = conn.execute(q.order_by(audit_challenges.c.log_index.desc())).all()
        ids = [r.id for r in rows]
        certs = {c.challenge_id: c for c in conn.execute(
            select(audit_certificates).where(audit_certificates.c.challenge_id.in_(ids)))}
        gone = {w.challenge_id: w for w in conn.execute(
            select(audit_withdrawals).where(audit_withdrawals.c.challenge_id.in_(ids)))}
    out = []
    for r in rows:
        base = dict(challenge=r.id, run=r.run_id, developer=r.developer_id, model=r.model,
                    samples=int(r.samples), challenged_at=r.challenged_at,
                    log_index=int(r.log_index), auditor=r.auditor_id)
        if r.id in certs:
            c = certs[r.id]
            out.append(AuditRecord(**base, status="certified", certificate=c.id, result=c.result,
                                   not_after=c.not_after, closed_index=int(c.log_index)))
        elif r.id in gone:
            w = gone[r.id]
            out.append(AuditRecord(**base, status="withdrawn", reason=w.reason,
                                   closed_index=int(w.log_index)))
        else:
            out.append(AuditRecord(**base, status="open"))
    return out


def challenge_detail(db: Database, challenge: str) -> AuditRecord:
    """One challenge, its run and how it ended. (Its response is private: the developer sends
    it to the auditor, never to the log; docs/audits.md.)"""
    found = list_audits(db, challenge=challenge)
    if not found:
        raise NotFound(f"no audit challenge {challenge!r}; `reelrights audit show RUN` lists "
                       "the challenges of a run")
    return found[0]
