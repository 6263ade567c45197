"""Output provenance, the checking side: ``reelrights provenance verify`` (anyone).

1. **C2PA.** The manifest is validated against the project's trust anchors: ``Trusted``,
   ``Valid`` (intact, signer not under the anchors), ``Invalid`` (with the failure code: a
   hash or signature fails) or ``NotFound``.
2. **Finding the output record.** With a manifest, through its ``dev.reelrights.training-run``
   assertion (output id and record log index). Without one (stripped by a re-encode, a remux, a
   screenshot of a frame, a text without its sidecar), through the outputs fingerprint index:
   the report says ``recovered by fingerprint`` with the distance.
3. **The chain.** The record's log entry is an ``output.registered`` statement signed with the
   developer's registered key and included (RFC 9162 proof) in the current signed checkpoint;
   the manifest agrees with it (run, run root, model commitment, record index, certificate
   digest, signer certificate issued to that developer by the project CA); the run's
   ``run.committed`` entry is included too; and the audit certificate verifies now (the checks
   of ``audit verify-cert``).

Exit code: 0 when the file is ``Trusted`` (or recovered by fingerprint) and every link holds;
1 for an ``Invalid`` or untrusted manifest, a file nothing matches, or a broken link.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ..core.statements import decode_entry
from ..errors import BadInput, NotFound, ReelrightsError, VerificationError
from ..home import Home
from ..ledger import Ledger
from ..media.c2pa_assertions import TRAINING_RUN_LABEL
from ..media.c2pa_engine import VerifyResult, mime_for, verify_file
from ..store.provenance_tables import outputs
from ..store.resolve import find_many, find_one, resolve
from .output_index import OutputIndex, fingerprint_output, recover
from .provenance import load_model_opening, output_row
from .records import OUTPUT, Output

__all__ = ["anchors_of", "check_model_opening", "row_from_claim", "verify_output"]


def anchors_of(home: Home) -> bytes | None:
    """The project's trust anchors, or None when the home has no CA (nothing is Trusted)."""
    from . import pki

    try:
        return pki.trust_anchors_pem(home)
    except ReelrightsError:
        return None


class _Chain:
    def __init__(self) -> None:
        self.links: list[dict[str, Any]] = []

    def add(self, name: str, ok: bool, detail: str, **extra: Any) -> bool:
        self.links.append({"check": name, "ok": ok, "detail": detail, **extra})
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.links) and all(link["ok"] for link in self.links)


