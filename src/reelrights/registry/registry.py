"""The registry: parties, works, their assets (content-hashed files) and credits.

Two halves. The *appliers* run inside the ledger's transaction and turn accepted statements into
rows, enforcing the rules a signature cannot: ids are unique, a key belongs to one party, an asset
hash always describes the same bytes, only a work's owner credits it, and shares per role add up
to at most 1. The *commands* are what a party runs on its own machine: build a statement, sign it
with the party's key from the home, and submit it.
"""

from __future__ import annotations

import base64
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from ..catalogue import check_body
from ..core.ids import new_id
from ..core.labor_rules import source_material_problem
from ..core.schema import parse_ratio
from ..core.statement_types import OPERATOR
from ..core.statements import decode_entry, key_id_for, sign_statement
from ..errors import BadInput, Conflict, InvalidStatement, NotFound, PolicyDenied
from ..home import Home
from ..keys import PartyKey
from ..ledger import Accepted, Ledger, Receipt, applier, at
from ..log.store import insert_rows
from ..store.tables import assets, credits, log_entries, parties, work_assets, works

__all__ = ["credit_work", "list_parties", "list_works", "party_detail", "register_party",
           "register_work", "resolve_party", "resolve_work", "work_detail"]


# ---------------------------------------------------------------------------------------------
# Appliers: statements -> rows (inside the ledger's transaction)
# ---------------------------------------------------------------------------------------------

# Column orders of the row tuples the appliers insert (plain driver executemany).
_PARTY_COLUMNS = ("id", "kind", "name", "public_key", "key_id", "log_index", "registered_at")
_WORK_COLUMNS = ("id", "kind", "title", "year", "owner_id", "external_ids", "log_index",
                 "registered_at")
_ASSET_COLUMNS = ("sha256", "size", "media_type", "category", "duration_ms", "pages", "lines",
                  "width", "height", "log_index")
_LINK_COLUMNS = ("work_id", "sha256", "name", "log_index")


