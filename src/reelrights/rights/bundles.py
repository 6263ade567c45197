"""Bundles: immutable, versioned sets of works and assets that a rights holder offers for license.

A bundle version is fixed by one ``bundle.created`` statement signed by its owner. The statement
carries the bundle's Merkle root, its totals and its credited contributors, and the registry
**recomputes all three** from its own rows before it accepts the statement. Anyone replaying the
log can therefore trust the numbers: a signer cannot overstate or understate what it bundled.

Members. A bundle holds every asset of each work it lists (``work_assets``) plus the assets it
lists directly by SHA-256, deduplicated. The owner may bundle only what it owns: each listed work
must be the owner's, and each direct asset must belong to at least one of the owner's works.

Root. The bundle root is the RFC 9162 Merkle tree hash over the sorted, distinct 32-byte asset
digests, each hashed as a leaf::

    root = MTH([SHA-256(0x00 || d) for d in sorted(digests)])   # d: the 32 raw SHA-256 bytes

that is ``root_of([leaf_hash(bytes.fromhex(h)) for h in sorted(hex_digests)])``. Sorting the
lowercase hex strings sorts the bytes in the same order. Any RFC 9162 / RFC 6962 implementation
(for example Go's ``transparency-dev/merkle``) reproduces it, and an inclusion proof shows that
one file is in the bundle without revealing the others.

Works. The bundle's works (rows of ``bundle_works``) are the works it lists plus, for each direct
asset, the owner's works that contain it. A direct asset carries the credits of its work, so a
guild whose member is credited there must co-sign a license on the bundle as if the whole work
were listed. The signed body keeps the works as listed; :func:`bundle_detail` says which works
are listed whole and which only contribute some assets.

Totals. ``assets`` counts the distinct assets. ``video_ms`` sums the durations of video assets,
``audio_ms`` those of audio assets (a video's own soundtrack counts as video). ``script_pages``
and ``script_lines`` sum the pages and lines of text and document assets. ``images`` counts image
assets, ``other`` the remaining ones.

Contributors. The sorted, distinct ids of the parties credited, when the version is created, on
any work that holds one of the bundle's assets: credits follow the asset, so the same bytes
re-registered as an uncredited work still carry their credits. A version never changes, so a
credit added later does not change it; it enters the next version.

Versions. ``(owner, name, version)`` is unique. The first version of a name has no predecessor.
Every later version must name the latest version of that name as its ``predecessor``, so the
versions of a name form one chain and are never edited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from ..catalogue import check_body
from ..core.canonical import canonical_bytes
from ..core.ids import new_id
from ..core.merkle import leaf_hash, root_of
from ..core.schema import List, Obj
from ..core.statements import MAX_ENVELOPE_BYTES, decode_entry, sign_statement
from ..errors import BadInput, Conflict, InvalidStatement, NotFound, PolicyDenied, VerificationError
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..log.database_log import insert_rows
from ..registry.resolve import resolve_party, resolve_work
from ..registry.submit import signing_key
from ..store.db import Database
from ..store.resolve import find_many, resolve, widen
from ..store.tables import (
    assets,
    bundle_assets,
    bundle_works,
    bundles,
    credits,
    log_entries,
    parties,
    work_assets,
    works,
)
from . import types as rights_types
from .records import BUNDLE, Bundle, BundleContributor, BundleDetail, BundleVersion, BundleWork

__all__ = ["Composition", "bundle_asset_hashes", "bundle_detail", "bundle_root",
           "bundle_versions", "bundles_containing", "compose", "create_bundle", "format_hours",
           "list_bundles", "resolve_bundle", "verify_bundle_root", "TOTAL_KEYS"]

TOTAL_KEYS = ("assets", "video_ms", "audio_ms", "script_pages", "script_lines", "images", "other")

_BODY = next(t for t in rights_types.TYPES if t.name == "bundle.created").body
#: The schema's list limits (2000 works, 800 direct assets, 2000 contributors): one statement
#: must fit in a 65,535-byte log entry.


def _max_items(field: str) -> int:
    spec = _BODY.required[field] if isinstance(_BODY, Obj) else None
    if not isinstance(spec, List):
        raise TypeError(f"bundle.created field {field!r} is not a list in the schema")
    return spec.max_items


MAX_WORKS = _max_items("works")
MAX_ASSETS = _max_items("assets")
MAX_CONTRIBUTORS = _max_items("contributors")
_VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_CHUNK = 500
_SPLIT = "split them into several bundles (for example by series or by year)"


def bundle_root(sha256s: Iterable[str]) -> str:
    """The RFC 9162 root over the sorted distinct asset digests, each hashed as a leaf (hex)."""
    return root_of([leaf_hash(bytes.fromhex(h)) for h in sorted(set(sha256s))]).hex()


def format_hours(ms: int) -> str:
    """``ms`` as hours for people: ``1.25 h (1:15:00)``."""
    seconds = round(ms / 1000)
    h, rest = divmod(seconds, 3600)
    return f"{ms / 3_600_000:.2f} h ({h}:{rest // 60:02d}:{rest % 60:02d})"


# ---------------------------------------------------------------------------------------------
# Composition: what a bundle holds, computed the same way by the signer and by the registry
# ---------------------------------------------------------------------------------------------

@dataclass
class Composition:
    """The members and derived numbers of a bundle, recomputed from the registry."""

    works: list[str]                 # the bundle's works: listed + owner's works of direct assets
    assets: list[str]                # sorted distinct SHA-256s
    root: str
    totals: dict[str, int]
    contributors: list[str]          # sorted distinct credited party ids
    #: sha256 -> (category, size, media_type, duration_ms, pages, lines)
    facts: dict[str, tuple] = field(default_factory=dict, repr=False)


def _chunks(items: Sequence[str], n: int = _CHUNK) -> list[Sequence[str]]:
    return [items[i:i + n] for i in range(0, len(items), n)]


def compose(conn: Connection, owner: str, listed_works: Sequence[str],
            direct_assets: Sequence[str]) -> Composition:
    """Resolve a bundle's members, root, totals and contributors from the registry.

    Refuses (NotFound) a work or asset that is not registered, and (PolicyDenied) a work that
    another party owns or a direct asset that is in none of the owner's works.
    """
    work_ids = sorted(set(listed_works))
    found: dict[str, Any] = {}
    for chunk in _chunks(work_ids):
        for r in conn.execute(select(works.c.id, works.c.owner_id, works.c.title)
                              .where(works.c.id.in_(chunk))):
            found[r.id] = r
    for wid in work_ids:
        row = found.get(wid)
        if row is None:
            raise NotFound(f"work {wid} is not registered; check the id with "
                           "`reelrights work list`")
        if row.owner_id != owner:
            raise PolicyDenied(f"work {wid} ({row.title!r}) is owned by {row.owner_id}, not "
                               f"{owner}; a party can bundle only the works it owns")
    facts: dict[str, tuple] = {}
    fact_cols = (assets.c.sha256, assets.c.category, assets.c.size, assets.c.media_type,
                 assets.c.duration_ms, assets.c.pages, assets.c.lines)
    for chunk in _chunks(work_ids):
        for a in conn.execute(select(*fact_cols).join(work_assets,
                                                      work_assets.c.sha256 == assets.c.sha256)
                              .where(work_assets.c.work_id.in_(chunk))):
            facts[a.sha256] = tuple(a)[1:]
    direct = sorted(set(direct_assets) - set(facts))
    covered = set(work_ids)
    if direct:
        known: dict[str, tuple] = {}
        owned_in: dict[str, set[str]] = {}
        for chunk in _chunks(direct):
            for a in conn.execute(select(*fact_cols).where(assets.c.sha256.in_(chunk))):
                known[a.sha256] = tuple(a)[1:]
            for h in conn.execute(select(work_assets.c.sha256, work_assets.c.work_id)
                                  .join(works, works.c.id == work_assets.c.work_id)
                                  .where(work_assets.c.sha256.in_(chunk),
                                         works.c.owner_id == owner)):
                owned_in.setdefault(h.sha256, set()).add(h.work_id)
        for sha in direct:
            if sha not in known:
                raise NotFound(f"asset {sha} is not registered; register its work with "
                               "`reelrights work add` first")
            if sha not in owned_in:
                holders = sorted(set(conn.scalars(
                    select(works.c.owner_id).join(work_assets, work_assets.c.work_id == works.c.id)
                    .where(work_assets.c.sha256 == sha))))
                raise PolicyDenied(f"asset {sha} is in no work owned by {owner} (it belongs to "
                                   f"{', '.join(holders)}); a party can bundle only what it owns")
            facts[sha] = known[sha]
            covered |= owned_in[sha]
    if not facts:
        raise BadInput("a bundle needs at least one asset; list works (ids or titles) or asset "
                       "hashes")
    totals = dict.fromkeys(TOTAL_KEYS, 0)
    totals["assets"] = len(facts)
    for category, _size, _mt, duration, pages, lines in facts.values():
        if category == "video":
            totals["video_ms"] += duration or 0
        elif category == "audio":
            totals["audio_ms"] += duration or 0
        elif category in ("text", "document"):
            totals["script_pages"] += pages or 0
            totals["script_lines"] += lines or 0
        elif category == "image":
            totals["images"] += 1
        else:
            totals["other"] += 1
    bundle_work_ids = sorted(covered)
    shas = sorted(facts)
    # Credits follow the asset: every work that holds one of these bytes (another work of the
    # same owner, a released claimant's) brings its credited contributors.
    holding = set(covered)
    for chunk in _chunks(shas):
        holding.update(conn.scalars(select(work_assets.c.work_id)
                                    .where(work_assets.c.sha256.in_(chunk))))
    contributors: set[str] = set()
    for chunk in _chunks(sorted(holding)):
        contributors.update(conn.scalars(select(credits.c.party_id)
                                         .where(credits.c.work_id.in_(chunk))))
    return Composition(bundle_work_ids, shas, bundle_root(shas), totals, sorted(contributors),
                       facts)


# ---------------------------------------------------------------------------------------------
# Applier: statements -> rows (inside the ledger's transaction)
# ---------------------------------------------------------------------------------------------

_BUNDLE_COLUMNS = ("id", "owner_id", "name", "version", "predecessor_id", "root", "totals",
                   "description", "log_index", "created_at")


def _unique(items: list[str], pointer: str, what: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(items):
        if x in seen:
            raise InvalidStatement(f"{what} {x} is listed twice; list each {what} once",
                                   f"{pointer}/{i}")
        seen.add(x)


# One statement at a time, rows written as we go: a later statement of the same batch (the next
# version, say) sees the bundles the earlier ones created.
@applier("bundle.created")
@each_statement
def _apply_one(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    owner, name, version = b["owner"], b["name"], b["version"]
    if conn.execute(select(parties.c.id).where(parties.c.id == owner)).first() is None:
        raise NotFound(f"owner {owner} is not a registered party; register it first with "
                       "`reelrights party add`")
    if conn.execute(select(bundles.c.id).where(bundles.c.id == b["id"])).first() is not None:
        raise Conflict(f"bundle id {b['id']} is already registered; pick a new id")
    _unique(b["works"], "/statement/body/works", "work")
    _unique(b["assets"], "/statement/body/assets", "asset")
    if not b["works"] and not b["assets"]:
        raise InvalidStatement("a bundle needs at least one work or asset", "/statement/body")
    same = conn.execute(select(bundles.c.id).where(
        bundles.c.owner_id == owner, bundles.c.name == name, bundles.c.version == version)).first()
    if same is not None:
        raise Conflict(f"{owner} already has version {version} of bundle {name!r} ({same.id}); "
                       "versions are immutable, so give the new one another --version")
    latest = _latest(conn, owner, name)
    pred = b.get("predecessor")
    if pred is None and latest is not None:
        raise Conflict(f"bundle {name!r} already has versions (latest {latest.id}, version "
                       f"{latest.version}); a new version must name it: --predecessor {latest.id}")
    if pred is not None:
        row = conn.execute(select(bundles).where(bundles.c.id == pred)).first()
        if row is None:
            raise NotFound(f"predecessor {pred} is not a registered bundle; "
                           "`reelrights bundle list` shows them")
        if row.owner_id != owner or row.name != name:
            raise Conflict(f"predecessor {pred} is {row.owner_id}'s bundle {row.name!r}, not "
                           f"{owner}'s {name!r}; a version follows a version of the same bundle")
        if latest is not None and row.id != latest.id:
            raise Conflict(f"predecessor {pred} (version {row.version}) is not the latest version "
                           f"of {name!r}; name the latest, {latest.id} (version "
                           f"{latest.version})")
    comp = compose(conn, owner, b["works"], b["assets"])
    if b["root"] != comp.root:
        raise Conflict(f"/statement/body/root: signed root {b['root']} is not the root the "
                       f"registry computes over the bundle's {len(comp.assets)} assets "
                       f"({comp.root}); build the statement with `reelrights bundle create`")
    if b["totals"] != comp.totals:
        wrong = next(k for k in TOTAL_KEYS if b["totals"][k] != comp.totals[k])
        raise Conflict(f"/statement/body/totals/{wrong}: signed {b['totals'][wrong]}, but the "
                       f"registry counts {comp.totals[wrong]}; build the statement with "
                       "`reelrights bundle create`")
    if b["contributors"] != comp.contributors:
        missing = sorted(set(comp.contributors) - set(b["contributors"]))
        extra = sorted(set(b["contributors"]) - set(comp.contributors))
        why = (f"{missing[0]} is credited on the bundle's works but missing" if missing else
               f"{extra[0]} is not credited on the bundle's works" if extra else
               "they must be sorted")
        raise Conflict(f"/statement/body/contributors: {why}; the registry computes "
                       f"{len(comp.contributors)} contributors: build the statement with "
                       "`reelrights bundle create`")
    insert_rows(conn, bundles, _BUNDLE_COLUMNS, [(
        b["id"], owner, name, version, pred, comp.root, json.dumps(comp.totals),
        b.get("description"), a.index, a.time)])
    insert_rows(conn, bundle_assets, ("bundle_id", "sha256"), [(b["id"], s) for s in comp.assets])
    insert_rows(conn, bundle_works, ("bundle_id", "work_id"), [(b["id"], w) for w in comp.works])
    return {"id": b["id"], "name": name, "version": version, "root": comp.root,
            "totals": comp.totals, "works": len(comp.works), "contributors": len(comp.contributors),
            "predecessor": pred}


def _latest(conn: Connection, owner: str, name: str) -> Any:
    return conn.execute(select(bundles).where(bundles.c.owner_id == owner, bundles.c.name == name)
                        .order_by(bundles.c.log_index.desc()).limit(1)).first()


# ---------------------------------------------------------------------------------------------
# Command: what the owner runs (resolve, compute, sign, submit)
# ---------------------------------------------------------------------------------------------

def create_bundle(home: Home, ledger: Ledger, owner: str, name: str, version: str,
                  items: Sequence[str], predecessor: str | None = None,
                  description: str | None = None) -> Receipt:
    """Create a bundle version signed by ``owner``.

    ``items`` are work ids or unique titles, and 64-hex asset SHA-256s. ``predecessor`` is the
    bundle (id, ``name@version`` or name) this version follows.
    """
    if not items:
        raise BadInput("bundle create needs at least one WORK_OR_ASSET: a work id or title, or "
                       "an asset's SHA-256")
    if not _VERSION_RE.fullmatch(version) or len(version) > 40:
        raise BadInput(f"--version {version!r} must be 1 to 40 letters, digits, '.', '_' or '-', "
                       "starting with a letter or digit (e.g. 1 or 2026.1)")
    with ledger.db.read() as conn:
        owner_id = resolve_party(conn, owner).id
        listed: list[str] = []
        direct: list[str] = []
        for item in items:
            if _HEX64.fullmatch(item):
                direct.append(item.lower())
            else:
                listed.append(resolve_work(conn, item).id)
        work_ids = sorted(set(listed))
        if len(work_ids) > MAX_WORKS:
            raise BadInput(f"{len(work_ids)} works: one bundle version lists at most {MAX_WORKS} "
                           f"works; {_SPLIT}")
        comp = compose(conn, owner_id, work_ids, direct)
        in_works: set[str] = set()
        for chunk in _chunks(work_ids):
            in_works.update(conn.scalars(select(work_assets.c.sha256)
                                         .where(work_assets.c.work_id.in_(chunk))))
        direct_ids = sorted(set(direct) - in_works)
        if len(direct_ids) > MAX_ASSETS:
            raise BadInput(f"{len(direct_ids)} assets listed by hash: one bundle version lists at "
                           f"most {MAX_ASSETS} assets directly; list their works instead, or "
                           f"{_SPLIT}")
        if len(comp.contributors) > MAX_CONTRIBUTORS:
            raise BadInput(f"the works have {len(comp.contributors)} credited contributors, more "
                           f"than the {MAX_CONTRIBUTORS} one bundle version can name; {_SPLIT}")
        pred_id = resolve_bundle(conn, predecessor).id if predecessor else None
    body: dict[str, Any] = {
        "id": new_id("bundle"), "owner": owner_id, "name": name, "version": version,
        "works": work_ids, "assets": direct_ids, "root": comp.root, "totals": comp.totals,
        "contributors": comp.contributors}
    if pred_id:
        body["predecessor"] = pred_id
    if description:
        body["description"] = description
    check_body("bundle.created", 1, body, owner_id)  # refuse bad input before anything is signed
    statement = ledger.new_statement("bundle.created", owner_id, body)
    size = len(canonical_bytes({"signature": {"alg": "Ed25519", "keyid": "0" * 16,
                                              "sig": "A" * 88}, "statement": statement}))
    if size > MAX_ENVELOPE_BYTES:
        raise BadInput(f"the bundle statement would be {size} bytes, over the log's "
                       f"{MAX_ENVELOPE_BYTES}-byte entry limit ({len(work_ids)} works, "
                       f"{len(direct_ids)} direct assets, {len(comp.contributors)} contributors); "
                       f"{_SPLIT}")
    entry = sign_statement(statement, signing_key(home, ledger, owner_id))
    return ledger.submit([entry])[0]


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def resolve_bundle(conn: Connection, ref: str) -> Bundle:
    """A bundle by id, by ``name@version``, or by name (its latest version)."""
    return resolve(conn, BUNDLE, ref)


def list_bundles(db: Database, owner: str | None = None) -> list[Bundle]:
    with db.read() as conn:
        where = [bundles.c.owner_id == resolve_party(conn, owner).id] if owner else []
        return find_many(conn, BUNDLE, *where)


def bundle_versions(conn: Connection, name: str, owner: str) -> list[BundleVersion]:
    """Every version of ``owner``'s bundle ``name``, oldest first (the chain)."""
    rows = conn.execute(select(bundles.c.id, bundles.c.version, bundles.c.predecessor_id,
                               bundles.c.root, bundles.c.log_index, bundles.c.created_at)
                        .where(bundles.c.owner_id == owner, bundles.c.name == name)
                        .order_by(bundles.c.log_index)).all()
    return [BundleVersion.from_row(r) for r in rows]


