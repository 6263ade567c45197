"""Ownership disputes: one rights chain per asset.

The same bytes registered by a second owner, or a whole-asset near-duplicate of another owner's
asset, is an ownership conflict, not a second work. It is recorded as a dispute that names both
parties, the asset, the first owner's work and that work's log index. From the log time of the
entry that opened it, the dispute suspends every license of the disputed asset by either party
(licenses already in force included) until the first owner releases it (``dispute.released``)
or the operator decides it (``dispute.decided``). A decision for one side keeps the other's
licensing of the asset suspended for good. The rules are in docs/rules.md, "Ownership
disputes".

Dispute ids derive from the log (the opening entry's log time and index, see :func:`dispute_id`),
so replaying the log rebuilds the same rows.

A dispute is a late fact for every run committed before it that used a bundle holding the
asset: the entry that opens it marks those runs, and their certificates logged before it, as
"affected by" the dispute (:func:`reelrights.evidence.marks.record_marks`); the verdicts
themselves stand as logged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from ..core.ids import ordered_id
from ..errors import BadInput, Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.records import LogEvent
from ..store.db import Database
from ..store.dispute_tables import disputes
from ..store.resolve import find_many, resolve, widen
from ..store.tables import assets, log_entries, parties, work_assets, works
from .dispute_types import OPERATOR_ACTOR
from .records import DISPUTE, Dispute, DisputeDetail

__all__ = ["Block", "FirstHolder", "dispute_blocks", "dispute_detail", "dispute_id", "disputed_assets_since",
           "find_near_duplicates", "first_holders", "is_operator", "list_disputes", "open_same_bytes",
           "release_dispute", "report_near_duplicate", "WHOLE_ASSET_SHARE"]

#: A near-duplicate is "whole-asset" when at least this share of either asset's content
#: duration matches (idents, slates and black frames excluded: evidence.fingerprints).
WHOLE_ASSET_SHARE = (4, 5)


def dispute_id(a: Accepted, position: int) -> str:
    """The id of the ``position``-th dispute opened by the entry ``a``: a time-ordered registry
    id whose 48-bit clock is the entry's log time and whose 32 low bits come from SHA-256 of its
    log index and the position (so ids sort in log order and a replay makes the same ones)."""
    ms = int(datetime.fromisoformat(a.time.replace("Z", "+00:00")).timestamp() * 1000)
    low = int.from_bytes(hashlib.sha256(f"{a.index}:{position}".encode()).digest()[:4], "big")
    return "dsp_" + ordered_id("party", ms, low).partition("_")[2]


@dataclass(frozen=True)
class FirstHolder:
    """The first rights chain of an asset: the work whose registration created it."""

    work: str
    owner: str
    log_index: int
    holders: frozenset[str]          # every owner of a work that holds the asset


def first_holders(conn: Connection, shas: Iterable[str]) -> dict[str, FirstHolder]:
    """For each registered asset among ``shas``: its first work, owner and log index, and the
    owners of every work holding it."""
    wanted = sorted(set(shas))
    out: dict[str, FirstHolder] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        first = {r.sha256: r for r in conn.execute(
            select(work_assets.c.sha256, works.c.id, works.c.owner_id, works.c.log_index)
            .join(assets, (assets.c.sha256 == work_assets.c.sha256)
                  & (assets.c.log_index == work_assets.c.log_index))
            .join(works, works.c.id == work_assets.c.work_id)
            .where(work_assets.c.sha256.in_(chunk)))}
        holders: dict[str, set[str]] = {}
        for sha, owner in conn.execute(select(work_assets.c.sha256, works.c.owner_id)
                                       .join(works, works.c.id == work_assets.c.work_id)
                                       .where(work_assets.c.sha256.in_(chunk))):
            holders.setdefault(sha, set()).add(owner)
        for sha, r in first.items():
            out[sha] = FirstHolder(r.id, r.owner_id, int(r.log_index),
                                   frozenset(holders.get(sha, {r.owner_id})))
    return out


def _names(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    return dict(conn.execute(select(parties.c.id, parties.c.name)
                             .where(parties.c.id.in_(sorted(set(ids))))).all())


def _row_values(dispute_id: str, kind: str, asset: str, first_asset: str, claimant: str,
                claimant_work: str | None, first: FirstHolder, opened_by: str, a: Accepted,
                matched_ms: int | None = None, duration_ms: int | None = None) -> dict[str, Any]:
    return {"id": dispute_id, "kind": kind, "asset": asset, "first_asset": first_asset,
            "claimant_id": claimant, "claimant_work_id": claimant_work,
            "first_owner_id": first.owner, "first_work_id": first.work,
            "first_log_index": first.log_index, "matched_ms": matched_ms,
            "duration_ms": duration_ms, "opened_by": opened_by, "log_index": a.index,
            "opened_at": a.time, "status": "open"}


def _summary(v: dict[str, Any]) -> dict[str, Any]:
    return {"dispute": v["id"], "kind": v["kind"], "asset": v["asset"],
            "first_asset": v["first_asset"], "claimant": v["claimant_id"],
            "first_owner": v["first_owner_id"], "first_work": v["first_work_id"],
            "first_log_index": v["first_log_index"]}


# ---------------------------------------------------------------------------------------------
# Opening: the same bytes (from the work.registered applier) and near-duplicates
# ---------------------------------------------------------------------------------------------

def earlier_claim(conn: Connection, sha: str, claimant: str) -> Any:
    """A dispute already recorded over ``sha`` by ``claimant`` (a claim is made once)."""
    return conn.execute(select(disputes).where(disputes.c.asset == sha,
                                               disputes.c.claimant_id == claimant)
                        .order_by(disputes.c.log_index)).first()


def repeat_claim_message(row: Any, sha: str) -> str:
    state = ("still open" if row.status == "open" else
             f"{row.status} at log {row.closed_index} ({row.outcome})")
    return (f"asset {sha} is already disputed by {row.claimant_id} against "
            f"{row.first_owner_id}: dispute {row.id} (log {row.log_index}) is {state}; a claim "
            "is made once, see `reelrights dispute show " + row.id + "`")


def open_same_bytes(conn: Connection, a: Accepted, claims: list[tuple[str, str, str,
                                                                      FirstHolder]]) -> list[dict]:
    """Record the ownership conflicts of one ``work.registered`` entry: ``(sha256, claimant,
    claimant's work, first holder)`` each. Called by the registry's applier, which links the
    claimant's work to none of these assets."""
    rows = [_row_values(dispute_id(a, k), "same-bytes", sha, sha, claimant, work, first,
                        claimant, a)
            for k, (sha, claimant, work, first) in enumerate(claims)]
    if rows:
        conn.execute(disputes.insert(), rows)
        mark_runs_using(conn, a, rows)
    return [_summary(v) for v in rows]


def mark_runs_using(conn: Connection, a: Accepted, rows: list[dict[str, Any]]) -> int:
    """Mark the runs committed before ``a`` that used a disputed asset of ``rows`` (the disputes
    ``a`` opens), and their certificates logged before it, as affected by the dispute."""
    from ..evidence.marks import record_marks, runs_using_assets

    marked = 0
    for v in rows:
        targets = [
            {"run": run, "asset": sha, "bundle": bundle, "license": lic,
             "reason": f"asset {sha} of bundle {bundle}, which run {run.id} used under license "
                       f"{lic}, came under ownership dispute {v['id']} ({v['kind']}) at log "
                       f"{a.index} ({a.time}), after the run was committed (log "
                       f"{run.log_index}); licensing of the asset is suspended from then on"}
            for run, sha, bundle, lic in runs_using_assets(conn, {v["asset"], v["first_asset"]},
                                                           a.index)]
        marked += record_marks(conn, a, "dispute", v["id"], targets)
    return marked


@applier("asset.disputed")
@each_statement
def _apply_reported(conn: Connection, a: Accepted) -> dict[str, Any]:
    b, actor = a.statement.body, a.statement.actor
    sha, original = b["asset"], b["original"]
    if sha == original:
        raise BadInput("asset and original are the same hash; the same bytes registered by two "
                       "owners are disputed when the second registers them")
    found = first_holders(conn, [sha, original])
    for label, h in (("asset", sha), ("original", original)):
        if h not in found:
            raise NotFound(f"/statement/body/{label}: {h} is not a registered asset")
    mine, theirs = found[sha], found[original]
    if theirs.log_index > mine.log_index:
        raise Conflict(f"original {original} was registered (log {theirs.log_index}) after asset "
                       f"{sha} (log {mine.log_index}); the earlier registration is the original, "
                       "so swap them")
    shared = mine.holders & theirs.holders
    if shared:
        raise Conflict(f"{sorted(shared)[0]} holds both assets: one owner's copies are one "
                       "rights chain, not a dispute")
    if actor not in mine.holders | theirs.holders:
        raise PolicyDenied(f"{actor} owns neither asset; only one of the two owners reports a "
                           "near-duplicate")
    num, den = WHOLE_ASSET_SHARE
    if b["matched_ms"] > b["duration_ms"] or b["matched_ms"] * den < b["duration_ms"] * num:
        raise BadInput(f"matched_ms {b['matched_ms']} of duration_ms {b['duration_ms']} is not a "
                       f"whole-asset match (at least {100 * num // den} %); a segment match is "
                       "reported, not disputed")
    if (row := conn.execute(select(disputes.c.id).where(
            disputes.c.asset == sha, disputes.c.first_asset == original)).first()) is not None:
        raise Conflict(f"asset {sha} is already disputed against {original}: {row.id}")
    v = _row_values(dispute_id(a, 0), "near-duplicate", sha, original, mine.owner, mine.work,
                    theirs, actor, a, b["matched_ms"], b["duration_ms"])
    conn.execute(disputes.insert().values(**v))
    mark_runs_using(conn, a, [v])
    return _summary(v)


# ---------------------------------------------------------------------------------------------
# Closing: the first owner's release, the operator's decision
# ---------------------------------------------------------------------------------------------

def _open_dispute(conn: Connection, dispute_id: str) -> Any:
    row = conn.execute(select(disputes).where(disputes.c.id == dispute_id)).first()
    if row is None:
        raise NotFound(f"no dispute {dispute_id}; `reelrights dispute list` shows them")
    if row.status != "open":
        raise Conflict(f"dispute {dispute_id} was already {row.status} at log {row.closed_index} "
                       f"({row.outcome}); a dispute is closed once")
    return row


def _close(conn: Connection, a: Accepted, row: Any, status: str, outcome: str,
           reason: str) -> dict[str, Any]:
    conn.execute(disputes.update().where(disputes.c.id == row.id).values(
        status=status, outcome=outcome, closed_index=a.index, closed_at=a.time,
        close_reason=reason))
    if row.kind == "same-bytes" and outcome in ("released", "claimant") \
            and row.claimant_work_id is not None:
        # The claimant's registration now stands: link its work to the bytes it registered.
        name = conn.scalar(select(work_assets.c.name).where(
            work_assets.c.sha256 == row.asset, work_assets.c.work_id == row.first_work_id))
        conn.execute(work_assets.insert().values(work_id=row.claimant_work_id, sha256=row.asset,
                                                 name=name or row.asset[:16],
                                                 log_index=a.index))
    return {"dispute": row.id, "status": status, "outcome": outcome}


@applier("dispute.released")
@each_statement
def _apply_released(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    row = _open_dispute(conn, b["dispute"])
    if a.statement.actor != row.first_owner_id:
        raise PolicyDenied(f"only the first owner {row.first_owner_id} may release dispute "
                           f"{row.id}, not {a.statement.actor}; the operator decides otherwise")
    return _close(conn, a, row, "released", "released", b["reason"])


def is_operator(actor: str) -> bool:
    """Whether ``actor`` is the registry's operator (the lead's operator actor, signed with the
    log key; the ledger admits no statement of it until that actor exists)."""
    return actor == OPERATOR_ACTOR


@applier("dispute.decided")
@each_statement
def _apply_decided(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    if not is_operator(a.statement.actor):
        raise PolicyDenied(f"only the registry's operator decides a dispute, not "
                           f"{a.statement.actor}; the first owner may release it instead")
    row = _open_dispute(conn, b["dispute"])
    return _close(conn, a, row, "decided", b["outcome"], b["reason"])


# ---------------------------------------------------------------------------------------------
# What disputes mean for licensing (read by the policy engine and by certificates)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A dispute that suspends licensing of ``sha256``: by everyone (``party`` None, while open)
    or by the losing ``party`` (after a decision)."""

    sha256: str
    dispute: str
    party: str | None
    message: str

    def blocks(self, licensor: str) -> bool:
        return self.party is None or self.party == licensor


def _block_message(r: Any, sha: str, names: dict[str, str], decided_against: str | None) -> str:
    def who(p: str) -> str:
        return f"{names.get(p, p)} ({p})"

    what = (f"asset {sha} is disputed: dispute {r.id} ({r.kind}, opened at log {r.log_index}, "
            f"{r.opened_at}) between first owner {who(r.first_owner_id)} (work "
            f"{r.first_work_id}, log {r.first_log_index}) and claimant {who(r.claimant_id)}")
    if decided_against is None:
        return (f"{what}; licensing of the asset by both parties is suspended until the first "
                "owner releases it or the operator decides")
    return (f"{what}; the operator decided it for the "
            f"{'first owner' if r.outcome == 'first_owner' else 'claimant'} at log "
            f"{r.closed_index}, so {who(decided_against)} may not license it")


def dispute_blocks(conn: Connection, shas: Iterable[str], at_time: str) -> list[Block]:
    """The disputes that suspend licensing of any of ``shas`` at ``at_time`` (RFC 3339)."""
    wanted = sorted(set(shas))
    rows: list[Any] = []
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        rows += conn.execute(select(disputes).where(
            or_(disputes.c.asset.in_(chunk), disputes.c.first_asset.in_(chunk)),
            disputes.c.opened_at <= at_time)).all()
    if not rows:
        return []
    names = _names(conn, [p for r in rows for p in (r.claimant_id, r.first_owner_id)])
    out: list[Block] = []
    for r in sorted({r.id: r for r in rows}.values(), key=lambda r: r.log_index):
        closed = r.closed_at is not None and r.closed_at <= at_time
        if closed and r.outcome == "released":
            continue
        against = None
        if closed:
            against = r.claimant_id if r.outcome == "first_owner" else r.first_owner_id
        for sha in sorted({r.asset, r.first_asset} & set(wanted)):
            out.append(Block(sha, r.id, against, _block_message(r, sha, names, against)))
    return out


def disputed_assets_since(conn: Connection, log_time: str) -> list[dict[str, Any]]:
    """Assets that came under dispute at or after ``log_time`` (the log's RFC 3339 time), in log
    order: for marking certificates over runs that used them as "affected by" the dispute.
    Each item: ``sha256``, ``dispute``, ``log_index``, ``opened_at``, ``status``."""
    out = []
    for r in conn.execute(select(disputes).where(disputes.c.opened_at >= log_time)
                          .order_by(disputes.c.log_index, disputes.c.id)):
        for sha in sorted({r.asset, r.first_asset}):
            out.append({"sha256": sha, "dispute": r.id, "log_index": r.log_index,
                        "opened_at": r.opened_at, "status": r.status})
    return out


# ---------------------------------------------------------------------------------------------
# Commands and queries
# ---------------------------------------------------------------------------------------------

def report_near_duplicate(home: Home, ledger: Ledger, actor: str, asset: str, original: str,
                          matched_ms: int, duration_ms: int, note: str | None = None) -> Receipt:
    """Log ``asset.disputed`` signed by ``actor`` (one of the two owners)."""
    from ..registry.submit import submit_as

    body: dict[str, Any] = {"asset": asset, "original": original, "matched_ms": int(matched_ms),
                            "duration_ms": int(duration_ms)}
    if note:
        body["note"] = note[:2000]
    return submit_as(home, ledger, "asset.disputed", actor, body)


def find_near_duplicates(home: Home, ledger: Ledger, owner: str,
                         shas: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """After ``owner`` registered and fingerprinted ``shas``: look each up in the fingerprint
    index. A whole-asset match (at least 80 % of either asset's content duration) with an asset
    no work of ``owner`` holds is reported as ``asset.disputed``, signed by ``owner``, which
    opens a dispute; a smaller match is a segment match, returned to be reported, not blocking.
    Returns ``(disputes opened, segment matches)``."""
    from ..evidence.fingerprints import whole_asset_matches

    num, den = WHOLE_ASSET_SHARE
    opened: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    for sha in dict.fromkeys(shas):
        with ledger.db.read() as conn:
            matches = whole_asset_matches(home, conn, sha)
            chains = first_holders(conn, [sha, *(m["sha256"] for m in matches)])
        for m in matches:
            mine, theirs = chains.get(sha), chains.get(m["sha256"])
            if mine is None or theirs is None or mine.holders & theirs.holders:
                continue  # the same owner's copies: one rights chain
            if m["matched_ms"] * den < m["duration_ms"] * num:
                segments.append({"asset": sha, "matches": m["sha256"], "owner": theirs.owner,
                                 "share": m["share"], "matched_ms": m["matched_ms"],
                                 "duration_ms": m["duration_ms"]})
                continue
            later, earlier = ((sha, m["sha256"]) if mine.log_index >= theirs.log_index
                              else (m["sha256"], sha))
            try:
                receipt = report_near_duplicate(
                    home, ledger, owner, later, earlier, m["matched_ms"], m["duration_ms"],
                    f"fingerprint match: {m['share']:.0%} of the content duration")
            except Conflict:
                continue  # already disputed
            opened.append(receipt.details)
    return opened, segments


def release_dispute(home: Home, ledger: Ledger, dispute_id: str, reason: str) -> Receipt:
    """The first owner releases a dispute (signed with its key from this home)."""
    from ..registry.submit import submit_as

    with ledger.db.read() as conn:
        row = _open_dispute(conn, dispute_id)
    return submit_as(home, ledger, "dispute.released", row.first_owner_id,
                     {"dispute": row.id, "first_owner": row.first_owner_id, "reason": reason})


def decide_dispute(home: Home, ledger: Ledger, dispute_id: str, outcome: str,
                   reason: str) -> Receipt:
    """The registry's operator decides an open dispute (signed with the operator's key; with
    the log key in a registry established before there was one)."""
    from ..registry.submit import submit_as_operator

    with ledger.db.read() as conn:
        row = _open_dispute(conn, dispute_id)
    return submit_as_operator(home, ledger, "dispute.decided",
                              {"dispute": row.id, "outcome": outcome, "reason": reason})


def list_disputes(db: Database, party: str | None = None) -> list[Dispute]:
    """Every dispute, or those where ``party`` is the first owner or the claimant."""
    from ..registry.resolve import resolve_party

    with db.read() as conn:
        where = []
        if party:
            pid = resolve_party(conn, party).id
            where.append(or_(disputes.c.claimant_id == pid, disputes.c.first_owner_id == pid))
        return find_many(conn, DISPUTE, *where)


def dispute_detail(db: Database, dispute_id: str) -> DisputeDetail:
    """A dispute with its history from the log (opening, closing)."""
    with db.read() as conn:
        d = resolve(conn, DISPUTE, dispute_id)
        indices = [d.log_index, *([d.closed_index] if d.closed_index is not None else [])]
        history = tuple(LogEvent.from_row(e) for e in conn.execute(
            select(log_entries.c.idx, log_entries.c.type, log_entries.c.actor, log_entries.c.time)
            .where(log_entries.c.idx.in_(indices)).order_by(log_entries.c.idx)))
    return widen(d, DisputeDetail, history=history)