@applier("party.registered")
def _apply_parties(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
    bodies = [a.statement.body for a in run]
    keys = [base64.b64decode(b["public_key"]) for b in bodies]
    key_ids = [key_id_for(k) for k in keys]
    taken_ids = set(conn.scalars(select(parties.c.id).where(parties.c.id.in_([b["id"] for b in bodies]))))
    taken_keys = set(conn.scalars(select(parties.c.key_id).where(parties.c.key_id.in_(key_ids))))
    rows = []
    for pos, (a, b, key, kid) in enumerate(zip(run, bodies, keys, key_ids, strict=True)):
        if b["id"] in taken_ids:
            raise at(pos, Conflict(f"party id {b['id']} is already registered; pick a new id"))
        if kid in taken_keys:
            raise at(pos, Conflict(f"public key {kid} already belongs to another party; "
                                   "every party needs its own key"))
        taken_ids.add(b["id"])
        taken_keys.add(kid)
        rows.append((b["id"], b["kind"], b["name"], key, kid, a.index, a.time))
    insert_rows(conn, parties, _PARTY_COLUMNS, rows)
    return [{"id": r[0]} for r in rows]


@applier("work.registered")
def _apply_works(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
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
    from ..rights.disputes import (FirstHolder, dispute_id, earlier_claim, first_holders,
                                   open_same_bytes, repeat_claim_message)

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


@applier("work.credited")
def _apply_credits(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
    details = []
    for pos, a in enumerate(run):
        b, actor = a.statement.body, a.statement.actor
        work = conn.execute(select(works.c.id, works.c.owner_id, works.c.title)
                            .where(works.c.id == b["work"])).first()
        if work is None:
            raise at(pos, NotFound(f"work {b['work']} is not registered; check the id with "
                                   "`reelrights work list`"))
        if work.owner_id != actor:
            raise at(pos, PolicyDenied(f"only the owner of {work.id} ({work.owner_id}) may credit "
                                       f"it, not {actor}; sign with the owner's key"))
        if conn.execute(select(parties.c.id).where(parties.c.id == b["party"])).first() is None:
            raise at(pos, NotFound(f"party {b['party']} is not registered; "
                                   "register it first with `reelrights party add`"))
        shares = conn.execute(select(credits.c.party_id, credits.c.share).where(
            credits.c.work_id == b["work"], credits.c.role == b["role"])).all()
        if any(r.party_id == b["party"] for r in shares):
            raise at(pos, Conflict(f"{b['party']} is already credited as {b['role']} on "
                                   f"{b['work']}; each party has one credit per role"))
        total = sum((parse_ratio(r.share) for r in shares), Fraction(0))
        new = parse_ratio(b["share"])
        if total + new > 1:
            left = (f"{_fmt(1 - total)} is left, so pass --share {_fmt(1 - total)} or less"
                    if total < 1 else "the role is fully allocated")
            raise at(pos, Conflict(f"{b['role']} shares on {b['work']} would total "
                                   f"{_fmt(total + new)}, over 1; {left}"))
        conn.execute(credits.insert().values(work_id=b["work"], party_id=b["party"],
                                             role=b["role"], share=b["share"], log_index=a.index))
        details.append({"work": b["work"], "party": b["party"], "role": b["role"],
                        "share": b["share"], "role_total": _fmt(total + new)})
    return details


# ---------------------------------------------------------------------------------------------
# Commands: what a party runs (build, sign with its key, submit)
# ---------------------------------------------------------------------------------------------

def _sign_and_submit(ledger: Ledger, key: PartyKey, type_: str, actor: str,
                     body: dict[str, Any]) -> Receipt:
    statement = ledger.new_statement(type_, actor, body)
    check_body(type_, 1, body, actor)  # refuse bad input before anything is signed
    return ledger.submit([sign_statement(statement, key)])[0]


def submit_as(home: Home, ledger: Ledger, type_: str, actor: str, body: dict[str, Any]) -> Receipt:
    """Check ``body``, sign the statement with ``actor``'s key from the home, and submit it: what
    every capability's commands do for the party whose key lives in this home."""
    check_body(type_, 1, body, actor)  # refuse bad input before the key is even read
    return _sign_and_submit(ledger, home.party_key(actor), type_, actor, body)


def submit_as_operator(home: Home, ledger: Ledger, type_: str, body: dict[str, Any]) -> Receipt:
    """Check ``body``, sign the statement as the registry's operator with the home's log key
    (only the operator's home holds it), and submit it."""
    check_body(type_, 1, body, OPERATOR)
    return _sign_and_submit(ledger, home.log_key(), type_, OPERATOR, body)


def register_party(home: Home, ledger: Ledger, kind: str, name: str,
                   passphrase_env: str | None = None) -> Receipt:
    """Create a party with its own key pair; the key file is written 0600 in the home."""
    key = PartyKey.generate()
    party_id = new_id("party")
    body = {"id": party_id, "kind": kind, "name": name,
            "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
    check_body("party.registered", 1, body, party_id)
    home.store_party_key(party_id, key, passphrase_env)
    try:
        return _sign_and_submit(ledger, key, "party.registered", party_id, body)
    except BaseException:
        # Refused: drop the key, so nothing is left behind. But a failure can also come after
        # the commit (publishing the tiles); then the party is in the log and needs its key.
        if not _party_recorded(ledger, party_id):
            home.party_key_path(party_id).unlink(missing_ok=True)
            if home.passphrase_envs.pop(party_id, None) is not None:
                home.save()
        raise


def _party_recorded(ledger: Ledger, party_id: str) -> bool:
    """Whether the party is registered; True when that cannot be told (keep the key then)."""
    try:
        with ledger.db.read() as conn:
            return conn.execute(select(parties.c.id).where(parties.c.id == party_id)).first() \
                is not None
    except Exception:  # noqa: BLE001 - the database is unreachable: a stray key beats a lost one
        return True


def register_work(home: Home, ledger: Ledger, owner: str, kind: str, title: str,
                  files: list[Path], year: int | None = None,
                  external_ids: tuple[str, ...] = ()) -> Receipt:
    """Hash and probe each file (streamed), then register the work signed by its owner."""
    from ..media.probe import probe_file  # PyAV and pypdf: only when files are registered

    if not files:
        raise BadInput("work add needs at least one FILE; pass the work's media or script")
    with ledger.db.read() as conn:
        owner_row = resolve_party(conn, owner)
    facts = []
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
    return _sign_and_submit(ledger, home.party_key(owner_row.id), "work.registered",
                            owner_row.id, body)


def credit_work(home: Home, ledger: Ledger, work: str, party: str, role: str,
                share: str) -> Receipt:
    with ledger.db.read() as conn:
        work_row = resolve_work(conn, work)
        party_row = resolve_party(conn, party)
    body = {"work": work_row.id, "party": party_row.id, "role": role, "share": share}
    return _sign_and_submit(ledger, home.party_key(work_row.owner_id), "work.credited",
                            work_row.owner_id, body)


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def _resolve(conn: Connection, table: Any, label_col: Any, ref: str, *, many: str,
             none: str) -> Any:
    """A row by id, or by its exact label when exactly one row carries it."""
    row = conn.execute(select(table).where(table.c.id == ref)).first()
    if row is not None:
        return row
    rows = conn.execute(select(table).where(label_col == ref)).all()
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise BadInput(f"{len(rows)} {many} {ref!r}; use the id ({', '.join(r.id for r in rows)})")
    raise NotFound(none.format(ref=ref))


def resolve_party(conn: Connection, ref: str) -> Any:
    """A party by id, or by its exact name when that name is unique."""
    return _resolve(conn, parties, parties.c.name, ref, many="parties are named",
                    none="no party {ref!r}; `reelrights party list` shows ids and names")


def resolve_work(conn: Connection, ref: str) -> Any:
    """A work by id, or by its exact title when that title is unique."""
    return _resolve(conn, works, works.c.title, ref, many="works are titled",
                    none="no work {ref!r}; `reelrights work list` shows ids and titles")


def _party_json(r: Any) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "name": r.name,
            "public_key": base64.b64encode(bytes(r.public_key)).decode("ascii"),
            "key_id": r.key_id, "log_index": r.log_index, "registered_at": r.registered_at}


def list_parties(db: Any, kind: str | None = None) -> list[dict[str, Any]]:
    with db.read() as conn:
        q = select(parties).order_by(parties.c.log_index)
        if kind:
            q = q.where(parties.c.kind == kind)
        return [_party_json(r) for r in conn.execute(q)]


def party_detail(db: Any, ref: str) -> dict[str, Any]:
    with db.read() as conn:
        row = resolve_party(conn, ref)
        owned = conn.execute(select(works.c.id, works.c.title).where(works.c.owner_id == row.id)
                             .order_by(works.c.log_index)).all()
        credited = conn.execute(select(credits.c.work_id, credits.c.role, credits.c.share,
                                       credits.c.log_index)
                                .where(credits.c.party_id == row.id)
                                .order_by(credits.c.log_index)).all()
    return {**_party_json(row), "works_owned": [{"id": w.id, "title": w.title} for w in owned],
            "credits": [{"work": c.work_id, "role": c.role, "share": c.share,
                         "log_index": c.log_index} for c in credited]}


def _work_json(r: Any) -> dict[str, Any]:
    out = {"id": r.id, "kind": r.kind, "title": r.title, "owner": r.owner_id,
           "log_index": r.log_index, "registered_at": r.registered_at,
           "external_ids": json.loads(r.external_ids)}
    if r.year is not None:
        out["year"] = r.year
    return out


def list_works(db: Any, owner: str | None = None) -> list[dict[str, Any]]:
    with db.read() as conn:
        q = select(works).order_by(works.c.log_index)
        if owner:
            q = q.where(works.c.owner_id == resolve_party(conn, owner).id)
        return [_work_json(r) for r in conn.execute(q)]


def work_detail(db: Any, ref: str) -> dict[str, Any]:
    with db.read() as conn:
        row = resolve_work(conn, ref)
        files = conn.execute(select(work_assets.c.name, work_assets.c.log_index, assets)
                             .join(assets, assets.c.sha256 == work_assets.c.sha256)
                             .where(work_assets.c.work_id == row.id)
                             .order_by(work_assets.c.name)).all()
        creds = conn.execute(select(credits.c.party_id, parties.c.name, credits.c.role,
                                    credits.c.share, credits.c.log_index)
                             .join(parties, parties.c.id == credits.c.party_id)
                             .where(credits.c.work_id == row.id)
                             .order_by(credits.c.role, credits.c.log_index)).all()
    asset_list = []
    for f in files:
        item = {"name": f.name, "sha256": f.sha256, "size": f.size, "media_type": f.media_type,
                "category": f.category}
        for k in ("duration_ms", "pages", "lines", "width", "height"):
            if getattr(f, k) is not None:
                item[k] = getattr(f, k)
        asset_list.append(item)
    return {**_work_json(row), "assets": asset_list,
            "credits": [{"party": c.party_id, "name": c.name, "role": c.role, "share": c.share,
                         "log_index": c.log_index} for c in creds]}


def _fmt(x: Fraction) -> str:
    """``x`` as ``--share`` accepts it: an integer, a decimal of at most 12 places, or n/d.

    (``str(float(x))`` would print 1e-12, which no share parser takes.)
    """
    if x.denominator == 1:
        return str(x.numerator)
    for places in range(1, 13):
        scaled = abs(x) * 10**places
        if scaled.denominator == 1:
            whole, frac = divmod(scaled.numerator, 10**places)
            return f"{'-' if x < 0 else ''}{whole}.{frac:0{places}d}"
    return f"{x.numerator}/{x.denominator}"


def _chunks(items: list[str], n: int) -> list[list[str]]:
    return [items[i:i + n] for i in range(0, len(items), n)]


def confusable_parties(db: Any, name: str) -> list[tuple[str, str]]:
    """Registered parties (id, name) whose name can be mistaken for ``name``: the same Unicode
    TR 39 skeleton (case and spacing folded). ``party add`` warns about them."""
    from ..core.names import skeleton

    wanted = skeleton(name)
    with db.read() as conn:
        rows = conn.execute(select(parties.c.id, parties.c.name).order_by(parties.c.id)).all()
    return [(r.id, r.name) for r in rows if skeleton(r.name) == wanted]