def bundle_asset_hashes(conn: Connection, bundle_id: str) -> list[str]:
    """The bundle's asset SHA-256s, sorted (the order of the root's leaves)."""
    return sorted(conn.scalars(select(bundle_assets.c.sha256)
                               .where(bundle_assets.c.bundle_id == bundle_id)))


def bundles_containing(conn: Connection, sha256s: Iterable[str]) -> dict[str, set[str]]:
    """For each hash that is in at least one bundle, the ids of those bundles.

    Hashes in no bundle are absent (use ``.get(sha, set())``); upper-case hex is accepted and
    anything that cannot be a SHA-256 is skipped. Built for a million hashes (3 to 4 s on
    either backend): the distinct hashes go to the database in chunks, through the driver and
    the ``bundle_assets.sha256`` index. PostgreSQL gets each chunk of 50,000 as one
    comma-joined string split on the server (far cheaper to send than a 50,000-element array
    parameter); SQLite gets chunks of 900 host parameters (under its oldest limit, 999).
    """
    wanted = list({s.lower() for s in sha256s if len(s) == 64 and s.isalnum()})
    out: dict[str, set[str]] = {}
    if not wanted:
        return out
    quote = conn.dialect.identifier_preparer.quote
    head = (f"SELECT {quote('sha256')}, {quote('bundle_id')} FROM {quote(bundle_assets.name)} "
            f"WHERE {quote('sha256')}")
    postgres = conn.dialect.name == "postgresql"
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    size = 50_000 if postgres else 900
    for i in range(0, len(wanted), size):
        chunk = wanted[i:i + size]
        if postgres:
            rows = conn.exec_driver_sql(f"{head} = ANY(string_to_array({mark}, ','))",
                                        (",".join(chunk),))
        else:
            rows = conn.exec_driver_sql(f"{head} IN ({', '.join([mark] * len(chunk))})",
                                        tuple(chunk))
        for sha, bid in rows:
            out.setdefault(sha, set()).add(bid)
    return out


