"""Training runs: ``run start``, ``run commit``, ``run show``, ``run list`` and their appliers.

A developer commits to a run's exact manifest without disclosing it. ``commit_run`` hashes the
manifest (JSONL or Parquet) into salted RFC 9162 leaves and a root
(:mod:`reelrights.evidence.manifest_scan`), writes the salts to the developer's private opening
file (mode 0600, next to the manifest), signs ``run.committed`` with the developer's key and
submits it. Only the root, the count and the public totals reach the registry and the log; the
manifest and the salts stay where they are.

The applier checks that the developer is a registered developer and that each (bundle,
license) of the usage names a registered license of that bundle granted to this developer. A
license that is not in force (revoked, expired co-signature missing) is still accepted: the
commitment is the developer's claim about what it trained on, and the audit judges it. Whether
each license was in force is recorded with the usage row, and why not in ``run_out_of_force``.

**When licenses are judged.** A developer logs ``run.started`` before training: the licenses it
relies on and the model family. The commitment of a started run (``run.committed`` with the same
id, developer and model family) has its licenses judged over the log-time interval from the
start to the commit: a license is out of force for the run if it is not among those the start
named, or if at any time in the interval it was revoked, expired or not yet in force (granted,
co-signed, inside its terms' dateTime window). A run committed without a start is judged at its
commit's log time only, and ``run show`` and its audit certificates say so (``judged``).

**Late facts.** A verdict already logged never changes. A fact logged later that would have
changed it (a dispute over an asset a run used, a death dated before the run's commit while the
run relied on the performer's consent) leaves an "affected by" mark on the run and on its
certificates logged before it (:func:`record_marks`, written by those facts' appliers); ``run
show``, ``check`` and ``audit verify-cert`` show the marks (:func:`affected_by`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..catalogue import check_body
from ..core.ids import new_id
from ..core.odrl import Request, parse_policy
from ..core.odrl.constraints import Atomic
from ..core.statements import sign_statement
from ..errors import BadInput, Conflict, InvalidStatement, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, applier, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import signing_key
from ..rights.licensing import LicenseStatus, cosigners_needed, license_status
from ..rights.strikes import strikes_of_guilds
from ..store.db import Database
from ..store.evidence_tables import run_usage, training_runs
from ..store.resolve import StoredRow, find_many, resolve, widen
from ..store.run_tables import run_out_of_force, run_starts
from ..store.tables import bundles, licenses, parties
from .manifest_scan import commit_manifest
from .marks import find_marks
from .records import RUN, Interval, Run, RunDetail, RunStart, RunUsage, check_run_id

__all__ = ["check_usage", "commit_run", "judge_usage", "list_runs", "resolve_run", "run_detail",
           "run_judgement", "start_run"]

_TOTAL_KEYS = ("items", "seconds", "frames", "tokens", "images")


# -- rules shared by the applier and the command --------------------------------------------------
def check_usage(conn: Connection, developer: str, usage: list[dict[str, Any]],
                at_time: str | None = None) -> list[LicenseStatus]:
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


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _term_problem(lic: StoredRow, at_time: str) -> str | None:
    """Why the license's own terms exclude ``at_time`` (its training permissions' dateTime
    constraints: expired, or not yet in force), or None.

    A permission for train or fineTune (any permission if the policy has none) admits the time
    when every top-level dateTime constraint of it holds then; dateTime constraints nested in
    ``or``/``xone`` are left to the audit's full evaluation.
    """
    if lic.policy == "null":  # sealed, no body here (a rebuild from tiles): not judged here
        return None
    policy = parse_policy(json.loads(lic.policy))
    rules = [r for r in policy.permissions if {"train", "fineTune"} & set(r.action_names)] \
        or list(policy.permissions)
    request = Request("train", "urn:reelrights:run", date_time=_instant(at_time))
    failed: list[str] = []
    for rule in rules:
        temporal = [c for c in rule.constraints
                    if isinstance(c, Atomic) and c.left.kind == "temporal"]
        bad = [str(c) for c in temporal if not c.test(request)]
        if not bad:
            return None
        failed.extend(bad)
    if not rules:
        return f"its terms permit nothing at {at_time}"
    return f"its terms ({'; '.join(dict.fromkeys(failed))}) exclude {at_time}"


def _reasons_at(conn: Connection, lic: StoredRow, at_time: str, when: str) -> list[str]:
    """Why ``lic`` is not in force at ``at_time`` (empty: in force)."""
    out = []
    if lic.granted_at > at_time:
        out.append(f"granted at {lic.granted_at}, after {when}")
    status = license_status(conn, lic, at_time)
    if status["missing_cosigners"]:
        out.append(f"missing co-signature of {', '.join(status['missing_cosigners'])} at "
                   f"{when}")
    if (term := _term_problem(lic, at_time)) is not None:
        out.append(f"{term} ({when})")
    return out


def judge_usage(conn: Connection, developer: str, usage: list[dict[str, Any]], commit_time: str,
                start: StoredRow | None = None) -> list[str | None]:
    """For each usage entry: None if its license is in force for the run, else why not.

    Without a ``start`` (a ``run_starts`` row) the license is judged at ``commit_time`` alone;
    with one, over the log-time interval [start, commit]: it must be one the start named, and
    in force throughout: not revoked at any time up to the commit, granted and co-signed by the
    start, and inside its terms' dateTime window at both ends (a window is an interval).
    """
    check_usage(conn, developer, usage, commit_time)  # the pairs must be the developer's own
    named = set(json.loads(start.licenses)) if start is not None else set()
    out: list[str | None] = []
    for u in usage:
        lic = conn.execute(select(licenses).where(licenses.c.id == u["license"])).one()
        reasons: list[str] = []
        if start is None:
            if lic.revoked_at is not None and lic.revoked_at <= commit_time:
                reasons.append(f"revoked at {lic.revoked_at} (log {lic.revoked_index}), before "
                               f"the commit at {commit_time}")
            reasons += _reasons_at(conn, lic, commit_time, f"the commit at {commit_time}")
        else:
            span = f"{start.started_at} to {commit_time}"
            if lic.id not in named:
                reasons.append(f"not among the licenses run.started named (log "
                               f"{start.log_index}); a run relies only on the licenses it "
                               "started with")
            if lic.revoked_at is not None and lic.revoked_at <= commit_time:
                reasons.append(f"revoked at {lic.revoked_at} (log {lic.revoked_index}), within "
                               f"or before the run's interval {span}")
            reasons += _reasons_at(conn, lic, start.started_at,
                                   f"the run's start at {start.started_at}")
            reasons += _reasons_at(conn, lic, commit_time, f"the commit at {commit_time}")
        # A run is new when it starts (or, logged without a start, when it is committed):
        # a strike of a guild the license needs keeps the license out of force for it.
        begun = start.started_at if start is not None else commit_time
        reasons += [f"{s.message}, when the run began at {begun}"
                    for s in strikes_of_guilds(conn, cosigners_needed(conn, lic),
                                               _instant(begun).date())]
        out.append(f"license {lic.id}: " + "; ".join(reasons) if reasons else None)
    return out


def run_judgement(conn: Connection, run: Run | StoredRow) -> dict[str, Any]:
    """How the run's licenses were judged, as its certificates state it:
    ``{"judged": "at_commit"}`` or ``{"judged": "over_interval", "over_interval": {"from": T1,
    "to": T2, "started_log_index": i}}`` (log times)."""
    start = conn.execute(select(run_starts).where(run_starts.c.id == run.id)).first()
    if start is None or start.log_index > run.log_index:
        return {"judged": "at_commit"}
    return {"judged": "over_interval",
            "over_interval": {"from": start.started_at, "to": run.committed_at,
                              "started_log_index": int(start.log_index)}}


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
@each_statement
def _apply_run(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    dev = conn.execute(select(parties.c.kind).where(parties.c.id == b["developer"])).first()
    if dev is None or dev.kind != "developer":
        raise PolicyDenied(f"{b['developer']} is not a registered developer; only a developer "
                           "commits to a training run")
    if conn.execute(select(training_runs.c.id)
                    .where(training_runs.c.id == b["id"])).first() is not None:
        raise Conflict(f"run {b['id']} already exists")
    start = conn.execute(select(run_starts).where(run_starts.c.id == b["id"])).first()
    if start is not None:
        _match_start(start, b)
    _check_counts(b)
    problems = judge_usage(conn, b["developer"], b["usage"], a.time, start)
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
             **{k: u[k] for k in _TOTAL_KEYS}, "in_force": "0" if p else "1"}
            for u, p in zip(b["usage"], problems)])
    reasons = {u["license"]: p for u, p in zip(b["usage"], problems) if p}
    if reasons:
        conn.execute(run_out_of_force.insert(), [
            {"run_id": b["id"], "license_id": lic, "reason": why}
            for lic, why in sorted(reasons.items())])
    judged: dict[str, Any] = {"judged": "at_commit"} if start is None else {
        "judged": "over_interval",
        "over_interval": {"from": start.started_at, "to": a.time,
                          "started_log_index": int(start.log_index)}}
    return {"id": b["id"], "root": b["root"], "count": b["count"],
            "licenses_not_in_force": list(reasons), **judged}


def _match_start(start: StoredRow, b: dict[str, Any]) -> None:
    """A started run is committed by the developer that started it, for its model family."""
    if start.developer_id != b["developer"]:
        raise PolicyDenied(f"run {b['id']} was started by {start.developer_id} (log "
                           f"{start.log_index}), not {b['developer']}; only the developer that "
                           "started a run commits it")
    if start.model_family != b["model_family"]:
        raise InvalidStatement(f"run {b['id']} was started for model family "
                               f"{start.model_family!r} (log {start.log_index}), not "
                               f"{b['model_family']!r}; commit it with the family it started "
                               "with, or start a new run", "/statement/body/model_family")


@applier("run.started")
@each_statement
def _apply_start(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    dev = conn.execute(select(parties.c.kind).where(parties.c.id == b["developer"])).first()
    if dev is None or dev.kind != "developer":
        raise PolicyDenied(f"{b['developer']} is not a registered developer; only a developer "
                           "starts a training run")
    started = conn.execute(select(run_starts.c.log_index)
                           .where(run_starts.c.id == b["id"])).first()
    if started is not None:
        raise Conflict(f"run {b['id']} was already started (log {started.log_index}); start a "
                       "new run with a new id")
    if conn.execute(select(training_runs.c.id)
                    .where(training_runs.c.id == b["id"])).first() is not None:
        raise Conflict(f"run {b['id']} is already committed; a run starts before it is "
                       "committed, so start a new run with a new id")
    seen: set[str] = set()
    not_in_force = []
    for i, lic_id in enumerate(b["licenses"]):
        pointer = f"/statement/body/licenses/{i}"
        if lic_id in seen:
            raise InvalidStatement(f"license {lic_id} appears twice; list it once", pointer)
        seen.add(lic_id)
        lic = conn.execute(select(licenses).where(licenses.c.id == lic_id)).first()
        if lic is None:
            raise NotFound(f"{pointer}: license {lic_id} is not registered; a run relies only "
                           "on granted licenses")
        if lic.licensee_id != b["developer"]:
            raise Conflict(f"{pointer}: license {lic_id} is granted to {lic.licensee_id}, not "
                           f"to {b['developer']}; a run relies only on the developer's own "
                           "licenses")
        if lic.revoked_at is not None or _reasons_at(conn, lic, a.time, "the start"):
            not_in_force.append(lic_id)
    conn.execute(run_starts.insert().values(
        id=b["id"], developer_id=b["developer"], model_family=b["model_family"],
        licenses=json.dumps(b["licenses"]), note=b.get("note"), log_index=a.index,
        started_at=a.time))
    return {"id": b["id"], "licenses": b["licenses"], "started_at": a.time,
            "licenses_not_in_force": not_in_force}


# -- commands ---------------------------------------------------------------------------------------
def default_opening(manifest: Path) -> Path:
    return manifest.with_name(manifest.name + ".opening")


def start_run(home: Home, ledger: Ledger, developer: str, model_family: str,
              licenses_relied_on: Iterable[str], run_id: str | None = None,
              note: str | None = None) -> dict[str, Any]:
    """Log ``run.started`` before training, signed with the developer's key: the licenses the
    run relies on and its model family. Returns the run id, log index and log time."""
    wanted = list(dict.fromkeys(licenses_relied_on))
    if not wanted:
        raise BadInput("name at least one license the run relies on (--license L)")
    if run_id is not None:
        check_run_id(run_id, "--id ", "leave it out to get a new one")
    with ledger.db.read() as conn:
        dev = resolve_party(conn, developer)
        for lic in wanted:
            if conn.execute(select(licenses.c.id).where(licenses.c.id == lic)).first() is None:
                raise NotFound(f"--license {lic} is not registered; `reelrights license list` "
                               "shows the licenses")
    if dev.kind != "developer":
        raise PolicyDenied(f"{dev.id} is a {dev.kind}, not a developer; only a developer "
                           "starts a training run")
    body: dict[str, Any] = {"id": run_id or new_id("run"), "developer": dev.id,
                            "model_family": model_family, "licenses": wanted}
    if note:
        body["note"] = note
    check_body("run.started", 1, body, dev.id)
    key = signing_key(home, ledger, dev.id)
    receipt = ledger.submit([sign_statement(ledger.new_statement("run.started", dev.id, body),
                                            key)])[0]
    return {"id": body["id"], "log_index": receipt.index, "started_at": receipt.log_time,
            "licenses": wanted,
            "licenses_not_in_force": receipt.details.get("licenses_not_in_force", [])}


def commit_run(home: Home, ledger: Ledger, manifest: Path, developer: str, model_family: str,
               model: str, base_model: str | None = None, opening: Path | None = None,
               description: str | None = None, workers: int | None = None,
               run_id: str | None = None) -> dict[str, Any]:
    """Commit to ``manifest``; return id, root, count, log_index and the opening file's path.

    ``run_id`` commits a run logged earlier with ``run.started`` (its licenses are then judged
    over the interval from the start to the commit); without it the run gets a new id and is
    judged at its commit.

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
        if run_id is not None:
            start = _started(conn, run_id)
            if start.developer_id != dev.id:
                raise PolicyDenied(f"run {run_id} was started by {start.developer_id}, not "
                                   f"{dev.id}; only the developer that started it commits it")
            if start.model_family != model_family:
                raise BadInput(f"run {run_id} was started for model family "
                               f"{start.model_family!r}, not {model_family!r}; pass "
                               f"--model-family {start.model_family}")
    if dev.kind != "developer":
        raise PolicyDenied(f"{dev.id} is a {dev.kind}, not a developer; only a developer "
                           "commits to a training run")
    key = signing_key(home, ledger, dev.id)  # fail on a missing key before hashing anything
    tmp = opening.with_name(f".{opening.name}.{secrets.token_hex(4)}.tmp")
    try:
        digest = commit_manifest(manifest, tmp, workers)
        body: dict[str, Any] = {"id": run_id or new_id("run"), "developer": dev.id,
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
            "licenses_not_in_force": receipt.details.get("licenses_not_in_force", []),
            "judged": receipt.details.get("judged", "at_commit"),
            **({"over_interval": receipt.details["over_interval"]}
               if "over_interval" in receipt.details else {})}


