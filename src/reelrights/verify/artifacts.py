"""What each artifact's verifier checks, beyond "included and signed" (:mod:`.entries`).

Every function takes a :class:`~reelrights.verify.entries.VerifiedProof` (its entries are
already proven in a signed checkpoint and signed by their actors) and returns the list of checks
it made; it raises VerificationError naming the first that fails. Completeness is the one thing
a proof cannot show: that no later statement (a revocation, a failing certificate) exists. A
verifier says so in its checks; a monitor, or ``--server``, scans the log for it. No I/O.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from ..core.canonical import canonical_bytes
from ..core.dsse import check_intoto_statement, parse_envelope, verify_envelope
from ..core.statements import key_id_for, parse_time
from ..errors import BadInput, ReelrightsError, VerificationError
from .entries import VerifiedEntry, VerifiedProof
from .keys import KeyBook, key_at
from .seeds import verify_challenge_seed

__all__ = ["certificate_digest", "verify_certificate", "verify_fund_statement",
           "verify_license", "verify_output_record", "verify_run_usage", "verify_subject"]

CERTIFICATE_PREDICATE = "https://reelrights.dev/audit/certificate/v1"
_COMPLETENESS = ("not shown by a proof: that nothing later in the log changes this (run "
                 "`reelrights monitor` or verify with --server for that)")


def _fail(what: str) -> VerificationError:
    return VerificationError(what)


def _one(vp: VerifiedProof, type_name: str, what: str, **body: object) -> VerifiedEntry:
    found = vp.of_type(type_name, **body)
    if not found:
        names = ", ".join(f"{k}={v}" for k, v in body.items())
        raise _fail(f"{what}: the proof carries no {type_name} statement ({names})")
    return found[0]


def _signed_by(e: VerifiedEntry, field: str) -> None:
    if e.body.get(field) != e.statement.actor:
        raise _fail(f"{e.where()}: signed by {e.statement.actor}, but its {field} is "
                    f"{e.body.get(field)}")


def _kind(vp: VerifiedProof, party: str, kind: str, what: str) -> None:
    got = vp.key_kind(party)
    if got != kind:
        raise _fail(f"{what}: {party} registered as {got or 'unknown'}, not as {kind}")


def verify_license(vp: VerifiedProof) -> list[str]:
    """A license's history as the proof carries it: the grant signed by the licensor, each
    co-signature by a required guild, each revocation by the licensor; its status from them."""
    s = vp.subject
    lic = s.body.get("id") if s.type == "license.granted" else s.body.get("license")
    if type(lic) is not str:
        raise _fail(f"{s.where()} is not about a license")
    grant = _one(vp, "license.granted", "license", id=lic)
    _signed_by(grant, "licensor")
    checks = [f"license {lic} granted by {grant.body['licensor']} to {grant.body['licensee']} "
              f"on bundle {grant.body['bundle']} (entry {grant.index})"]
    required = set(grant.body.get("required_cosigners", []))
    cosigned = set()
    for c in vp.of_type("license.cosigned", license=lic):
        _signed_by(c, "guild")
        if c.body["guild"] not in required:
            raise _fail(f"{c.where()}: guild {c.body['guild']} is not a required co-signer of "
                        f"{lic}")
        if c.index < grant.index:
            raise _fail(f"{c.where()}: co-signed before the grant")
        cosigned.add(c.body["guild"])
        checks.append(f"co-signed by guild {c.body['guild']} (entry {c.index})")
    revoked = vp.of_type("license.revoked", license=lic)
    for r in revoked:
        if r.statement.actor != grant.body["licensor"]:
            raise _fail(f"{r.where()}: revoked by {r.statement.actor}, not the licensor")
        checks.append(f"revoked by the licensor at log time {r.statement.log_time} (entry "
                      f"{r.index})")
    missing = sorted(required - cosigned)
    status = ("revoked" if revoked else "awaiting co-signature of " + ", ".join(missing)
              if missing else "active")
    checks.append(f"status as shown: {status}; {_COMPLETENESS}")
    return checks


def certificate_digest(envelope: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the JCS form of a certificate's DSSE envelope (as a manifest names it)."""
    return "sha256:" + hashlib.sha256(canonical_bytes(parse_envelope(envelope).to_json())
                                      ).hexdigest()