def verify_output(home: Home, ledger: Ledger, path: Path, *,
                  sidecar: Path | None = None) -> dict[str, Any]:
    """The full report (see the module docstring); ``exit_code`` says the verdict."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file; pass the output to verify")
    if sidecar is not None and not Path(sidecar).is_file():
        raise BadInput(f"--sidecar {sidecar}: no such file")
    try:
        mime_for(path)
        c2pa = verify_file(path, anchors=anchors_of(home), sidecar=sidecar)
    except BadInput:  # a format C2PA cannot carry (e.g. a remux to MKV): nothing embedded
        c2pa = VerifyResult("NotFound", explanations=(f"{path.suffix} cannot carry C2PA",))
    report: dict[str, Any] = {
        "file": str(path),
        "c2pa": {"state": c2pa.state, "failure_codes": list(c2pa.failure_codes),
                 "manifest_label": c2pa.manifest_label,
                 "signer": None if c2pa.signer is None else {
                     "common_name": c2pa.signer.common_name, "issuer": c2pa.signer.issuer,
                     "serial_hex": c2pa.signer.serial_hex},
                 "explanations": list(c2pa.explanations)},
        "found_by": None, "output": None, "chain": [], "problems": []}
    chain = _Chain()
    claim: dict[str, Any] | None = None
    with ledger.db.read() as conn:
        row = None
        if c2pa.state in ("Trusted", "Valid", "Invalid"):
            claim = c2pa.assertions.get(TRAINING_RUN_LABEL)
            if c2pa.state != "Trusted":
                report["problems"].append(
                    f"C2PA manifest is {c2pa.state}"
                    + (f" ({', '.join(c2pa.failure_codes)})" if c2pa.failure_codes else ""))
            if isinstance(claim, dict):
                row = row_from_claim(conn, claim)
                report["found_by"] = "manifest" if row is not None else None
                if row is None:
                    report["problems"].append("the manifest names no output record in this "
                                              "registry")
        else:
            prints = fingerprint_output(path)
            rec = recover(conn, OutputIndex(home), prints)
            if rec is None:
                report["problems"].append("no C2PA manifest, and no output record matches the "
                                          "file's fingerprint")
            else:
                row = resolve(conn, OUTPUT, rec.output_id)
                report["found_by"] = "fingerprint"
                report["recovered"] = rec.to_json()
                report["recovered_note"] = (f"recovered by fingerprint ({rec.signal}), distance "
                                            f"{rec.distance:.4g}, {rec.share:.0%} matched")
        if row is not None and c2pa.state != "Invalid":
            _check_chain(home, ledger, conn, row, claim if report["found_by"] == "manifest"
                         else None, c2pa, chain, path)
            signed = _signed_record(ledger, conn, row)
            report["output"] = {"id": row.id, "log_index": row.log_index,
                                "run": signed.get("run"), "developer": signed.get("developer"),
                                "production": signed.get("production"),
                                "certificate": signed.get("certificate"),
                                "media_kind": signed.get("media_kind")}
    report["chain"] = chain.links
    report["problems"] += [f"{link['check']}: {link['detail']}" for link in chain.links
                           if not link["ok"]]
    good_c2pa = c2pa.state == "Trusted" or report["found_by"] == "fingerprint"
    report["verified"] = good_c2pa and chain.ok
    report["exit_code"] = 0 if report["verified"] else 1
    return report


def _signed_record(ledger: Ledger, conn: Connection, row: Output) -> dict[str, Any]:
    """The output record's body as signed in its log entry (empty if the entry is not it)."""
    rec = decode_entry(ledger.log.entry(conn, row.log_index))
    ok = rec.type == "output.registered" and rec.body.get("id") == row.id
    return rec.body if ok else {}


def row_from_claim(conn: Connection, claim: dict[str, Any]) -> Output | None:
    """The output record a manifest's training-run claim names (by id, else by log index)."""
    if isinstance(claim.get("output"), str):
        return find_one(conn, OUTPUT, claim["output"])
    if isinstance(claim.get("output_record_log_index"), int):
        found = find_many(conn, OUTPUT, outputs.c.log_index == claim["output_record_log_index"])
        return found[0] if found else None
    return None


