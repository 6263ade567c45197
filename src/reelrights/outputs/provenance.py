"""Output provenance, the signing side: ``reelrights provenance sign``.

The developer that committed a run signs each output it generates from that run:

1. fingerprint the output (:mod:`.output_index`): the soft binding, and the digest the record
   carries;
2. find the run's latest certificate that verifies now (:func:`current_certificate`, the same
   checks as ``audit verify-cert``); with none, refuse (exit 3) unless ``uncertified``;
3. sign and log the **output record** (``output.registered``) *first*, so the manifest can
   name its log index; store the output's prints in the outputs index;
4. embed the C2PA manifest (:func:`reelrights.media.c2pa_engine.sign_output`): actions,
   ``cawg.training-mining`` reuse terms, ``c2pa.soft-binding`` and
   ``dev.reelrights.training-run`` (run root, certificate digest, record log index, model
   commitment); keep the manifest bytes by label.

If step 4 fails the record stays logged (the log is append-only) and the error says so; running
the same command again finds the record (same run, content hash, production and prompt) and
reuses it instead of logging a second one.

The model commitment is SHA-256 over a domain tag, a 32-byte random salt and the JCS model
identity (run, model family, model). The salt and the identity live in
``<home>/provenance/<run>.model-opening.json`` (0600, folder 0700), one per run: the developer
gives that file to auditors and to nobody else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..catalogue import check_body
from ..core.canonical import canonical_bytes
from ..core.dsse import parse_envelope
from ..core.ids import ID_PATTERNS, new_id
from ..core.statements import decode_entry, sign_statement, utc_now
from ..errors import (
    BadInput,
    Conflict,
    MediaError,
    NotFound,
    PolicyDenied,
    ReelrightsError,
    VerificationError,
)
from ..evidence.records import Run
from ..evidence.runs import resolve_run
from ..home import Home
from ..ledger import Accepted, Ledger, applier, each_statement
from ..media.c2pa_assertions import (
    STANDARD_REUSE_ENTRIES,
    OutputAssertions,
    ReuseTerm,
    TrainingRunClaim,
)
from ..registry.submit import signing_key
from ..store.evidence_tables import audit_certificates, training_runs
from ..store.provenance_tables import output_manifests, output_prints, outputs
from ..store.resolve import find_many, resolve
from ..store.tables import log_entries
from .output_index import OutputIndex, fingerprint_output, store_prints
from .records import OUTPUT, Output
from .types import model_commitment

__all__ = ["DEFAULT_REUSE", "certificate_digest", "current_certificate", "load_model_opening",
           "parse_reuse", "sign", "output_row"]

DEFAULT_REUSE = {"cawg.ai_training": ReuseTerm("notAllowed"),
                 "cawg.ai_generative_training": ReuseTerm("notAllowed")}
OPENING_FORMAT = "reelrights/model-opening/v1"


# -- the applier ------------------------------------------------------------------------------

@applier("output.registered")
@each_statement
def _apply_output(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    r = conn.execute(select(training_runs.c.developer_id)
                     .where(training_runs.c.id == b["run"])).first()
    if r is None:
        raise NotFound(f"run {b['run']} is not committed; sign outputs of a committed run "
                       "(`reelrights run list`)")
    if r.developer_id != b["developer"]:
        raise PolicyDenied(f"run {b['run']} was committed by {r.developer_id}, not "
                           f"{b['developer']}; only the run's developer records its outputs")
    if "certificate" in b:
        c = conn.execute(select(audit_certificates.c.run_id)
                         .where(audit_certificates.c.id == b["certificate"])).first()
        if c is None or c.run_id != b["run"]:
            raise Conflict(f"certificate {b['certificate']} is not a logged certificate of run "
                           f"{b['run']}")
    if conn.execute(select(outputs.c.id).where(outputs.c.id == b["id"])).first():
        raise Conflict(f"output {b['id']} already exists")
    conn.execute(outputs.insert().values(
        id=b["id"], run_id=b["run"], developer_id=b["developer"],
        production_id=b.get("production"), certificate_id=b.get("certificate"),
        media_kind=b["media_kind"], sha256=b["sha256"], fingerprint_alg=b["fingerprint_alg"],
        fingerprint=b["fingerprint"], model_commitment=b["model_commitment"],
        prompt_sha256=b.get("prompt_sha256"), created_at=b["created"], log_index=a.index))
    return {"id": b["id"]}


# -- helpers shared with verification ----------------------------------------------------------

def certificate_digest(conn: Connection, cert_id: str) -> str:
    """``sha256:<hex>`` of the JCS form of the certificate's DSSE envelope, as logged."""
    row = conn.execute(select(audit_certificates.c.log_index)
                       .where(audit_certificates.c.id == cert_id)).first()
    if row is None:
        raise NotFound(f"certificate {cert_id} is not in the log")
    entry = conn.execute(select(log_entries.c.entry)
                         .where(log_entries.c.idx == row.log_index)).scalar_one()
    env = parse_envelope(decode_entry(bytes(entry)).body["envelope"])
    return "sha256:" + hashlib.sha256(canonical_bytes(env.to_json())).hexdigest()