def verify_certificate(vp: VerifiedProof, *, cert_id: str | None = None,
                       envelope: dict[str, Any] | None = None, now: datetime | None = None,
                       require_pass: bool = True) -> list[str]:
    """An audit certificate: its ``audit.certified`` entry signed by a registered auditor, the
    DSSE envelope in it signed by that auditor's key and agreeing with the entry, the subject
    equal to the run commitment's root (a related ``run.committed``), valid at ``now``, and
    (``require_pass``) its signed result pass. ``envelope``, a copy handed out, must equal the
    logged one."""
    now = now or datetime.now(UTC)
    kw = {"id": cert_id} if cert_id else {}
    e = _one(vp, "audit.certified", "certificate", **kw)
    b = e.body
    _signed_by(e, "auditor")
    _kind(vp, b["auditor"], "auditor", e.where())
    book = KeyBook(b"")
    for r in vp.all():
        book.learn(r.index, r.statement)
    key = key_at(book, b["auditor"], e.index)[0]
    try:
        env = parse_envelope(b["envelope"])
        verify_envelope(env, {key_id_for(key): key})
        stmt = check_intoto_statement(env.payload_json(), CERTIFICATE_PREDICATE)
    except ReelrightsError as exc:
        raise _fail(f"certificate {b['id']}: its DSSE envelope ({exc.message})") from None
    checks = [f"certificate {b['id']}: DSSE signature verifies under auditor {b['auditor']}'s "
              f"key {key_id_for(key)}; logged at entry {e.index}"]
    if envelope is not None:
        try:
            same = canonical_bytes(parse_envelope(envelope).to_json()) == \
                canonical_bytes(env.to_json())
        except BadInput:
            same = False
        if not same:
            raise _fail(f"certificate {b['id']}: this copy of the envelope differs from the "
                        "logged one (altered)")
        checks.append("the certificate file is the logged envelope")
    p = stmt.get("predicate") or {}
    subject = stmt.get("subject") or [{}]
    signed = {"id": p.get("id"), "run": (p.get("run") or {}).get("id"),
              "result": p.get("result"), "auditor": p.get("auditor"),
              "not_before": (p.get("validity") or {}).get("notBefore"),
              "not_after": (p.get("validity") or {}).get("notAfter")}
    bad = [k for k, v in signed.items() if b.get(k) != v]
    if bad or len(subject) != 1 or subject[0].get("name") != b["run"]:
        raise _fail(f"certificate {b['id']}: the signed statement and the log entry differ in "
                    f"{', '.join(bad) or 'subject'}")
    root = (subject[0].get("digest") or {}).get("sha256")
    run = _one(vp, "run.committed", f"certificate {b['id']}'s run", id=b["run"])
    if run.body["root"] != root:
        raise _fail(f"certificate {b['id']}: its subject digest {str(root)[:16]}… is not run "
                    f"{b['run']}'s committed root {run.body['root'][:16]}…")
    _signed_by(run, "developer")
    checks.append(f"subject is run {b['run']}'s commitment (entry {run.index}, root "
                  f"{root[:16]}…, developer {run.body['developer']})")
    found = p.get("challenge")
    challenge: dict[str, Any] = found if isinstance(found, dict) else {}
    if challenge.get("id") != b.get("challenge"):
        raise _fail(f"certificate {b['id']}: the signed statement names challenge "
                    f"{challenge.get('id')}, the log entry {b.get('challenge')}")
    checks.extend(verify_challenge_seed(vp, challenge, p.get("sample_size")))
    nb, na = parse_time(b["not_before"], "not_before"), parse_time(b["not_after"], "not_after")
    if not nb <= now <= na:
        raise _fail(f"certificate {b['id']}: valid from {b['not_before']} to {b['not_after']}, "
                    f"not at {now.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    checks.append(f"valid from {b['not_before']} to {b['not_after']}")
    if require_pass and b["result"] != "pass":
        raise _fail(f"certificate {b['id']}: authentic, but its signed result is fail")
    checks.append(f"signed result {b['result']}; superseded by a later failing audit? "
                  + _COMPLETENESS)
    return checks


def verify_output_record(vp: VerifiedProof, *, claim: dict[str, Any] | None = None,
                         now: datetime | None = None) -> list[str]:
    """An output's provenance chain: the ``output.registered`` record signed by its developer,
    the run it names committed by the same developer, the certificate it names valid and about
    that run; and, with ``claim`` (a C2PA manifest's ``dev.reelrights.training-run``
    assertion), the manifest agreeing with the record."""
    rec = _one(vp, "output.registered", "output")
    b = rec.body
    _signed_by(rec, "developer")
    checks = [f"output {b['id']}: record signed by developer {b['developer']} (entry "
              f"{rec.index})"]
    run = _one(vp, "run.committed", f"output {b['id']}'s run", id=b["run"])
    if run.body["developer"] != b["developer"]:
        raise _fail(f"output {b['id']}: run {b['run']} was committed by "
                    f"{run.body['developer']}, not by the output's developer")
    checks.append(f"run {b['run']} committed by the same developer (entry {run.index})")
    digest = ""
    if "certificate" in b:
        checks += verify_certificate(vp, cert_id=b["certificate"], now=now)
        cert = _one(vp, "audit.certified", "certificate", id=b["certificate"])
        if cert.body["run"] != b["run"]:
            raise _fail(f"output {b['id']}: certificate {b['certificate']} certifies run "
                        f"{cert.body['run']}, not {b['run']}")
        digest = certificate_digest(cert.body["envelope"])
    else:
        checks.append("the output was signed uncertified (no audit certificate)")
    if claim is not None:
        wanted = {"run": b["run"], "run_commitment_root": run.body["root"],
                  "model_commitment": b["model_commitment"],
                  "output_record_log_index": rec.index, "audit_certificate_digest": digest}
        bad = [k for k, v in wanted.items() if claim.get(k) != v]
        if bad:
            raise _fail(f"output {b['id']}: the manifest's training-run assertion differs from "
                        f"the logged record in {', '.join(bad)}")
        checks.append("the manifest's run, run root, model commitment, record index and "
                      "certificate digest agree with the log")
    return checks


def verify_fund_statement(vp: VerifiedProof, document: dict[str, Any] | None = None
                          ) -> list[str]:
    """A royalty statement: its ``fund.statement`` entry signed by the fund; with the document
    (the JSON file's ``document``), its SHA-256, inputs hash, party, period and totals equal
    what was signed. Recomputing it from the revenue reports needs the whole log (``fund
    verify`` on a replica)."""
    e = _one(vp, "fund.statement", "royalty statement")
    b = e.body
    _signed_by(e, "fund")
    checks = [f"statement {b['id']} for {b['party']}, {b['period']}, signed by fund {b['fund']} "
              f"(entry {e.index})"]
    if document is None:
        return checks
    sha = hashlib.sha256(canonical_bytes(document)).hexdigest()
    if sha != b["sha256"]:
        raise _fail(f"statement {b['id']}: the document's SHA-256 {sha[:16]}… is not the signed "
                    f"{b['sha256'][:16]}… (altered)")
    header = document.get("header") or {}
    inputs = hashlib.sha256(canonical_bytes(document.get("inputs"))).hexdigest()
    totals = [{k: s.get(k) for k in ("currency", "earned", "adjustments", "carried_in", "paid",
                                     "carried_forward")} for s in document.get("summary", [])]
    for what, got, want in (("party", header.get("party"), b["party"]),
                            ("period", header.get("period"), b["period"]),
                            ("inputs hash", inputs, b["inputs_sha256"]),
                            ("totals", totals, b["totals"])):
        if got != want:
            raise _fail(f"statement {b['id']}: the document's {what} differs from the signed "
                        "statement")
    checks.append("the document is the signed one (SHA-256, inputs hash, party, period, "
                  "totals)")
    return checks


def verify_run_usage(vp: VerifiedProof) -> list[str]:
    """A run's per-bundle usage: the ``run.committed`` entry signed by its developer, and each
    usage line's license (a related ``license.granted``) granted to that developer on that
    bundle, logged before the run."""
    run = _one(vp, "run.committed", "run")
    b = run.body
    _signed_by(run, "developer")
    checks = [f"run {b['id']} committed by {b['developer']} (entry {run.index}), "
              f"{b['count']} items"]
    for line in b["usage"]:
        lic = _one(vp, "license.granted", f"run {b['id']}'s usage of bundle {line['bundle']}",
                   id=line["license"])
        if lic.body["bundle"] != line["bundle"] or lic.body["licensee"] != b["developer"]:
            raise _fail(f"run {b['id']}: license {line['license']} is for bundle "
                        f"{lic.body['bundle']} and {lic.body['licensee']}, not bundle "
                        f"{line['bundle']} and {b['developer']}")
        if lic.index > run.index:
            raise _fail(f"run {b['id']}: license {line['license']} was logged after the run")
        _signed_by(lic, "licensor")
        used = ", ".join(f"{line[u]} {u}" for u in ("items", "seconds", "frames", "tokens",
                                                     "images") if line.get(u))
        checks.append(f"bundle {line['bundle']} under license {line['license']} (entry "
                      f"{lic.index}): {used or 'nothing'}")
    return checks


_BY_TYPE = {"license.granted": "license", "license.cosigned": "license",
            "license.revoked": "license", "audit.certified": "certificate",
            "output.registered": "output", "fund.statement": "fund statement",
            "run.committed": "run usage"}


def verify_subject(vp: VerifiedProof, *, now: datetime | None = None,
                   document: dict[str, Any] | None = None,
                   envelope: dict[str, Any] | None = None,
                   claim: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """(kind, checks): the verifier the subject's type calls for (a plain statement otherwise)."""
    s = vp.subject
    kind = _BY_TYPE.get(s.type, "statement")
    head = [f"checkpoint {vp.checkpoint.checkpoint.origin} size "
            f"{vp.checkpoint.checkpoint.size} signed by the log key"
            + (f", cosigned by {', '.join(n for n, _ in vp.checkpoint.witnesses)}"
               if vp.checkpoint.witnesses else ""),
            f"{len(vp.all())} entr{'y' if len(vp.all()) == 1 else 'ies'} included and signed "
            f"by their actors; subject {s.where()} at log time {s.statement.log_time}"]
    # What the file itself carries must be what its proof is about: a document, an envelope
    # or a manifest claim is never left unchecked under another entry's proof.
    for given, needs, what in ((document, "fund statement", "a royalty statement document"),
                               (envelope, "certificate", "a certificate envelope"),
                               (claim or None, "output", "an output's manifest claim")):
        if given is not None and kind != needs:
            raise _fail(f"the file carries {what}, but its proof is of {s.where()}, not a "
                        f"{needs}: the proof belongs to another artifact")
    try:
        if kind == "license":
            return kind, head + verify_license(vp)
        if kind == "certificate":
            return kind, head + verify_certificate(vp, cert_id=s.body["id"], envelope=envelope,
                                                   now=now)
        if kind == "output":
            return kind, head + verify_output_record(vp, claim=claim, now=now)
        if kind == "fund statement":
            return kind, head + verify_fund_statement(vp, document)
        if kind == "run usage":
            return kind, head + verify_run_usage(vp)
    except (KeyError, TypeError) as exc:
        raise _fail(f"{s.where()}: a field the check needs is missing or malformed "
                    f"({type(exc).__name__}: {exc})") from None
    return kind, head
