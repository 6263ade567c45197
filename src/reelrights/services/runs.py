"""Training-run commitments: ``run commit``, ``run show``, ``run list`` and their applier.

A developer commits to a run's exact manifest without disclosing it. ``commit_run`` hashes the
manifest (JSONL or Parquet) into salted RFC 9162 leaves and a root
(:mod:`reelrights.services.manifest_scan`), writes the salts to the developer's private opening
file (mode 0600, next to the manifest), signs ``run.committed`` with the developer's key and
submits it. Only the root, the count and the public totals reach the registry and the log; the
manifest and the salts stay where they are.

The applier checks that the developer is a registered developer and that each (bundle,
license) of the usage names a registered license of that bundle granted to this developer. A
license that is not in force (revoked, expired co-signature missing) is still accepted: the
commitment is the developer's claim about what it trained on, and the audit judges it. Whether
each license was in force at commit time is recorded with the usage row.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..core import run_types  # noqa: F401  (registers run.committed)
from ..core.ids import ID_PATTERNS, new_id
from ..core.statement_types import check_body
from ..core.statements import sign_statement
from ..errors import BadInput, Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, applier, at
from ..store.evidence_tables import run_usage, training_runs
from ..store.tables import bundles, licenses, parties
from .licensing import license_status
from .manifest_scan import commit_manifest
from .registry import resolve_party

__all__ = ["commit_run", "list_runs", "resolve_run", "run_detail", "check_usage"]

_TOTAL_KEYS = ("items", "seconds", "frames", "tokens", "images")


# -- rules shared by the applier and the command --------------------------------------------------
def check_usage(conn: Connection, developer: str, usage: list[dict[str, Any]],
                at_time: str | None = None) -> list[dict[str, Any]]:
    """Each (bundle, license) must be a license of that bundle granted to ``developer``.

    Returns, per usage entry, the license's status at ``at_time`` (in force or why not).
    Raises NotFound / Conflict naming the first bad pair.
    """
    out = []
    for u in usage:
        lic = conn.execute(select(licenses).where(licenses.c.id == u["license"])).first()
        if lic is None:
            raise NotFound(f"license {u['license']} (used with bundle {u['bundle']}) is not "
                           "registered; fix the manifest's basis or get the license granted")
        if lic.bundle_id != u["bundle"]:
            raise Conflict(f"license {u['license']} licenses bundle {lic.bundle_id}, not "
                           f"{u['bundle']}; fix the manifest's basis.bundle")
        if lic.licensee_id != developer:
            raise Conflict(f"license {u['license']} is granted to {lic.licensee_id}, not to "
                           f"{developer}; a run may only claim the developer's own licenses")
        out.append(license_status(conn, lic, at_time))
    return out


def _check_counts(body: dict[str, Any]) -> None:
    """The public totals must add up to the committed count."""
    n = body["count"]
    pairs = [(u["bundle"], u["license"]) for u in body["usage"]]
    if pairs != sorted(set(pairs)):
        raise BadInput("usage must list each (bundle, license) once, sorted by bundle and license")
    by_basis = (sum(u["items"] for u in body["usage"]) + body["bases"]["own"]["items"]
                + body["bases"]["public-domain"]["items"]
                + sum(o["items"] for o in body["bases"]["open-license"]))
    by_kind = sum(t["items"] for t in body["modalities"].values())
    if by_basis != n or by_kind != n:
        raise BadInput(f"run totals count {by_basis} items by basis and {by_kind} by modality, "
                       f"but the commitment has {n}; recompute them from the manifest")


# -- applier ----------------------------------------------------------------------------------------
@applier("run.committed")
def _apply_run(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
    out = []
    for pos, a in enumerate(run):
        b = a.statement.body
        dev = conn.execute(select(parties.c.kind).where(parties.c.id == b["developer"])).first()
        if dev is None or dev.kind != "developer":
            raise at(pos, PolicyDenied(f"{b['developer']} is not a registered developer; only a "
                                       "developer commits to a training run"))
        if conn.execute(select(training_runs.c.id)
                        .where(training_runs.c.id == b["id"])).first() is not None:
            raise at(pos, Conflict(f"run {b['id']} already exists"))
        try:
            _check_counts(b)
            status = check_usage(conn, b["developer"], b["usage"], a.time)
        except BadInput as exc:
            raise at(pos, exc) from None
        totals = {k: b[k] for k in ("bases", "modalities", "basis_modalities", "content_types",
                                     "languages", "public_datasets") if k in b}
        conn.execute(training_runs.insert().values(
            id=b["id"], developer_id=b["developer"], model_family=b["model_family"],
            model=b["model"], base_model=b.get("base_model"), root=b["root"], count=b["count"],
            totals=json.dumps(totals, sort_keys=True), latest_acquired=b.get("latest_acquired"),
            description=b.get("description"), log_index=a.index, committed_at=a.time))
        if b["usage"]:
            conn.execute(run_usage.insert(), [
                {"run_id": b["id"], "bundle_id": u["bundle"], "license_id": u["license"],
                 **{k: u[k] for k in _TOTAL_KEYS}, "in_force": "1" if s["in_force"] else "0"}
                for u, s in zip(b["usage"], status)])
        not_in_force = [u["license"] for u, s in zip(b["usage"], status) if not s["in_force"]]
        out.append({"id": b["id"], "root": b["root"], "count": b["count"],
                    "licenses_not_in_force": not_in_force})
    return out


# -- commands ---------------------------------------------------------------------------------------
def default_opening(manifest: Path) -> Path:
    return manifest.with_name(manifest.name + ".opening")


def commit_run(home: Home, ledger: Ledger, manifest: Path, developer: str, model_family: str,
               model: str, base_model: str | None = None, opening: Path | None = None,
               description: str | None = None, workers: int | None = None) -> dict[str, Any]:
    """Commit to ``manifest``; return id, root, count, log_index and the opening file's path.

    Nothing is written when anything fails: the opening file appears (0600) only once the
    statement is in the log, and an existing opening file is never overwritten (its salts are
    what the developer needs to answer audits of an earlier run).
    """
    manifest = Path(manifest)
    if not manifest.is_file():
        raise NotFound(f"manifest {manifest} does not exist; pass a JSONL or Parquet file")
    opening = Path(opening) if opening else default_opening(manifest)
    if opening.exists():
        raise Conflict(f"opening file {opening} already exists (it opens an earlier commitment); "
                       "keep it and pass another --opening PATH")
    with ledger.db.read() as conn:
        dev = resolve_party(conn, developer)
    if dev.kind != "developer":
        raise PolicyDenied(f"{dev.id} is a {dev.kind}, not a developer; only a developer "
                           "commits to a training run")
    key = home.party_key(dev.id)  # fail on a missing key before hashing anything
    tmp = opening.with_name(f".{opening.name}.{secrets.token_hex(4)}.tmp")
    try:
        digest = commit_manifest(manifest, tmp, workers)
        body: dict[str, Any] = {"id": new_id("run"), "developer": dev.id,
                                "model_family": model_family, "model": model,
                                "root": digest.root.hex(), "count": digest.count,
                                **digest.tally.public()}
        if base_model:
            body["base_model"] = base_model
        if description:
            body["description"] = description
        check_body("run.committed", 1, body, dev.id)
        _check_counts(body)
        with ledger.db.read() as conn:
            check_usage(conn, dev.id, body["usage"])
        receipt = ledger.submit([sign_statement(ledger.new_statement("run.committed", dev.id, body),
                                                key)])[0]
        os.replace(tmp, opening)
    finally:
        tmp.unlink(missing_ok=True)
    return {"id": body["id"], "root": body["root"], "count": body["count"],
            "log_index": receipt.index, "opening": str(opening),
            "licenses_not_in_force": receipt.details.get("licenses_not_in_force", [])}


# -- queries ----------------------------------------------------------------------------------------
def resolve_run(conn: Connection, ref: str) -> Any:
    import re

    if not re.fullmatch(ID_PATTERNS["run"], ref):
        raise BadInput(f"{ref!r} is not a run id like run_k3vq7xw2m4a6c5de; `reelrights run list` "
                       "shows them")
    row = conn.execute(select(training_runs).where(training_runs.c.id == ref)).first()
    if row is None:
        raise NotFound(f"no run {ref!r}; `reelrights run list` shows them")
    return row


def _run_json(r: Any) -> dict[str, Any]:
    out = {"id": r.id, "developer": r.developer_id, "model_family": r.model_family,
           "model": r.model, "root": r.root, "count": r.count, "log_index": r.log_index,
           "committed_at": r.committed_at}
    if r.base_model:
        out["base_model"] = r.base_model
    return out


def run_detail(db: Any, ref: str) -> dict[str, Any]:
    """The run's public record: commitment, totals, and usage with license status."""
    with db.read() as conn:
        r = resolve_run(conn, ref)
        out = _run_json(r)
        if r.latest_acquired:
            out["latest_acquired"] = r.latest_acquired
        if r.description:
            out["description"] = r.description
        usage = conn.execute(
            select(run_usage, bundles.c.name.label("bundle_name"))
            .join(bundles, bundles.c.id == run_usage.c.bundle_id)
            .where(run_usage.c.run_id == r.id)
            .order_by(run_usage.c.bundle_id, run_usage.c.license_id)).all()
        out["usage"] = [{"bundle": u.bundle_id, "bundle_name": u.bundle_name,
                         "license": u.license_id, **{k: getattr(u, k) for k in _TOTAL_KEYS},
                         "in_force_at_commit": u.in_force == "1"} for u in usage]
        out.update(json.loads(r.totals))
    return out


def list_runs(db: Any, developer: str | None = None) -> list[dict[str, Any]]:
    with db.read() as conn:
        q = select(training_runs).order_by(training_runs.c.log_index)
        if developer:
            q = q.where(training_runs.c.developer_id == resolve_party(conn, developer).id)
        return [_run_json(r) for r in conn.execute(q)]
