"""Works and their assets (content-hashed files): the ``work.registered`` applier, ``work add``
and the work read models.

The applier enforces what a signature cannot: a work id is registered once, its owner is a
registered party, an asset hash always describes the same bytes (the same bytes under another
owner are an ownership dispute, see :mod:`reelrights.rights.disputes`), and generated works are
not source material (WGA 2023 Art. 72). Credits are :mod:`.credits`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from ..core.ids import new_id
from ..core.labor_rules import source_material_problem
from ..core.statements import decode_entry
from ..errors import BadInput, Conflict, InvalidStatement, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, at
from ..log.database_log import insert_rows
from ..store.db import Database
from ..store.resolve import find_many, widen
from ..store.tables import assets, credits, log_entries, parties, work_assets, works
from .identifiers import index_identifiers
from .records import WORK, Work, WorkCredit, WorkDetail, WorkFile
from .resolve import resolve_party, resolve_work
from .submit import sign_and_submit, signing_key

__all__ = ["list_works", "register_work", "work_detail"]


# ---------------------------------------------------------------------------------------------
# The applier: statements -> rows (inside the ledger's transaction)
# ---------------------------------------------------------------------------------------------

# Column orders of the row tuples the applier inserts (plain driver executemany).
_WORK_COLUMNS = ("id", "kind", "title", "year", "owner_id", "external_ids", "log_index",
                 "registered_at")
_ASSET_COLUMNS = ("sha256", "size", "media_type", "category", "duration_ms", "pages", "lines",
                  "width", "height", "log_index")
_LINK_COLUMNS = ("work_id", "sha256", "name", "log_index")


@applier("work.registered", batch=True)
def _apply_works(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
    """Batch-shaped (``batch=True``), the measured hot path of benchmarks/log_append.py and
    log_rebuild.py: set-based INSERTs for the whole run, the checked path only when the
    database's keys object (or a work names source material)."""
    if not any("source_material" in a.statement.body for a in run):
        details = _insert_new_works(conn, run)
        if details is not None:
            return details
    return _apply_works_checked(conn, run)


def _insert_new_works(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]] | None:
    """The common case, in three INSERTs and no lookups: new work ids, new asset hashes, known
    owners. The database's own keys (works and assets primary keys, the owner's foreign key)
    are the check. When one of them objects, the inserts are rolled back to a savepoint and
    None returned: :func:`_apply_works_checked` then looks everything up and says what is wrong
    (or registers the assets that were already known).
    """
    work_rows, asset_rows, link_rows, details = [], [], [], []
    first_seen: dict[str, tuple[str, int, str]] = {}  # sha256 -> (first work, size, owner)
    for a in run:
        b = a.statement.body
        wid = b["id"]
        ext = b.get("external_ids")
        work_rows.append((wid, b["kind"], b["title"], b.get("year"), b["owner"],
                          json.dumps(ext) if ext else "[]", a.index, a.time))
        notes = []
        for x in b["assets"]:
            sha = x["sha256"]
            seen = first_seen.get(sha)
            if seen is None:
                first_seen[sha] = (wid, x["size"], b["owner"])
                asset_rows.append((sha, x["size"], x["media_type"], x["category"],
                                   x.get("duration_ms"), x.get("pages"), x.get("lines"),
                                   x.get("width"), x.get("height"), a.index))
                notes.append({"sha256": sha, "name": x["name"], "new": True})
            elif seen[1] != x["size"] or seen[2] != b["owner"]:
                return None  # another owner's bytes: an ownership conflict, decided below
            else:
                notes.append({"sha256": sha, "name": x["name"], "new": False,
                              "first_work": seen[0]})
            link_rows.append((wid, sha, x["name"], a.index))
        details.append({"id": wid, "assets": notes})
    if len({r[0] for r in work_rows}) != len(work_rows):
        return None
    conn.exec_driver_sql("SAVEPOINT new_works")
    try:
        insert_rows(conn, works, _WORK_COLUMNS, work_rows)
        insert_rows(conn, assets, _ASSET_COLUMNS, asset_rows)
        insert_rows(conn, work_assets, _LINK_COLUMNS, link_rows)
        index_identifiers(conn, "work", ((a.statement.body["id"],
                                          a.statement.body.get("external_ids"), a.index)
                                         for a in run))
    except IntegrityError:
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT new_works")
        conn.exec_driver_sql("RELEASE SAVEPOINT new_works")
        return None
    conn.exec_driver_sql("RELEASE SAVEPOINT new_works")
    return details


