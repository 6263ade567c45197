"""Audit certificates: issue (auditor), log, show and verify (anyone).

A certificate is an in-toto Statement v1 about the run commitment (subject ``{"name": run id,
"digest": {"sha256": committed root}}``, predicate type :data:`PREDICATE_TYPE`) in a DSSE
envelope signed with the auditor's registered Ed25519 key. It is logged as ``audit.certified``
(the registry checks the signature and that the envelope agrees with the body) and written to a
file for distribution. ``verify-cert`` checks, and names the first thing that fails: the DSSE
signature under the auditor's registered key; the log entry that carries it, by an RFC 9162
inclusion proof against the current signed checkpoint; the subject against the logged run
commitment; the validity period; and that no later failing certificate for the same run
supersedes it.

The predicate says how the run's licenses were judged (``run.judged``): ``at_commit`` for a run
committed without ``run.started``, or ``over_interval`` with the log times of its start and
commit (certificates signed before this field existed say nothing, and still verify). A fact
logged after the certificate that would have changed it (a dispute over an asset the run used,
a death dated before the run's commit) never changes the signed verdict: ``verify-cert``
reports the verdict as signed and lists the "affected by" marks beside it.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..core.dsse import (
    INTOTO_PAYLOAD_TYPE,
    Envelope,
    check_intoto_statement,
    intoto_statement,
    parse_envelope,
    sign_envelope,
    statement_payload,
    verify_envelope,
)
from ..core.ids import ID_PATTERNS, new_id
from ..core.sampling import clopper_pearson_upper
from ..core.statements import decode_entry, key_id_for
from ..errors import (
    BadInput,
    Conflict,
    NotFound,
    PolicyDenied,
    ReelrightsError,
    SignatureError,
    VerificationError,
)
from ..home import Home
from ..ledger import Accepted, Ledger, applier, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.db import Database
from ..store.evidence_tables import (
    audit_certificates,
    audit_withdrawals,
    training_runs,
)
from ..store.resolve import StoredRow, find_one, resolve
from ..store.tables import log_entries, parties
from .audit_challenge import Challenge, load_challenge, witnessed_history
from .audit_status import auditors_challenge, later_failures
from .audit_types import Reason, parse_time
from .audit_verify import Finding, check_response, read_response, tally
from .marks import affected_by
from .records import CERTIFICATE, Certificate, SignedCertificate
from .runs import run_judgement

__all__ = ["CRITERIA", "PREDICATE_TYPE", "certify", "load_certificate", "show_certificate",
           "verify_certificate"]

PREDICATE_TYPE = "https://reelrights.dev/audit/certificate/v1"
CRITERIA = {"id": "https://reelrights.dev/audit/criteria/licensed-data", "version": "1",
            "basis": "Fairly Trained Licensed Model (L) data-source test: every training item "
                     "is licensed from its rights holder (with consent and guild co-signature "
                     "where required), the developer's own, public domain, or under an open "
                     "license"}
CONFIDENCE = "0.95"
_MAX_LISTED = 100  # failing indices listed in the certificate (the counts are always complete)


def _fmt(x: float) -> str:
    return f"{x:.6g}" if x else "0"


def _time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _predicate(cert_id: str, ch: Challenge, auditor: str, findings: list[Finding], valid_days: int,
               max_share: Fraction | None, territory: str | None,
               now: datetime, judged: dict[str, Any] | None = None) -> dict[str, Any]:
    counts, failures = tally(findings)
    n = len(findings)
    if ch.full:  # every item seen: the share is known exactly
        upper = failures / n if n else 1.0
        bound = {"method": "exact (full audit)", "upper": _fmt(upper)}
    else:
        upper = clopper_pearson_upper(failures, n, float(CONFIDENCE))
        bound = {"method": "clopper-pearson one-sided", "confidence": CONFIDENCE,
                 "upper": _fmt(upper)}
    passed = failures == 0 if max_share is None else upper <= max_share
    criterion = ("zero failing items in the sample" if max_share is None else
                 f"upper bound on the failing share at most {max_share}")
    return {
        "id": cert_id, "auditor": auditor, "issued": _time(now), "criteria": CRITERIA,
        "scope": {"developer": ch.run.developer_id, "model_family": ch.run.model_family,
                  "model": ch.run.model, **({"territory": territory} if territory else {})},
        "run": {"id": ch.run.id, "log_index": ch.run.log_index, "root": ch.run.root,
                "count": ch.run.count, "committed": ch.run.committed_at, **(judged or {})},
        "method": ch.method, "sample_size": n,
        "challenge": {"id": ch.id, "log_index": ch.log_index, "seed_rule": ch.rule,
                      "checkpoint": ch.checkpoint_json(),
                      **({"seed": ch.seed_record()} if ch.rule != "v1" else {})},
        "findings": {"counts": counts, "failures": failures,
                     "failing_indices": sorted(f.index for f in findings
                                               if f.verdict != "licensed")[:_MAX_LISTED],
                     "inconclusive": [
                         {"index": f.index, "reason": "; ".join(
                             m for c, m in f.reasons if c is Reason.INCONCLUSIVE)}
                         for f in sorted(findings, key=lambda f: f.index)
                         if f.verdict == Reason.INCONCLUSIVE][:_MAX_LISTED]},
        "bound": {**bound, "failures": failures, "sample_size": n},
        "pass_criterion": criterion, "result": "pass" if passed else "fail",
        "validity": {"notBefore": _time(now), "notAfter": _time(now + timedelta(days=valid_days))},
    }


def certify(home: Home, ledger: Ledger, response: Path, auditor: str, *, valid_days: int = 365,
            max_unlicensed_share: str | None = None, territory: str | None = None,
            scan: bool = True, media_root: Path | None = None,
            now: datetime | None = None) -> dict[str, Any]:
    """Verify a response (see :mod:`.audit_verify`), then sign and log the certificate."""
    if not 1 <= valid_days <= 3660:
        raise BadInput(f"--valid-days {valid_days} must be between 1 and 3660")
    share = None
    if max_unlicensed_share is not None:
        try:
            share = Fraction(max_unlicensed_share)
        except (ValueError, ZeroDivisionError):
            share = Fraction(-1)
        if not 0 <= share < 1:
            raise BadInput(f"--max-unlicensed-share {max_unlicensed_share} must be a share in "
                           "[0, 1), e.g. 0.001")
    doc = read_response(response)
    witnessed = witnessed_history(home.path, home.log_vkey())
    with ledger.db.read() as conn:
        if "disclosure" in doc:  # a logged audit response, fetched as its auditor
            from .audit_opened import response_from_disclosure

            doc = response_from_disclosure(doc, home.log_vkey(), conn)
        ch = load_challenge(conn, ledger.log, doc["challenge"], witnessed)
        auditor_id = resolve_party(conn, auditor).id
        if auditor_id != ch.auditor:
            raise PolicyDenied(f"challenge {ch.id} was issued by {ch.auditor}; only that auditor "
                               "may certify its response")
        closed = _closed_by(conn, ch.id, ch.rule)
        if closed:
            raise Conflict(f"challenge {ch.id} is closed ({closed}); challenge the run again")
        findings = check_response(home, conn, ch, doc, territory=territory, scan=scan,
                                  media_root=media_root)
        judged = run_judgement(conn, ch.run)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    cert_id = new_id("certificate")
    territory = territory.upper() if territory else None
    predicate = _predicate(cert_id, ch, auditor_id, findings, valid_days, share, territory, now,
                           judged)
    stmt = intoto_statement([{"name": ch.run.id, "digest": {"sha256": ch.run.root}}],
                            PREDICATE_TYPE, predicate)
    env = sign_envelope(INTOTO_PAYLOAD_TYPE, statement_payload(stmt),
                        home.party_key(auditor_id))
    body = {"id": cert_id, "run": ch.run.id, "challenge": ch.id, "auditor": auditor_id,
            "result": predicate["result"], "not_before": predicate["validity"]["notBefore"],
            "not_after": predicate["validity"]["notAfter"], "envelope": env.to_json()}
    receipt = submit_as(home, ledger, "audit.certified", auditor_id, body)
    return {"certificate": cert_id, "log_index": receipt.index, "result": predicate["result"],
            "bound": predicate["bound"], "counts": predicate["findings"]["counts"],
            "envelope": env.to_json(), "findings": [f.to_json() for f in findings]}


# ---------------------------------------------------------------------------------------------
# The applier: the envelope must be the auditor's, about this run, and agree with the body
# ---------------------------------------------------------------------------------------------

def _statement_of(env: Envelope) -> dict[str, Any]:
    if env.payload_type != INTOTO_PAYLOAD_TYPE:
        raise BadInput(f"payloadType is {env.payload_type!r}, not {INTOTO_PAYLOAD_TYPE}")
    return check_intoto_statement(env.payload_json(), PREDICATE_TYPE)


def _agreement_problem(body: dict[str, Any], stmt: dict[str, Any], run: StoredRow,
                       judged: dict[str, Any] | None = None) -> str | None:
    p = stmt.get("predicate") or {}
    if stmt["subject"] != [{"name": run.id, "digest": {"sha256": run.root}}]:
        return f"its subject is not run {run.id} with the committed root {run.root[:16]}…"
    validity = p.get("validity") or {}
    pairs = [("id", p.get("id"), body["id"]), ("result", p.get("result"), body["result"]),
             ("auditor", p.get("auditor"), body["auditor"]),
             ("challenge", (p.get("challenge") or {}).get("id"), body["challenge"]),
             ("notBefore", validity.get("notBefore"), body["not_before"]),
             ("notAfter", validity.get("notAfter"), body["not_after"])]
    for name, inside, outside in pairs:
        if inside != outside:
            return f"its predicate {name} is {inside!r} but the statement says {outside!r}"
    if body["not_after"] <= body["not_before"]:
        return "its validity period ends before it begins"
    run_value = p.get("run")
    signed_run: dict[str, Any] = run_value if type(run_value) is dict else {}
    if judged is not None and "judged" in signed_run:  # older certificates do not say
        stated = {k: signed_run.get(k) for k in judged}
        if stated != judged or ("over_interval" in signed_run) != ("over_interval" in judged):
            return (f"its predicate says the run's licenses were judged {_judged_words(signed_run)}"
                    f", but the log says {_judged_words(judged)}")
    return None


def _judged_words(j: dict[str, Any]) -> str:
    if j.get("judged") == "over_interval" and type(j.get("over_interval")) is dict:
        span = j["over_interval"]
        return f"over the interval {span.get('from')} to {span.get('to')}"
    return "at commit" if j.get("judged") == "at_commit" else repr(j.get("judged"))


def _closed_by(conn: Connection, challenge: str, rule: str) -> str | None:
    """Why the challenge no longer takes a certificate: withdrawn, or (for challenges under the
    v2 rule: logs from before it may hold several) already certified. None while open."""
    w = conn.execute(select(audit_withdrawals.c.log_index)
                     .where(audit_withdrawals.c.challenge_id == challenge)).first()
    if w is not None:
        return f"withdrawn at log index {w.log_index}"
    if rule != "v1":
        c = conn.execute(select(audit_certificates.c.id, audit_certificates.c.log_index)
                         .where(audit_certificates.c.challenge_id == challenge)).first()
        if c is not None:
            return f"certified by {c.id} at log index {c.log_index}"
    return None


@applier("audit.certified")
@each_statement
def _apply_certificate(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    ch = auditors_challenge(conn, b, "certify")
    if conn.execute(select(audit_certificates.c.id)
                    .where(audit_certificates.c.id == b["id"])).first() is not None:
        raise Conflict(f"certificate {b['id']} already exists")
    closed = _closed_by(conn, ch.id, "v1" if ch.checkpoint_size is not None else "v2")
    if closed:
        raise Conflict(f"challenge {ch.id} is closed ({closed}); a challenge is certified once, "
                       "so challenge the run again")
    training = conn.execute(select(training_runs).where(training_runs.c.id == b["run"])).one()
    key = conn.execute(select(parties.c.public_key).where(parties.c.id == b["auditor"])
                       ).scalar_one()
    try:
        env = parse_envelope(b["envelope"])
        verify_envelope(env, {key_id_for(bytes(key)): bytes(key)})
        problem = _agreement_problem(b, _statement_of(env), training,
                                     run_judgement(conn, training))
    except ReelrightsError as exc:
        raise SignatureError(f"certificate {b['id']}: {exc.message}") from None
    if problem:
        raise BadInput(f"certificate {b['id']} does not match its statement: {problem}")
    conn.execute(audit_certificates.insert().values(
        id=b["id"], run_id=b["run"], challenge_id=b["challenge"], auditor_id=b["auditor"],
        result=b["result"], not_before=b["not_before"], not_after=b["not_after"],
        log_index=a.index, certified_at=a.time))
    return {"id": b["id"], "result": b["result"]}


# ---------------------------------------------------------------------------------------------
# Reading and verifying (anyone)
# ---------------------------------------------------------------------------------------------

def load_certificate(conn: Connection, ref: str
                     ) -> tuple[Envelope, dict[str, Any], Certificate | None]:
    """(envelope, in-toto statement, logged certificate or None) from a certificate id or
    file."""
    if re.fullmatch(ID_PATTERNS["certificate"], ref):
        logged = resolve(conn, CERTIFICATE, ref)
        entry = conn.execute(select(log_entries.c.entry).where(
            log_entries.c.idx == logged.log_index)).scalar_one()
        env = parse_envelope(decode_entry(bytes(entry)).body["envelope"])
    else:
        path = Path(ref)
        try:
            env = parse_envelope(path.read_bytes())
        except FileNotFoundError:
            raise NotFound(f"{ref} is neither a certificate id (crt_…) nor a file") from None
    stmt = _statement_of(env)
    cert_id = (stmt.get("predicate") or {}).get("id")
    return env, stmt, find_one(conn, CERTIFICATE, cert_id) if type(cert_id) is str else None


def show_certificate(db: Database, ref: str) -> SignedCertificate:
    with db.read() as conn:
        env, stmt, row = load_certificate(conn, ref)
    return SignedCertificate(stmt, row.log_index if row else None,
                             tuple(k for k, _ in env.signatures))


def _signed_terms(stmt: dict[str, Any]) -> tuple[str, str, str, datetime, datetime, str]:
    """(certificate id, run id, root, notBefore, notAfter, result) as the auditor signed them;
    VerificationError naming a field that is missing or not a real value."""
    p = stmt.get("predicate") or {}
    subject = stmt.get("subject")
    validity = p.get("validity") or {}
    try:
        subjects: list[Any] = subject if type(subject) is list else [None, None]
        [only] = subjects  # exactly one subject (else ValueError)
        run_id, root = only["name"], only["digest"]["sha256"]
        if type(p.get("id")) is not str or type(run_id) is not str or type(root) is not str:
            raise TypeError
        not_before = parse_time(validity.get("notBefore"), "validity notBefore")
        not_after = parse_time(validity.get("notAfter"), "validity notAfter")
    except (TypeError, KeyError, ValueError) as exc:
        raise VerificationError(f"the signed certificate lacks its id or a single subject "
                                f"(run and root) ({type(exc).__name__})") from None
    except BadInput as exc:
        raise VerificationError(f"the signed certificate's {exc.message}") from None
    if (p.get("run") or {}).get("id") != run_id:
        raise VerificationError(f"the signed certificate's predicate names run "
                                f"{(p.get('run') or {}).get('id')!r} but its subject is {run_id}")
    if p.get("result") not in ("pass", "fail"):
        raise VerificationError(f"the signed certificate's result is {p.get('result')!r}, "
                                "neither pass nor fail")
    return p["id"], run_id, root, not_before, not_after, p["result"]


def _row_disagrees(row: Certificate, cert_id: str, run_id: str,
                   stmt: dict[str, Any]) -> list[str]:
    """Columns of the registry's certificate row that differ from the signed certificate (the
    row is a cache of the log: a difference means it was changed; the signed one counts)."""
    p = stmt["predicate"]
    signed = {"id": cert_id, "run_id": run_id, "result": p["result"],
              "not_before": p["validity"]["notBefore"], "not_after": p["validity"]["notAfter"],
              "auditor_id": p.get("auditor")}
    return [k for k, v in signed.items() if getattr(row, k) != v]


def _proven(ledger: Ledger, trust: Any, index: int) -> Any:
    """The entry at ``index`` with its related entries, verified by the pure verifier with the
    log's public key: the database only hands over the proof, the signed checkpoint decides."""
    from ..proofs import issue_proof
    from ..verify import Verifier

    return Verifier(trust).verify(issue_proof(ledger, index))