def _started(conn: Connection, run_id: str) -> StoredRow:
    check_run_id(run_id, "--run ", "`reelrights run start` prints it")
    start = conn.execute(select(run_starts).where(run_starts.c.id == run_id)).first()
    if start is None:
        raise NotFound(f"run {run_id} was not started; log it with `reelrights run start` first, "
                       "or commit without --run")
    if conn.execute(select(training_runs.c.id)
                    .where(training_runs.c.id == run_id)).first() is not None:
        raise Conflict(f"run {run_id} is already committed; start a new run")
    return start


# -- queries ----------------------------------------------------------------------------------------
def resolve_run(conn: Connection, ref: str) -> Run:
    return resolve(conn, RUN, ref)


def run_detail(db: Database, ref: str) -> RunDetail:
    """The run's public record: commitment, totals, and usage with license status."""
    with db.read() as conn:
        r = resolve_run(conn, ref)
        usage = conn.execute(
            select(run_usage, bundles.c.name.label("bundle_name"))
            .join(bundles, bundles.c.id == run_usage.c.bundle_id)
            .where(run_usage.c.run_id == r.id)
            .order_by(run_usage.c.bundle_id, run_usage.c.license_id)).all()
        why = dict(conn.execute(select(run_out_of_force.c.license_id, run_out_of_force.c.reason)
                                .where(run_out_of_force.c.run_id == r.id)).all())
        judgement = run_judgement(conn, r)
        judged = judgement["judged"]
        span = judgement.get("over_interval")
        start = conn.execute(select(run_starts).where(run_starts.c.id == r.id)).first()
        marks = find_marks(conn, runs=[r.id])
    return widen(
        r, RunDetail, judged=judged,
        over_interval=Interval(span["from"], span["to"], span["started_log_index"])
        if span else None,
        usage=tuple(RunUsage(u.bundle_id, u.bundle_name, u.license_id, u.items, u.seconds,
                             u.frames, u.tokens, u.images, u.in_force == "1", judged,
                             why.get(u.license_id)) for u in usage),
        started=RunStart.from_row(start)
        if start is not None and judged == "over_interval" else None,
        affected_by=tuple(marks))


def list_runs(db: Database, developer: str | None = None) -> list[Run]:
    with db.read() as conn:
        where = ([training_runs.c.developer_id == resolve_party(conn, developer).id]
                 if developer else [])
        return find_many(conn, RUN, *where)