def _apply_works_checked(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
    """Every rule, with look-ups. An asset already held by another owner is an ownership
    conflict, not a second work: the claimant's work is registered without it and the conflict
    is recorded as a dispute (rights.disputes) naming both parties. The same owner registering
    the same bytes again links them to its new work (one rights chain)."""
    from ..rights.disputes import (
        FirstHolder,
        dispute_id,
        earlier_claim,
        first_holders,
        open_same_bytes,
        repeat_claim_message,
    )

    bodies = [a.statement.body for a in run]
    owners = {b["owner"] for b in bodies}
    known_owners = set(conn.scalars(select(parties.c.id).where(parties.c.id.in_(owners))))
    taken = set(conn.scalars(select(works.c.id).where(works.c.id.in_([b["id"] for b in bodies]))))
    shas = {x["sha256"] for b in bodies for x in b["assets"]}
    sizes: dict[str, int] = {}
    for chunk in _chunks(sorted(shas), 500):
        for r in conn.execute(select(assets.c.sha256, assets.c.size)
                              .where(assets.c.sha256.in_(chunk))):
            sizes[r.sha256] = int(r.size)
    # The first work is the one registered by the statement that created the asset row (ids
    # are random, so the smallest id is not the first).
    chains = first_holders(conn, sizes) if sizes else {}
    work_rows, asset_rows, link_rows, details = [], [], [], []
    for pos, (a, b) in enumerate(zip(run, bodies, strict=True)):
        if b["owner"] not in known_owners:
            raise at(pos, NotFound(f"owner {b['owner']} is not a registered party; "
                                   "register it first with `reelrights party add`"))
        if b["id"] in taken:
            raise at(pos, Conflict(f"work id {b['id']} is already registered; pick a new id"))
        taken.add(b["id"])
        if "source_material" in b:  # WGA 2023 Art. 72 (W1): generated is not source material
            _check_source_material(conn, pos, b, bodies[:pos])
        ext = b.get("external_ids")
        work_rows.append((b["id"], b["kind"], b["title"], b.get("year"), b["owner"],
                          json.dumps(ext) if ext else "[]", a.index, a.time))
        notes, claims = [], []
        for x in b["assets"]:
            sha = x["sha256"]
            if sha in sizes:
                if sizes[sha] != x["size"]:
                    raise at(pos, Conflict(
                        f"asset {sha} is registered with size {sizes[sha]}, not {x['size']}; "
                        "the same hash always names the same bytes, so re-hash the file"))
                chain = chains[sha]
                if b["owner"] not in chain.holders:
                    if (prior := earlier_claim(conn, sha, b["owner"])) is not None:
                        raise at(pos, Conflict(repeat_claim_message(prior, sha)))
                    claims.append((sha, b["owner"], b["id"], chain))
                    notes.append({"sha256": sha, "name": x["name"], "new": False,
                                  "first_work": chain.work, "first_owner": chain.owner,
                                  "dispute": dispute_id(a, len(claims) - 1)})
                    continue
                notes.append({"sha256": sha, "name": x["name"], "new": False,
                              "first_work": chain.work})
            else:
                sizes[sha] = x["size"]
                chains[sha] = FirstHolder(b["id"], b["owner"], a.index, frozenset({b["owner"]}))
                asset_rows.append((sha, x["size"], x["media_type"], x["category"],
                                   x.get("duration_ms"), x.get("pages"), x.get("lines"),
                                   x.get("width"), x.get("height"), a.index))
                notes.append({"sha256": sha, "name": x["name"], "new": True})
            link_rows.append((b["id"], sha, x["name"], a.index))
        details.append({"id": b["id"], "assets": notes, "claims": claims, "accepted": a})
    insert_rows(conn, works, _WORK_COLUMNS, work_rows)
    insert_rows(conn, assets, _ASSET_COLUMNS, asset_rows)
    insert_rows(conn, work_assets, _LINK_COLUMNS, link_rows)
    index_identifiers(conn, "work", ((b["id"], b.get("external_ids"), a.index)
                                     for a, b in zip(run, bodies, strict=True)))
    for d in details:
        claims, accepted = d.pop("claims"), d.pop("accepted")
        if claims:
            d["disputes"] = open_same_bytes(conn, accepted, claims)
    return details


def _check_source_material(conn: Connection, pos: int, b: dict[str, Any],
                           earlier: list[dict[str, Any]]) -> None:
    """Refuse generated works as source material (WGA 2023 MBA Article 72, W1).

    A work's ``generated`` flag lives in its signed statement, so it is read from the log (or
    from ``earlier``, the works before it in this run).
    """
    in_run = {e["id"]: e.get("generated") is True for e in earlier}
    for i, src in enumerate(b["source_material"]):
        pointer = f"/statement/body/source_material/{i}"
        if src == b["id"] or src in b["source_material"][:i]:
            raise at(pos, InvalidStatement(f"{src} is listed twice or is the work itself; "
                                           "list each source work once", pointer))
        generated = in_run.get(src)
        if generated is None:
            row = conn.execute(select(works.c.log_index).where(works.c.id == src)).first()
            if row is None:
                raise at(pos, NotFound(f"source material {src} is not a registered work; "
                                       "register it first with `reelrights work add`"))
            entry = conn.scalar(select(log_entries.c.entry)
                                .where(log_entries.c.idx == row.log_index))
            if entry is None:
                raise at(pos, Conflict(f"source material {src} is registered in this same "
                                       "batch; submit it in an earlier batch"))
            generated = decode_entry(bytes(entry)).body.get("generated") is True
        if problem := source_material_problem(src, generated):
            raise at(pos, PolicyDenied(problem))


def _chunks(items: list[str], n: int) -> list[list[str]]:
    return [items[i:i + n] for i in range(0, len(items), n)]


# ---------------------------------------------------------------------------------------------
# Commands: what a work's owner runs (hash the files, sign with its key, submit)
# ---------------------------------------------------------------------------------------------

def register_work(home: Home, ledger: Ledger, owner: str, kind: str, title: str,
                  files: list[Path], year: int | None = None,
                  external_ids: tuple[str, ...] = ()) -> Receipt:
    """Hash and probe each file (streamed), then register the work signed by its owner."""
    from ..media.probe import probe_file  # PyAV and pypdf: only when files are registered

    if not files:
        raise BadInput("work add needs at least one FILE; pass the work's media or script")
    with ledger.db.read() as conn:
        owner_row = resolve_party(conn, owner)
    facts: list[dict[str, Any]] = []
    for path in files:
        f = probe_file(path)
        facts.append({**f.to_json(), "name": Path(path).name})
    seen: dict[str, str] = {}
    for x in facts:
        if x["sha256"] in seen:
            raise BadInput(f"{x['name']} has the same content as {seen[x['sha256']]}; "
                           "pass each file once")
        seen[x["sha256"]] = x["name"]
    body: dict[str, Any] = {"id": new_id("work"), "kind": kind, "title": title,
                            "owner": owner_row.id, "assets": facts}
    if year is not None:
        body["year"] = year
    if external_ids:
        body["external_ids"] = list(external_ids)
    return sign_and_submit(ledger, signing_key(home, ledger, owner_row.id), "work.registered",
                           owner_row.id, body)


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def list_works(db: Database, owner: str | None = None) -> list[Work]:
    with db.read() as conn:
        where = [works.c.owner_id == resolve_party(conn, owner).id] if owner else []
        return find_many(conn, WORK, *where)


def work_detail(db: Database, ref: str) -> WorkDetail:
    with db.read() as conn:
        work = resolve_work(conn, ref)
        files = conn.execute(select(work_assets.c.name, work_assets.c.log_index, assets)
                             .join(assets, assets.c.sha256 == work_assets.c.sha256)
                             .where(work_assets.c.work_id == work.id)
                             .order_by(work_assets.c.name)).all()
        creds = conn.execute(select(credits.c.party_id, parties.c.name, credits.c.role,
                                    credits.c.share, credits.c.log_index)
                             .join(parties, parties.c.id == credits.c.party_id)
                             .where(credits.c.work_id == work.id)
                             .order_by(credits.c.role, credits.c.log_index)).all()
    return widen(work, WorkDetail, assets=tuple(WorkFile.from_row(f) for f in files),
                 credits=tuple(WorkCredit(c.party_id, c.name, c.role, c.share, c.log_index)
                               for c in creds))