def verify_certificate(home: Home, ledger: Ledger, ref: str, *, log_vkey: str | None = None,
                       now: datetime | None = None) -> dict[str, Any]:
    """Every check ``verify-cert`` makes; VerificationError naming the first that fails.

    The evidence is public: the auditor's key, the certificate's log entry and the run's
    commitment are proven in the log's signed checkpoint, opened with the log's public key
    (``log_vkey``, else the home's ``log.vkey``), by :mod:`reelrights.verify`; the registry's
    tables only find their log indices, and later audits of the run (whose results are read
    from their own log entries)."""
    from ..replica.home import public_log_vkey
    from ..verify import LogTrust
    from ..verify.artifacts import verify_certificate as verify_logged

    checks: list[str] = []
    now = now or datetime.now(UTC)
    trust = LogTrust(log_vkey or public_log_vkey(home))
    with ledger.db.read() as conn:
        try:
            env, stmt, row = load_certificate(conn, ref)
        except NotFound:
            raise
        except BadInput as exc:  # a damaged or forged file fails verification
            raise VerificationError(f"{ref} is not a valid certificate: {exc.message}") from None
        p = stmt.get("predicate") or {}
        auditor = p.get("auditor")
        key_index = conn.scalar(select(parties.c.log_index).where(parties.c.id == auditor)) \
            if type(auditor) is str else None
    proven_key = _proven(ledger, trust, int(key_index)) if key_index is not None else None
    if proven_key is None or proven_key.subject.type != "party.registered" or \
            proven_key.subject.body.get("kind") != "auditor":
        raise SignatureError(f"the certificate names signer {auditor!r}, which is not a "
                             "registered auditor; do not rely on it")
    pk = base64.b64decode(proven_key.subject.body["public_key"])
    verify_envelope(env, {key_id_for(pk): pk})
    checks.append(f"DSSE signature verifies under auditor {auditor}'s key {key_id_for(pk)}, "
                  f"registered at log index {proven_key.subject.index} (proven)")
    cert_id, run_id, root, not_before, not_after, result = _signed_terms(stmt)
    if row is None:
        raise VerificationError(f"certificate {cert_id} is not in the log; an unlogged "
                                "certificate is not valid")
    vp = _proven(ledger, trust, int(row.log_index))
    if vp.subject.type != "audit.certified" or vp.subject.body.get("id") != cert_id:
        raise VerificationError(f"the log entry {row.log_index} of {cert_id} is not its "
                                "certificate")
    try:
        # validity and result are judged below, after the later audits, as before
        verify_logged(vp, cert_id=cert_id, envelope=env.to_json(), now=not_before,
                      require_pass=False)
    except VerificationError as exc:
        if "differs from the logged one" in exc.message:
            raise VerificationError(f"the log entry {row.log_index} of {cert_id} carries a "
                                    "different envelope; this copy was altered") from None
        if "subject" in exc.message or "run" in exc.message:
            raise VerificationError(f"the certificate's subject is not run {run_id}'s logged "
                                    f"commitment ({exc.message})") from None
        raise
    cp = vp.checkpoint.checkpoint
    checks.append(f"logged at index {row.log_index}: inclusion proof verifies against the "
                  f"signed checkpoint {cp.origin} size {cp.size}")
    run_entry = vp.of_type("run.committed", id=run_id)[0]
    checks.append(f"subject is run {run_id}'s commitment (log index {run_entry.index}, root "
                  f"{root[:16]}…)")
    with ledger.db.read() as conn:
        later = later_failures(conn, ledger.log, run_id, int(row.log_index))
        stale = _row_disagrees(row, cert_id, run_id, stmt)
        marks = affected_by(conn, subjects=[cert_id])
    span = f"{_time(not_before)} to {_time(not_after)}"
    if not not_before <= now <= not_after:
        raise VerificationError(f"certificate {cert_id} is valid from {span}, not at "
                                f"{_time(now)}; ask for a new audit")
    checks.append(f"valid from {span} (signed)")
    if later:
        what = ("failing certificate" if later[0]["kind"] == "certificate" else
                "withdrawn (failed) challenge")
        raise VerificationError(f"certificate {cert_id} is superseded by the later {what} "
                                f"{later[0]['id']} for run {run_id} (log index "
                                f"{later[0]['log_index']})")
    if result != "pass":
        raise VerificationError(f"certificate {cert_id} is authentic but its signed result is "
                                "fail: the run did not pass the audit")
    checks.append("result pass (signed); not superseded by a later failed audit")
    run_value = p.get("run")
    signed_run: dict[str, Any] = run_value if type(run_value) is dict else {}
    judged = signed_run.get("judged")
    if judged is None:
        checks.append("the certificate does not say how the run's licenses were judged (signed "
                      "before run.started existed)")
    else:
        checks.append(f"the run's licenses were judged {_judged_words(signed_run)} (signed)")
    out = {"certificate": cert_id, "run": run_id, "result": result, "valid": True,
           "not_before": _time(not_before), "not_after": _time(not_after),
           "judged": judged if judged is not None else "unstated",
           **({"over_interval": signed_run["over_interval"]}
              if judged == "over_interval" and "over_interval" in signed_run else {}),
           "checks": checks, "affected_by": marks}
    if stale:
        out["registry_row_differs"] = stale
        checks.append(f"warning: the registry's row for {cert_id} differs from the signed "
                      f"certificate in {', '.join(stale)}; the signed values count (run "
                      "`reelrights log verify`)")
    return out


def write_certificate(path: Path, envelope: dict[str, Any], tlog_proof: str | None = None
                      ) -> None:
    """The distributable file: the DSSE envelope as JSON (any DSSE tool reads it), with its
    offline proof (c2sp.org/tlog-proof text) in ``tlog_proof`` beside the envelope's keys:
    ``reelrights verify FILE --log-key VKEY`` checks it on any machine."""
    if path.exists():
        raise BadInput(f"{path} already exists; choose another -o file or remove it")
    doc = dict(envelope, **({"tlog_proof": tlog_proof} if tlog_proof is not None else {}))
    path.write_text(json.dumps(doc, indent=2) + "\n", "utf-8")


__all__ += ["write_certificate"]