def _statement_body(conn: Connection, index: int) -> tuple[dict[str, Any], str]:
    row = conn.execute(select(log_entries.c.entry, log_entries.c.leaf_hash)
                       .where(log_entries.c.idx == index)).first()
    if row is None:
        raise NotFound(f"log index {index} does not exist")
    return decode_entry(bytes(row.entry)).body, bytes(row.leaf_hash).hex()


def bundle_detail(db: Database, ref: str) -> BundleDetail:
    """A bundle version with its works, contributors, version chain and log entry."""
    with db.read() as conn:
        b = resolve_bundle(conn, ref)
        body, leaf = _statement_body(conn, b.log_index)
        wrows = conn.execute(select(works.c.id, works.c.title, works.c.kind)
                             .join(bundle_works, bundle_works.c.work_id == works.c.id)
                             .where(bundle_works.c.bundle_id == b.id)
                             .order_by(works.c.log_index)).all()
        names = dict(conn.execute(select(parties.c.id, parties.c.name)
                                  .where(parties.c.id.in_(body["contributors"]))).all()) \
            if body["contributors"] else {}
        roles: dict[str, set[str]] = {}
        holding = (select(work_assets.c.work_id)
                   .join(bundle_assets, bundle_assets.c.sha256 == work_assets.c.sha256)
                   .where(bundle_assets.c.bundle_id == b.id))
        for c in conn.execute(select(credits.c.party_id, credits.c.role)
                              .where(credits.c.work_id.in_(holding),
                                     credits.c.log_index < b.log_index)):
            roles.setdefault(c.party_id, set()).add(c.role)
        versions = bundle_versions(conn, b.name, b.owner_id)
        successor = conn.execute(select(bundles.c.id).where(bundles.c.predecessor_id == b.id)
                                 ).scalar()
    listed = set(body["works"])
    return widen(b, BundleDetail, leaf_hash=leaf,
                 works=tuple(BundleWork(w.id, w.title, w.kind, w.id in listed) for w in wrows),
                 direct_assets=tuple(body["assets"]),
                 contributors=tuple(
                     BundleContributor(p, names.get(p), tuple(sorted(roles.get(p, ()))))
                     for p in body["contributors"]),
                 versions=tuple(versions), successor=successor,
                 latest=versions[-1].id == b.id)


def verify_bundle_root(db: Database, ref: str) -> dict[str, Any]:
    """Recompute a bundle's root from its ``bundle_assets`` rows.

    Compares it with the stored root and the root in the signed, logged statement. Returns
    ``{"id", "root", "recomputed", "signed", "assets", "ok"}``; raises VerificationError when
    they disagree (the rows were altered after the statement was accepted).
    """
    with db.read() as conn:
        row = resolve_bundle(conn, ref)
        shas = bundle_asset_hashes(conn, row.id)
        body, _ = _statement_body(conn, row.log_index)
    recomputed = bundle_root(shas)
    result = {"id": row.id, "root": row.root, "recomputed": recomputed, "signed": body["root"],
              "assets": len(shas), "ok": recomputed == row.root == body["root"]}
    if not result["ok"]:
        raise VerificationError(
            f"bundle {row.id}: root over its {len(shas)} asset rows is {recomputed}, the stored "
            f"root is {row.root} and the signed root (log index {row.log_index}) is "
            f"{body['root']}; the registry rows were changed, so rebuild them from the log")
    return result