def _check_chain(home: Home, ledger: Ledger, conn: Connection, row: Output,
                 claim: dict[str, Any] | None, c2pa: VerifyResult, chain: _Chain,
                 path: Path) -> None:
    """The links, from public evidence: the record's proof file (its run, its certificate and
    the signers' keys with it) verified by :mod:`reelrights.verify` with the log's public key;
    the registry's row only found the record's log index."""
    from ..evidence.certificates import verify_certificate
    from ..proofs import issue_proof
    from ..replica.home import public_log_vkey
    from ..verify import LogTrust, Verifier
    from ..verify.artifacts import certificate_digest as digest_of
    from . import pki

    # 1. the output record, with everything its chain names, proven in the signed checkpoint
    try:
        vp = Verifier(LogTrust(public_log_vkey(home))).verify(issue_proof(ledger, row.log_index))
        rec = vp.subject
        problem = None if rec.type == "output.registered" and rec.body.get("id") == row.id \
            else f"log entry {row.log_index} is not output {row.id}'s record"
    except ReelrightsError as exc:
        chain.add("output record", False, exc.message, log_index=row.log_index)
        return
    size = vp.checkpoint.checkpoint.size
    chain.add("output record", problem is None, problem or (
        f"{row.id} at log index {row.log_index}, signed by developer {rec.statement.actor}, "
        f"included in checkpoint size {size}"), log_index=row.log_index, checkpoint_size=size)
    if problem:
        return
    # From here on the signed record decides (run, certificate); the outputs row only found it.
    body = rec.body
    runs = vp.of_type("run.committed", id=body.get("run"))
    if not runs or runs[0].body["developer"] != body["developer"]:
        chain.add("run commitment", False, f"the record names run {body.get('run')!r}, which "
                  "is not committed here by its developer")
        return
    run = runs[0]
    cert_id = body.get("certificate")
    certs = vp.of_type("audit.certified", id=cert_id) if cert_id else []
    # 2. the manifest agrees with the record
    if claim is not None:
        digest = digest_of(certs[0].body["envelope"]) if certs else ""
        wanted = {"run": body["run"], "run_commitment_root": run.body["root"],
                  "model_commitment": body["model_commitment"],
                  "output_record_log_index": row.log_index, "audit_certificate_digest": digest}
        bad = [k for k, v in wanted.items() if claim.get(k) != v]
        serials = {p.serial for p in pki.list_issued(home, rec.statement.actor)} \
            if (home.path / "ca").exists() else set()
        if c2pa.signer is None or c2pa.signer.serial_hex not in serials:
            bad.append("signer certificate (not issued to the developer by the project CA)")
        if c2pa.sidecar is not None and hashlib.sha256(path.read_bytes()).hexdigest() != \
                body["sha256"]:
            bad.append("content sha256")
        chain.add("manifest matches record", not bad,
                  f"differs in {', '.join(bad)}" if bad else
                  "run, run root, model commitment, record index, certificate digest and signer "
                  "agree")
    # 3. the run commitment (proven with the record)
    chain.add("run commitment", True, (
        f"run {run.body['id']} committed at log index {run.index} (root "
        f"{run.body['root'][:16]}…), included"), log_index=run.index)
    # 4. the audit certificate the record names (signed), valid now and about this run
    if cert_id is None:
        chain.add("audit certificate", False, "the output was signed uncertified (its run had "
                  "no passing certificate)")
        return
    cert_index = certs[0].index if certs else None
    try:
        verdict = verify_certificate(home, ledger, cert_id)
        if verdict["run"] != run.body["id"]:
            raise VerificationError(f"{cert_id} certifies run {verdict['run']}, not the "
                                    f"record's run {run.body['id']}")
        chain.add("audit certificate", True, f"{cert_id} verifies now (pass, in the "
                  "log, within its validity, not superseded)", log_index=cert_index)
    except (ReelrightsError, NotFound) as exc:
        chain.add("audit certificate", False, exc.message, log_index=cert_index)


def check_model_opening(home: Home, ledger: Ledger, ref: str, opening: Path) -> dict[str, Any]:
    """The auditor's check of a model commitment: does the developer's opening file (salt and
    model identity) give the commitment of output ``ref`` (an ``out_`` id, or a file whose
    record is found by manifest or fingerprint)? Raises VerificationError when it does not."""
    doc = load_model_opening(Path(opening))
    if ref.startswith("out_"):
        out_id = ref
    else:
        found = verify_output(home, ledger, Path(ref))
        if not found["output"]:
            raise NotFound(f"{ref}: no output record found by manifest or fingerprint; pass "
                           "the output id (out_…) instead")
        out_id = found["output"]["id"]
    with ledger.db.read() as conn:
        row = output_row(conn, out_id)
        signed = _signed_record(ledger, conn, row)  # the signed record decides, not the row
    if not signed:
        raise VerificationError(f"log entry {row.log_index} is not output {row.id}'s record; "
                                "run `reelrights log verify`")
    identity = doc["identity"]
    if identity.get("run") != signed["run"]:
        raise VerificationError(f"{opening} opens run {identity.get('run')}, but output "
                                f"{row.id} comes from run {signed['run']}; ask for that run's "
                                "opening")
    if doc["commitment"] != signed["model_commitment"]:
        raise VerificationError(f"{opening} does not open output {row.id}'s model commitment "
                                f"{signed['model_commitment'][:16]}…: the salt or the model "
                                "identity differs from what was committed")
    return {"output": row.id, "run": signed["run"], "log_index": row.log_index,
            "model_commitment": signed["model_commitment"], "identity": identity, "ok": True}
