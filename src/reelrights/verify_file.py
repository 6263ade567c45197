"""``reelrights verify FILE``: any artifact reelrights hands out, checked offline.

FILE is one of:

* a proof file (``c2sp.org/tlog-proof@v1``, ``.tlog-proof``);
* a JSON artifact carrying one in ``tlog_proof`` (or given with ``--proof``): an audit
  certificate (its DSSE envelope is then compared with the logged one), a royalty statement's
  JSON rendering (``document``: its hash, inputs hash, party, period and totals against the
  signed ones);
* a media file whose C2PA manifest embeds one (``dev.reelrights.tlog-proof``): the manifest must
  be intact, and its training-run assertion must agree with the logged output record;
* a detached C2PA manifest store (``application/c2pa``, a JUMBF ``.c2pa`` file: what the
  soft-binding API's ``/manifests/{id}`` returns for a stripped copy): its claim signature must
  verify and its assertions be the signed ones; its hard binding names the original asset's
  bytes, which a recovered manifest does not have, so that one check is not made (said so).

The checks are the pure verifiers' (:mod:`reelrights.verify`), with the log key and witness
policy given. With ``server``, the proof's checkpoint is upgraded: the server's newer checkpoint
(opened with the same key and policy) and a consistency proof from the proof's tree to it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import BadInput, ReelrightsError, VerificationError
from .verify import LogTrust, TlogProof, Verifier, verify_subject
from .verify.consistency import check_consistent
from .verify.entries import VerifiedProof
from .verify.tlog_proof import looks_like_tlog_proof

__all__ = ["make_trust", "read_vkey", "verify_artifact"]


def read_vkey(value: str, what: str = "--log-key") -> str:
    """A note verifier key given inline or as a file holding it (``log.vkey``)."""
    text = value.strip()
    if "+" not in text or "\n" in text:
        path = Path(value)
        try:
            text = path.read_text("utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise BadInput(f"{what} {value!r} is neither a verifier key (name+id+base64) nor a "
                           "readable file holding one") from None
    return text


def make_trust(log_key: str, witnesses: tuple[str, ...] = (), min_witnesses: int = 0,
               policy: Path | None = None) -> LogTrust:
    """The log key (inline or a file) and the witness policy: ``--policy FILE`` (a
    c2sp.org/tlog-policy) or ``--witness`` keys with ``--min-witnesses``."""
    parsed = None
    if policy is not None:
        from .core.tlog_policy import parse_policy

        try:
            parsed = parse_policy(Path(policy).read_bytes())
        except OSError as exc:
            raise BadInput(f"--policy {policy}: cannot read it ({exc.strerror})") from None
    return LogTrust(read_vkey(log_key), [read_vkey(w, "--witness") for w in witnesses],
                    min_witnesses, policy=parsed)


def _from_media(path: Path) -> tuple[bytes, dict[str, Any], list[str]]:
    from .media.c2pa_assertions import TLOG_PROOF_LABEL, TRAINING_RUN_LABEL
    from .media.c2pa_engine import verify_file

    try:
        c2pa = verify_file(path, anchors=None)
    except BadInput as exc:
        raise BadInput(f"{path}: not a proof file, a JSON artifact or a media file with a C2PA "
                       f"manifest ({exc.message})") from None
    if c2pa.state not in ("Valid", "Trusted"):
        if c2pa.state == "NotFound":
            raise BadInput(f"{path}: carries no C2PA manifest, so no embedded proof (a stripped "
                           "file: ask the service to recover it by fingerprint)")
        raise VerificationError(f"{path}: its C2PA manifest is {c2pa.state} "
                                f"({', '.join(c2pa.failure_codes) or 'altered'})")
    embedded = c2pa.assertions.get(TLOG_PROOF_LABEL)
    if not isinstance(embedded, dict) or not isinstance(embedded.get("proof"), str):
        raise BadInput(f"{path}: its C2PA manifest embeds no reelrights proof "
                       f"({TLOG_PROOF_LABEL})")
    claim = c2pa.assertions.get(TRAINING_RUN_LABEL)
    checks = [f"C2PA manifest intact ({c2pa.state}; signer "
              f"{c2pa.signer.common_name if c2pa.signer else 'unknown'})"]
    return embedded["proof"].encode("utf-8"), claim if isinstance(claim, dict) else {}, checks


#: What a detached manifest store fails by construction: its data hash names the original
#: asset (absent), and no trust anchors are given offline (as for an embedded manifest).
_DETACHED_FAILURES = frozenset({"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch",
                                "assertion.boxesHash.mismatch", "signingCredential.untrusted"})


def _from_manifest_store(path: Path, data: bytes) -> tuple[bytes, dict[str, Any], list[str]]:
    from .media.c2pa_assertions import TLOG_PROOF_LABEL, TRAINING_RUN_LABEL
    from .media.c2pa_engine import verify_manifest_store

    c2pa_result = verify_manifest_store(data, anchors=None)
    if c2pa_result.state == "NotFound":
        raise BadInput(f"{path}: not a C2PA manifest store")
    bad = set(c2pa_result.failure_codes) - _DETACHED_FAILURES
    if bad or "claimSignature.validated" not in c2pa_result.success_codes:
        raise VerificationError(f"{path}: its C2PA manifest does not verify "
                                f"({', '.join(sorted(bad)) or 'claim signature not validated'})")
    embedded = c2pa_result.assertions.get(TLOG_PROOF_LABEL)
    if not isinstance(embedded, dict) or not isinstance(embedded.get("proof"), str):
        raise BadInput(f"{path}: the C2PA manifest embeds no reelrights proof "
                       f"({TLOG_PROOF_LABEL})")
    claim = c2pa_result.assertions.get(TRAINING_RUN_LABEL)
    signer = c2pa_result.signer.common_name if c2pa_result.signer else "unknown"
    checks = [f"detached C2PA manifest store: claim signature validated (signer {signer}), its "
              "assertions the signed ones; its hard binding to the original asset's bytes is "
              "not checked (the asset is not given)"]
    return embedded["proof"].encode("utf-8"), claim if isinstance(claim, dict) else {}, checks


def _read(path: Path, proof_path: Path | None = None) -> tuple[bytes, dict[str, Any], list[str]]:
    """(proof bytes, what the artifact adds for its verifier, checks already made)."""
    given: bytes | None = None
    if proof_path is not None:
        try:
            given = proof_path.read_bytes()
        except OSError as exc:
            raise BadInput(f"--proof {proof_path}: cannot read it ({exc.strerror})") from None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read it ({exc.strerror}); pass an artifact file") from None
    if looks_like_tlog_proof(data):
        return data, {}, []
    if data.lstrip()[:1] == b"{":
        try:
            doc = json.loads(data)
        except ValueError:
            raise BadInput(f"{path}: not valid JSON") from None
        proof = doc.get("tlog_proof") if isinstance(doc, dict) else None
        if given is not None:
            proof = given.decode("utf-8", "replace")
        if not isinstance(proof, str):
            raise BadInput(f"{path}: a JSON file without a tlog_proof; pass its proof with "
                           "--proof FILE (`reelrights log proof ID` writes one)")
        extra: dict[str, Any] = {}
        if "payloadType" in doc:
            extra["envelope"] = {k: doc[k] for k in ("payload", "payloadType", "signatures")
                                 if k in doc}
        if isinstance(doc.get("document"), dict):
            extra["document"] = doc["document"]
        return proof.encode("utf-8"), extra, []
    if data[4:8] == b"jumb":  # a JUMBF superbox: a C2PA manifest store on its own
        proof_bytes, claim, checks = _from_manifest_store(path, data)
    else:
        proof_bytes, claim, checks = _from_media(path)
    return proof_bytes, {"claim": claim}, checks


def _upgrade(verifier: Verifier, vp: VerifiedProof, server: str) -> list[str]:
    from .monitor.server import LogServer

    srv = LogServer(server)
    newer = verifier.trust.open(srv.checkpoint())
    old = vp.checkpoint
    if newer.checkpoint.size < old.checkpoint.size:
        raise VerificationError(f"{server} serves checkpoint size {newer.checkpoint.size}, "
                                f"older than the proof's {old.checkpoint.size}")
    proof = (srv.consistency(old.checkpoint.size, newer.checkpoint.size)
             if newer.checkpoint.size > old.checkpoint.size else [])
    check_consistent(old, newer, proof)
    wit = (f", cosigned by {', '.join(n for n, _ in newer.witnesses)}" if newer.witnesses
           else "")
    return [f"upgraded online: {server}'s checkpoint size {newer.checkpoint.size}{wit} extends "
            f"the proof's size {old.checkpoint.size} (consistency proof verifies)"]


def _sealed_disclosure(path: Path, trust: LogTrust) -> dict[str, Any] | None:
    """The report of a sealed statement's disclosure (docs/sealed.md), or None when ``path``
    is another artifact."""
    from .core.sealed_disclosure import FORMAT, verify_disclosure

    try:
        data = path.read_bytes()
    except OSError:
        return None  # _read words it
    if not data.lstrip().startswith(b"{") or FORMAT.encode() not in data:
        return None
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("disclosure") != FORMAT:
        return None
    if trust.witnessed:
        raise VerificationError(f"{path}: a sealed disclosure's checkpoint is checked with the "
                                "log's key only; witness policies are not applied to it yet")
    r = verify_disclosure(doc, trust.log.vkey)
    return {"ok": True, "file": str(path), "kind": "sealed disclosure", "index": r.log_index,
            "type": r.type, "actor": r.actor, "statement_id": r.statement_id,
            "log_time": r.log_time, "checkpoint": {"origin": r.origin,
                                                   "size": r.checkpoint_size, "witnesses": []},
            "checks": ["the checkpoint is signed by the log's key",
                       "the statement and its signer's registration are in the log",
                       "the statement's signature verifies with the signer's registered key",
                       *(f"{p} matches the signed root" for p in r.fields)],
            "fields": r.fields}


def verify_artifact(path: Path, trust: LogTrust, *, server: str | None = None,
                    now: datetime | None = None, proof_path: Path | None = None
                    ) -> dict[str, Any]:
    """The report of a verified artifact; VerificationError naming what fails, BadInput for a
    file that is not an artifact. Without ``server`` the proof's own checkpoint must satisfy
    the witness policy; with it, the server's newer one may."""
    sealed = _sealed_disclosure(Path(path), trust)
    if sealed is not None:
        return sealed
    proof_bytes, extra, checks = _read(Path(path), proof_path)
    proof = TlogProof.parse(proof_bytes)
    verifier = Verifier(trust)
    upgraded: list[str] = []
    if server is not None and trust.witnessed:
        # The proof's own checkpoint need only be the log's; the server's newer one, which it
        # must be consistent with, carries the witnesses.
        log_only = LogTrust(trust.log.vkey)
        verifier = Verifier(log_only)
        vp = verifier.verify(proof)
        upgraded = _upgrade(Verifier(trust), vp, server)
    else:
        vp = verifier.verify(proof)
        if server is not None:
            upgraded = _upgrade(verifier, vp, server)
    try:
        kind, more = verify_subject(vp, now=now, **extra)
    except ReelrightsError:
        raise
    s = vp.subject.statement
    return {"ok": True, "file": str(path), "kind": kind, "index": vp.subject.index,
            "type": s.type, "actor": s.actor, "statement_id": s.id, "log_time": s.log_time,
            "checkpoint": {"origin": vp.checkpoint.checkpoint.origin,
                           "size": vp.checkpoint.checkpoint.size,
                           "witnesses": [n for n, _ in vp.checkpoint.witnesses]},
            "checks": checks + more + upgraded}
