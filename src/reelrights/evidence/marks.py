""""Affected by" marks: late facts logged beside verdicts already logged.

A dispute over an asset that a certified run used, or a performer's death dated before a run
that relied on the performer's consent, does not change a signed verdict (a certificate stands
as logged); the appliers of those facts mark the runs and certificates they touch here, and
``check``, ``audit verify-cert`` and ``run show`` show the marks beside the verdict.

The module reads the run and certificate tables only, so the rights capability (disputes,
consent) can mark runs without importing the evidence commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, or_, select

from ..core.iri import party_iri
from ..core.odrl import parse_policy
from ..store.evidence_tables import audit_certificates, run_usage, training_runs
from ..store.resolve import JsonObject, StoredRow
from ..store.run_tables import affected_marks
from ..store.tables import bundle_assets, consents, licenses
from .records import Mark

if TYPE_CHECKING:
    from ..ledger import Accepted

__all__ = ["affected_by", "find_marks", "record_marks", "runs_relying_on_consent",
           "runs_using_assets"]


def runs_using_assets(conn: Connection, shas: Iterable[str],
                      before_index: int) -> list[tuple[StoredRow, str, str, str]]:
    """(run row, sha256, bundle id, license id) for each run committed before ``before_index``
    whose usage names a bundle holding one of ``shas`` (what a run used is public only per
    bundle and license: its manifest stays with the developer)."""
    wanted = sorted(set(shas))
    if not wanted:
        return []
    rows = conn.execute(
        select(training_runs, bundle_assets.c.sha256, run_usage.c.bundle_id,
               run_usage.c.license_id)
        .join(run_usage, run_usage.c.run_id == training_runs.c.id)
        .join(bundle_assets, bundle_assets.c.bundle_id == run_usage.c.bundle_id)
        .where(bundle_assets.c.sha256.in_(wanted), training_runs.c.log_index < before_index)
        .order_by(training_runs.c.log_index, bundle_assets.c.sha256, run_usage.c.bundle_id,
                  run_usage.c.license_id)).all()
    return [(r, r.sha256, r.bundle_id, r.license_id) for r in rows]


def runs_relying_on_consent(conn: Connection, performer: str, died: str, before_index: int
                            ) -> list[tuple[StoredRow, str | None, str | None, str]]:
    """(run row, bundle id, license id, how) for each run committed before ``before_index``, on
    or after the day ``died``, that relied on ``performer``'s consent: a license it used asks
    for that consent (``obtainConsent``), or a consent the performer gave names the run's
    developer as licensee or its model family."""
    iri = party_iri(performer)
    out: list[tuple[StoredRow, str | None, str | None, str]] = []
    runs = conn.execute(select(training_runs).where(training_runs.c.log_index < before_index,
                                                    training_runs.c.committed_at >= died)
                        .order_by(training_runs.c.log_index)).all()
    for r in runs:
        used = conn.execute(select(run_usage.c.bundle_id, run_usage.c.license_id, licenses.c.policy)
                            .join(licenses, licenses.c.id == run_usage.c.license_id)
                            .where(run_usage.c.run_id == r.id)
                            .order_by(run_usage.c.bundle_id, run_usage.c.license_id)).all()
        hit = False
        for u in used:
            if u.policy == "null":  # sealed terms this registry does not hold
                continue
            policy = parse_policy(json.loads(u.policy))
            duties = [d for rule in policy.permissions for d in rule.duties] + list(
                policy.obligations)
            if any(d.consenting_party == iri for d in duties):
                out.append((r, u.bundle_id, u.license_id,
                            f"license {u.license_id} asks for {performer}'s consent"))
                hit = True
        if hit:
            continue
        consent = conn.execute(select(consents.c.id).where(
            consents.c.performer_id == performer, consents.c.log_index < r.log_index,
            or_(consents.c.licensee_id == r.developer_id,
                consents.c.model_family == r.model_family))
            .order_by(consents.c.log_index)).first()
        if consent is not None:
            out.append((r, None, None, f"consent {consent.id} of {performer} covers the run's "
                                       "developer or model family"))
    return out


def record_marks(conn: Connection, a: Accepted, kind: str, fact: str,
                 targets: list[dict[str, Any]]) -> int:
    """Mark each target run, and its certificates logged before ``a``, as affected by the late
    fact ``a`` (``kind`` dispute or death, ``fact`` the dispute id or the performer). Each
    target: ``run`` (a training_runs row), ``reason``, and optionally ``asset``, ``bundle``,
    ``license``. Returns the number of marks written."""
    if not targets:
        return 0
    seq = int(conn.scalar(select(func.count()).select_from(affected_marks)
                          .where(affected_marks.c.log_index == a.index)) or 0)
    rows = []
    certs: dict[str, Sequence[StoredRow]] = {}
    for t in targets:
        run = t["run"]
        if run.id not in certs:
            certs[run.id] = conn.execute(
                select(audit_certificates.c.id, audit_certificates.c.log_index)
                .where(audit_certificates.c.run_id == run.id,
                       audit_certificates.c.log_index < a.index)
                .order_by(audit_certificates.c.log_index)).all()
        subjects = [(run.id, "run")] + [(c.id, "certificate") for c in certs[run.id]]
        for subject, subject_kind in subjects:
            rows.append({"log_index": a.index, "seq": seq, "subject": subject,
                         "subject_kind": subject_kind, "run_id": run.id, "kind": kind,
                         "fact": fact, "statement_id": a.statement.id,
                         "statement_type": a.statement.type, "asset": t.get("asset"),
                         "bundle_id": t.get("bundle"), "license_id": t.get("license"),
                         "reason": t["reason"], "marked_at": a.time})
            seq += 1
    conn.execute(affected_marks.insert(), rows)
    return len(rows)


def affected_by(conn: Connection, *, subjects: Iterable[str] = (), runs: Iterable[str] = (),
                assets: Iterable[str] = (), bundles_: Iterable[str] = (),
                licenses_: Iterable[str] = (), kind: str | None = None) -> list[JsonObject]:
    """:func:`find_marks` as JSON (what ``check`` and ``audit verify-cert`` print)."""
    return [m.to_json() for m in find_marks(conn, subjects=subjects, runs=runs, assets=assets,
                                            bundles_=bundles_, licenses_=licenses_, kind=kind)]


def find_marks(conn: Connection, *, subjects: Iterable[str] = (), runs: Iterable[str] = (),
               assets: Iterable[str] = (), bundles_: Iterable[str] = (),
               licenses_: Iterable[str] = (), kind: str | None = None) -> list[Mark]:
    """The "affected by" marks on these subjects (certificate or run ids), on these runs (the
    run's own marks), or reached through these assets, bundles or licenses, in log order."""
    conds = []
    for column, values in ((affected_marks.c.subject, subjects), (affected_marks.c.asset, assets),
                           (affected_marks.c.bundle_id, bundles_),
                           (affected_marks.c.license_id, licenses_)):
        values = sorted(set(values))
        if values:
            conds.append(column.in_(values))
    run_ids = sorted(set(runs))
    if run_ids:
        conds.append(affected_marks.c.subject.in_(run_ids))
    if not conds:
        return []
    q = select(affected_marks).where(or_(*conds))
    if kind is not None:
        q = q.where(affected_marks.c.subject_kind == kind)
    return [Mark.from_row(m) for m in conn.execute(q.order_by(affected_marks.c.log_index,
                                                              affected_marks.c.seq))]