def current_certificate(home: Home, ledger: Ledger, run_id: str) -> tuple[str | None, list[str]]:
    """The latest certificate of ``run_id`` that verifies now (id or None), and, when none does,
    why each one failed."""
    from ..evidence.certificates import verify_certificate

    with ledger.db.read() as conn:
        ids = list(conn.scalars(select(audit_certificates.c.id)
                                .where(audit_certificates.c.run_id == run_id)
                                .order_by(audit_certificates.c.log_index.desc())))
    why = []
    for cert_id in ids:
        try:
            verify_certificate(home, ledger, cert_id)
            return cert_id, []
        except VerificationError as exc:
            why.append(f"{cert_id}: {exc.message}")
    return None, why


def _opening_path(home: Home, run_id: str) -> Path:
    return home.path / "provenance" / f"{run_id}.model-opening.json"


def _model_opening(home: Home, run: Run) -> dict[str, Any]:
    """The run's model opening (salt + identity), created 0600 on first use."""
    path = _opening_path(home, run.id)
    if path.exists():
        return load_model_opening(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    doc = {"format": OPENING_FORMAT, "salt": secrets.token_bytes(32).hex(),
           "identity": {"run": run.id, "model_family": run.model_family, "model": run.model}}
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
    try:
        os.link(tmp, path)  # never replace an opening another process wrote first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return load_model_opening(path)


def load_model_opening(path: Path) -> dict[str, Any]:
    """Read a model opening file; ``commitment`` is recomputed from it."""
    try:
        doc = json.loads(Path(path).read_text("utf-8"))
        salt = bytes.fromhex(doc["salt"])
        identity = doc["identity"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path} is not a model opening file ({exc}); restore it from backup") from None
    return {**doc, "commitment": model_commitment(salt, identity)}


def parse_reuse(terms: list[str]) -> dict[str, ReuseTerm]:
    """``ai_training=notAllowed``, ``cawg.data_mining=constrained:research only`` -> terms."""
    if not terms:
        return dict(DEFAULT_REUSE)
    out = {}
    for t in terms:
        name, sep, value = t.partition("=")
        if not sep or not name or not value:
            raise BadInput(f"--reuse {t!r}: write USE=allowed|notAllowed|constrained[:INFO], e.g. "
                           "ai_training=notAllowed")
        if "." not in name:
            name = f"cawg.{name}"
        use, _, info = value.partition(":")
        out[name] = ReuseTerm(use, info or None) if use == "constrained" else ReuseTerm(use)
        if info and use != "constrained":
            raise BadInput(f"--reuse {t!r}: only 'constrained' takes ':INFO'")
    unknown = [n for n in out if n.startswith("cawg.") and n not in STANDARD_REUSE_ENTRIES]
    if unknown:
        raise BadInput(f"--reuse {unknown[0]}: CAWG entries are "
                       f"{', '.join(e.removeprefix('cawg.') for e in STANDARD_REUSE_ENTRIES)}")
    return out


def output_row(conn: Connection, ref: str) -> Output:
    """The output with id ``ref``."""
    return resolve(conn, OUTPUT, ref)


# -- signing ----------------------------------------------------------------------------------

def embedded_proof(home: Home, ledger: Ledger, log_index: int) -> str:
    """The output record's proof file for its manifest: with a cosigned checkpoint if one comes
    within :data:`reelrights.proofs.COSIGNED_WAIT_S`, else the log-only one, which a verifier
    upgrades online (``reelrights verify FILE --server URL``)."""
    from ..proofs import issue_cosigned_proof

    return issue_cosigned_proof(ledger, log_index, home.path).format()


def sign(home: Home, ledger: Ledger, output: Path, run_ref: str, dst: Path, *,
         production: str | None = None, prompt_sha256: str | None = None,
         reuse: list[str] | None = None, uncertified: bool = False) -> dict[str, Any]:
    """Record, log and C2PA-sign one output; see the module docstring for the order."""
    from ..media.c2pa_engine import mime_for, sign_output
    from . import pki

    output, dst = Path(output), Path(dst)
    if not output.is_file():
        raise BadInput(f"{output}: no such file; pass the generated output to sign")
    mime_for(output)  # an unsupported format fails before anything is computed
    mime_for(dst)
    if dst.exists():
        raise BadInput(f"{dst} already exists; choose another -o file or remove it")
    if production is not None and not re.fullmatch(ID_PATTERNS["production"],
                                                                 production):
        raise BadInput(f"--production {production!r}: give a production id like "
                       "prd_k3vq7xw2m4a6c5de")
    if prompt_sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}",
                                                                    prompt_sha256):
        raise BadInput("--prompt-sha256: give the lowercase hex SHA-256 of the prompt")
    terms = parse_reuse(list(reuse or []))
    with ledger.db.read() as conn:
        run = resolve_run(conn, run_ref)
    key = signing_key(home, ledger, run.developer_id)  # only the run's developer can sign its outputs
    cert_id, why = current_certificate(home, ledger, run.id)
    if cert_id is None and not uncertified:
        detail = f" ({'; '.join(why)})" if why else ""
        raise PolicyDenied(f"run {run.id} has no audit certificate that verifies now{detail}; "
                           "get the run audited, or pass --uncertified to sign anyway")
    prints = fingerprint_output(output, reference=True)
    opening = _model_opening(home, run)
    index = OutputIndex(home)
    with ledger.db.read() as conn:
        existing = [r for r in find_many(conn, OUTPUT, outputs.c.run_id == run.id,
                                         outputs.c.sha256 == prints.sha256,
                                         outputs.c.developer_id == run.developer_id)
                    if r.production_id == production and r.prompt_sha256 == prompt_sha256
                    and r.certificate_id == cert_id]
        digest = certificate_digest(conn, cert_id) if cert_id else ""
    if existing:
        rec = existing[-1]
        out_id, log_index, reused = rec.id, rec.log_index, True
        with ledger.db.read() as conn:
            has_prints = conn.execute(select(output_prints.c.seq).where(
                output_prints.c.output_id == out_id)).first() is not None
        if not has_prints:  # a crash between logging the record and storing its prints
            store_prints(ledger.db, index, out_id, prints)
    else:
        body: dict[str, Any] = {
            "id": new_id("output"), "developer": run.developer_id, "run": run.id,
            "media_kind": prints.category, "sha256": prints.sha256,
            "fingerprint_alg": prints.alg, "fingerprint": prints.digest(),
            "model_commitment": opening["commitment"], "created": utc_now()}
        for k, v in (("certificate", cert_id), ("production", production),
                     ("prompt_sha256", prompt_sha256)):
            if v is not None:
                body[k] = v
        check_body("output.registered", 1, body, run.developer_id)
        receipt = ledger.submit([sign_statement(
            ledger.new_statement("output.registered", run.developer_id, body), key)])[0]
        out_id, log_index, reused = body["id"], receipt.index, False
        store_prints(ledger.db, index, out_id, prints)
    assertions = OutputAssertions(
        training_run=TrainingRunClaim(
            run=run.id, run_commitment_root=run.root, audit_certificate_digest=digest,
            model_commitment=opening["commitment"], output_record_log_index=log_index,
            extra={"output": out_id, **({"certificate": cert_id} if cert_id else {})}),
        reuse=terms, soft_bindings=[prints.soft_binding()],
        tlog_proof=embedded_proof(home, ledger, log_index))
    try:
        signer = pki.ensure_signer(home, ledger, run.developer_id)
        result = sign_output(output, dst, signer=signer, assertions=assertions)
    except (ReelrightsError, OSError) as exc:
        cause = exc.message if isinstance(exc, ReelrightsError) else f"{type(exc).__name__}: {exc}"
        raise MediaError(f"output record {out_id} is logged at index {log_index}, but C2PA "
                         f"signing failed: {cause}. The record stays; fix the cause and run the "
                         "same command again (it reuses the record)", str(output)) from None
    with ledger.db.write() as conn:
        conn.execute(output_manifests.insert().values(
            label=result.manifest_label, output_id=out_id, format=result.format,
            manifest=result.manifest, signer_serial=format(signer.certificate.serial_number, "x"),
            signed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
    return {"output": out_id, "log_index": log_index, "reused_record": reused,
            "manifest_label": result.manifest_label, "signed": str(result.path),
            "sidecar": str(result.sidecar) if result.sidecar else None,
            "run": run.id, "certificate": cert_id, "certificate_digest": digest or None,
            "model_commitment": opening["commitment"], "soft_binding": prints.alg,
            "fingerprint": prints.digest(), "format": result.format, "tlog_proof": True,
            "bytes_added": result.bytes_added}

