"""Replay the log into tables: every projection rebuilt from the entries, in index order,
through the same appliers the ledger runs (:func:`reelrights.ledger.apply_statements`).

The target is an empty, migrated database (a scratch database for ``log verify``, a new home's
for ``rebuild``). Replay writes the ``log_entries`` rows as the ledger does (so appliers that
look up earlier entries find them) and keeps the tree, so it also returns every tile and the
root. A few appliers check the log's state at the time the statement was accepted rather than
its content (a v1 ``audit.challenged`` names the checkpoint that was the log head): for those,
the head and that checkpoint are set up as they were (see :func:`_restore_log_state`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, select, update

from ..catalogue import check_body
from ..core.checkpoint import Checkpoint
from ..core.statements import SignedStatement, decode_entry
from ..core.tiles import TileBuilder
from ..errors import LogIntegrityError, ReelrightsError
from ..log.database_log import insert_rows
from ..sealed.store import BodySource, keep_bodies
from ..store.tables import log_checkpoints, log_entries, log_head

if TYPE_CHECKING:
    from ..ledger import Accepted

__all__ = ["ReplayReport", "replay"]

#: Statements replayed in runs of up to this many (one applier call per run of one type).
BATCH = 10_000
#: Types whose applier reads the log's state when the statement was accepted (head, checkpoints).
_LOG_STATE_TYPES = frozenset({"audit.challenged"})
_ENTRY_COLUMNS = ("idx", "leaf_hash", "type", "actor", "time", "statement_id", "entry")


def _open_leaf(leaf: bytes) -> tuple[SignedStatement, str]:
    """A stored leaf as (statement, log time): the one place the leaf format is read here.

    A v2 leaf carries the log's time (``JCS({"entry": envelope, "log": {"time": T}})``) and
    ``decode_entry`` keeps it; a v1 leaf is the signed envelope, whose log time was its signed
    time.
    """
    s = decode_entry(leaf)
    return s, getattr(s, "log_time", None) or s.time


@dataclass
class ReplayReport:
    """What a replay did: entries, the tree it built (root, every tile) and the last log time."""

    entries: int = 0
    root: bytes = b""
    tiles: dict[tuple[int, int], bytes] = field(default_factory=dict)
    last_time: str | None = None
    #: The registry the log serves and the index of its first v2 entry (None: a v1 log).
    registry: str | None = None
    v2_from: int | None = None
    seconds: float = 0.0


@dataclass
class _Pending:
    first: int = 0
    accepted: list[Accepted] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    openings: list[Any] = field(default_factory=list)


def replay(conn: Connection, leaves: Iterable[bytes], *,
           checkpoints: Sequence[tuple[int, bytes, bytes, str]] | None = None,
           origin: str | None = None, batch: int = BATCH, start: int = 0,
           edge: Mapping[int, bytes] | None = None,
           bodies: BodySource | None = None) -> ReplayReport:
    """Write ``log_entries`` and every projection row of ``leaves`` (the log's entries in index
    order, from ``start``) into ``conn``, inside a transaction: an empty migrated database when
    ``start`` is 0, else one holding exactly the first ``start`` entries, replayed before
    (a replica synced incrementally, :mod:`.sync`), whose right edge tiles are ``edge``.

    ``checkpoints`` is the log's verified checkpoint history as (size, root, note, issued_at)
    rows, when known: the rows above ``start`` are copied into ``log_checkpoints`` (those at or
    below it are already there), and all tell where each original batch began. ``origin`` is
    the log's origin (needed only without the history). Raises LogIntegrityError naming the
    first entry that cannot be decoded or applied. The report's ``tiles`` are the tiles the
    replayed entries changed, its ``entries`` the log's new size.

    ``bodies`` supplies the openings of sealed statements (a sealed body store, a home's own
    copies): each is checked against its signed root and the full body is applied and kept;
    a sealed statement without one is applied from its public fields ("body unavailable").
    """
    from ..write.accepted import Accepted
    from ..write.decode import open_sealed_statement

    started = time.perf_counter()
    report = ReplayReport()
    builder = TileBuilder(start, edge or {})
    history = sorted(checkpoints or [])
    if history:
        origin = _origin_of(history[-1][2])
    if start:
        row = conn.execute(select(log_head.c.registry, log_head.c.v2_from, log_head.c.time)
                           .where(log_head.c.id == 1)).one()
        report.registry, report.v2_from, report.last_time = row.registry, row.v2_from, row.time
    new_history = [c for c in history if c[0] > start]
    if new_history:
        conn.execute(log_checkpoints.insert(), [
            {"size": s, "root": r, "note": n, "issued_at": t} for s, r, n, t in new_history])
    synthesized: list[int] = []
    pending = _Pending()
    sha = sha256
    index = start - 1
    for index, leaf in enumerate(leaves, start):
        try:
            s, log_time = _open_leaf(leaf)
            check_body(s.type, s.version, s.body, s.actor, sealed=s.sealed is not None)
            opening = None
            if s.sealed is not None and bodies is not None and s.id is not None:
                opening = bodies(s.id)
                if opening is not None:
                    s = open_sealed_statement(s, opening)
        except ReelrightsError as exc:
            raise LogIntegrityError(f"entry {index}: {exc.message}", index) from None
        if s.type in _LOG_STATE_TYPES:
            _flush(conn, pending, builder, report)
            pending.first = index
            _restore_log_state(conn, index, builder, history, origin, synthesized)
        elif not pending.accepted:
            pending.first = index
        h = sha(b"\x00" + leaf).digest()
        pending.accepted.append(Accepted(index, s, log_time))
        pending.openings.append(opening)
        pending.rows.append((index, h, s.type, s.actor, log_time, getattr(s, "id", None), leaf))
        pending.hashes.append(h)
        if getattr(s, "registry", None) is not None and report.registry is None:
            report.registry, report.v2_from = s.registry, index
        report.last_time = log_time
        if len(pending.accepted) >= batch or s.type in _LOG_STATE_TYPES:
            _flush(conn, pending, builder, report)
    _flush(conn, pending, builder, report)
    if synthesized:  # stand-ins for checkpoints the log no longer publishes: not the log's own
        conn.execute(delete(log_checkpoints).where(log_checkpoints.c.size.in_(synthesized)))
    report.entries = index + 1
    report.root = builder.root()
    conn.execute(update(log_head).where(log_head.c.id == 1)  # checkpoints: the rows it keeps
                 .values(size=report.entries, root=report.root,
                         checkpoints=conn.scalar(select(func.count()).select_from(
                             log_checkpoints)),
                         time=report.last_time, registry=report.registry,
                         v2_from=report.v2_from))
    report.seconds = time.perf_counter() - started
    return report


def _flush(conn: Connection, pending: _Pending, builder: TileBuilder,
           report: ReplayReport) -> None:
    """Append the pending entries' rows, then apply them (in a savepoint, so a refusal can be
    pinned on its entry)."""
    if not pending.accepted:
        return
    from ..write.apply import apply_statements

    insert_rows(conn, log_entries, _ENTRY_COLUMNS, pending.rows)
    try:
        with conn.begin_nested():
            apply_statements(conn, pending.accepted)
    except ReelrightsError:
        _raise_first_refused(conn, pending.accepted)
        raise
    if any(o is not None for o in pending.openings):
        keep_bodies(conn, pending.accepted, pending.openings)
    report.tiles.update(builder.append(pending.hashes))
    pending.accepted, pending.rows, pending.hashes, pending.openings = [], [], [], []


def _raise_first_refused(conn: Connection, accepted: list[Accepted]) -> None:
    """Apply a refused run one statement at a time to name the entry the appliers refuse."""
    from ..write.apply import apply_statements

    for a in accepted:
        try:
            with conn.begin_nested():
                apply_statements(conn, [a])
        except ReelrightsError as exc:
            raise LogIntegrityError(
                f"entry {a.index}: replaying its {a.statement.type} statement fails ({exc.message});"
                " the log holds a statement its registry could not have accepted", a.index) from None


def _restore_log_state(conn: Connection, index: int, builder: TileBuilder,
                       history: list[tuple[int, bytes, bytes, str]], origin: str | None,
                       synthesized: list[int]) -> None:
    """Set the head (and its checkpoint) as they were when entry ``index`` was accepted.

    The head then stood at the start of the entry's batch: the last checkpoint at or before
    ``index`` when the history is known, else ``index`` itself (a log rebuilt from its tiles
    keeps only its latest checkpoint; such a statement then is assumed to have opened its
    batch, as every command submits it). The checkpoint at the head is the log's own when the
    history has it; otherwise a stand-in with the tree's root at that size, removed after the
    replay (the applier reads its origin and root, which the tree recomputed here vouches for).
    """
    start = max((size for size, *_ in history if size <= index), default=0) if history else index
    root = builder.root() if builder.size == start else None
    values: dict[str, Any] = {"size": start}
    if root is not None:
        values["root"] = root
    conn.execute(update(log_head).where(log_head.c.id == 1).values(**values))
    if start == 0 or root is None or origin is None or conn.execute(
            select(log_checkpoints.c.size).where(log_checkpoints.c.size == start)).first():
        return
    conn.execute(log_checkpoints.insert().values(
        size=start, root=root, note=Checkpoint(origin, start, root).text().encode(),
        issued_at=""))
    synthesized.append(start)


def _origin_of(note: bytes) -> str:
    """The origin line of a signed checkpoint note."""
    return Checkpoint.parse(bytes(note).split(b"\n\n", 1)[0] + b"\n").origin
