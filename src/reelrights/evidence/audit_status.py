"""Withdrawn challenges and the audit history of a run.

An auditor closes its open challenge without a certificate by logging ``audit.withdrawn``
(naming the challenge and a reason, signed by the auditor). A withdrawal counts as a FAILED
audit of the run: it is listed as such by ``audit show RUN`` and ``run show``, and, like a later
failing certificate, it supersedes the run's earlier passing certificates (``verify-cert``).
So an auditor cannot quietly drop a challenge whose sample looked bad and draw a new one.

The history is read from the log entries themselves (the projection rows only say where they
are), so a changed row cannot turn a failure into a pass.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ..core.dsse import parse_envelope
from ..core.statements import decode_entry
from ..errors import BadInput, Conflict, LogIntegrityError, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, applier, each_statement
from ..log.database_log import DatabaseLog
from ..registry.submit import submit_as
from ..store.db import Database
from ..store.evidence_tables import audit_certificates, audit_challenges, audit_withdrawals
from .runs import resolve_run, run_detail

__all__ = ["auditors_challenge", "later_failures", "run_audits", "run_show", "withdraw_challenge"]


def auditors_challenge(conn: Connection, body: dict[str, Any], verb: str) -> Any:
    """The logged challenge ``body`` names (``challenge`` of ``run``), refused unless ``body``'s
    ``auditor`` issued it: only that auditor may ``verb`` it (withdraw, certify)."""
    ch = conn.execute(select(audit_challenges).where(audit_challenges.c.id == body["challenge"])
                      ).first()
    if ch is None or ch.run_id != body["run"]:
        raise NotFound(f"challenge {body['challenge']} of run {body['run']} is not logged")
    if ch.auditor_id != body["auditor"]:
        raise PolicyDenied(f"challenge {ch.id} was issued by {ch.auditor_id}; only that auditor "
                           f"may {verb} it")
    return ch


@applier("audit.withdrawn")
@each_statement
def _apply_withdrawal(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    ch = auditors_challenge(conn, b, "withdraw")
    w = conn.execute(select(audit_withdrawals.c.log_index)
                     .where(audit_withdrawals.c.challenge_id == ch.id)).first()
    if w is not None:
        raise Conflict(f"challenge {ch.id} was already withdrawn at log index {w.log_index}")
    c = conn.execute(select(audit_certificates.c.id)
                     .where(audit_certificates.c.challenge_id == ch.id)).first()
    if c is not None:
        raise Conflict(f"challenge {ch.id} is closed: certificate {c.id} answers it, so it "
                       "cannot be withdrawn")
    conn.execute(audit_withdrawals.insert().values(
        challenge_id=ch.id, run_id=ch.run_id, auditor_id=ch.auditor_id, reason=b["reason"],
        log_index=a.index, withdrawn_at=a.time))
    return {"challenge": ch.id, "run": ch.run_id, "result": "fail"}


def withdraw_challenge(home: Home, ledger: Ledger, challenge: str,
                       reason: str) -> dict[str, Any]:
    """Log the withdrawal of ``challenge`` by its auditor (whose key is in this home)."""
    reason = reason.strip()
    if not reason:
        raise BadInput("--reason must say why the challenge is withdrawn")
    with ledger.db.read() as conn:
        ch = conn.execute(select(audit_challenges).where(audit_challenges.c.id == challenge)
                          ).first()
    if ch is None:
        raise NotFound(f"no audit challenge {challenge!r}; `reelrights audit show RUN` lists a "
                       "run's challenges")
    body = {"challenge": ch.id, "run": ch.run_id, "auditor": ch.auditor_id, "reason": reason}
    receipt = submit_as(home, ledger, "audit.withdrawn", ch.auditor_id, body)
    return {"id": ch.id, "challenge": ch.id, "run": ch.run_id, "auditor": ch.auditor_id,
            "log_index": receipt.index, "result": "fail", "reason": reason}


def _logged(conn: Connection, log: DatabaseLog, index: int, type_: str) -> Any:
    entry = decode_entry(log.entry(conn, index))
    if entry.type != type_:
        raise LogIntegrityError(f"log index {index} is {entry.type}, not the {type_} the "
                                "registry's tables point to; run `reelrights log verify`")
    return entry


def _certificate_result(conn: Connection, log: DatabaseLog, index: int) -> tuple[str | None, Any]:
    """(certificate id, result) from the signed envelope in the log entry at ``index``."""
    entry = _logged(conn, log, index, "audit.certified")
    predicate = parse_envelope(entry.body["envelope"]).payload_json().get("predicate") or {}
    return predicate.get("id"), predicate.get("result")


def later_failures(conn: Connection, log: DatabaseLog, run_id: str,
                   after: int) -> list[dict[str, Any]]:
    """Failed audits of ``run_id`` logged after index ``after``: failing certificates and
    withdrawn challenges, judged from the signed entries (the tables only locate them)."""
    out = []
    for r in conn.execute(select(audit_certificates.c.log_index)
                          .where(audit_certificates.c.run_id == run_id,
                                 audit_certificates.c.log_index > after)):
        cert_id, result = _certificate_result(conn, log, int(r.log_index))
        if result != "pass":
            out.append({"kind": "certificate", "id": cert_id, "log_index": int(r.log_index)})
    for r in conn.execute(select(audit_withdrawals.c.log_index)
                          .where(audit_withdrawals.c.run_id == run_id,
                                 audit_withdrawals.c.log_index > after)):
        body = _logged(conn, log, int(r.log_index), "audit.withdrawn").body
        if body["run"] == run_id:
            out.append({"kind": "withdrawal", "id": body["challenge"],
                        "log_index": int(r.log_index)})
    return sorted(out, key=lambda f: f["log_index"])


def run_show(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    """What ``run show --json`` prints: the run's public record (:func:`.runs.run_detail`) and
    every audit of it with how it ended."""
    d = run_detail(db, ref).to_json()
    with db.read() as conn:
        d["audits"] = run_audits(conn, log, d["id"])["audits"]
    return d


def run_audits(conn: Connection, log: DatabaseLog, ref: str) -> dict[str, Any]:
    """Every challenge of a run and how it ended (open, certified pass/fail, withdrawn =
    failed), from the log entries."""
    run = resolve_run(conn, ref)
    audits = []
    for ch in conn.execute(select(audit_challenges).where(audit_challenges.c.run_id == run.id)
                           .order_by(audit_challenges.c.log_index)):
        item: dict[str, Any] = {"challenge": ch.id, "auditor": ch.auditor_id,
                                "log_index": int(ch.log_index), "samples": int(ch.samples),
                                "status": "open", "result": None}
        certs = conn.execute(select(audit_certificates.c.log_index)
                             .where(audit_certificates.c.challenge_id == ch.id)
                             .order_by(audit_certificates.c.log_index)).all()
        for c in certs:
            cert_id, result = _certificate_result(conn, log, int(c.log_index))
            item.update(status="certified", result=result, certificate=cert_id,
                        closed_index=int(c.log_index))
        w = conn.execute(select(audit_withdrawals.c.log_index)
                         .where(audit_withdrawals.c.challenge_id == ch.id)).first()
        if w is not None:
            body = _logged(conn, log, int(w.log_index), "audit.withdrawn").body
            item.update(status="withdrawn", result="fail", reason=body["reason"],
                        closed_index=int(w.log_index))
        audits.append(item)
    return {"run": run.id, "audits": audits,
            "failed": sum(1 for a in audits if a["result"] == "fail"),
            "passed": sum(1 for a in audits if a["result"] == "pass"),
            "open": sum(1 for a in audits if a["status"] == "open")}
