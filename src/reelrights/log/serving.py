"""The log as the service serves it: C2SP tlog-tiles resources, proofs and single entries, read
from the database.

A tile or entry bundle is answered from the stored rows (``log_tiles``, ``log_entries``), so every
server process over one database answers the same, whatever its own folder holds. A partial tile
``tile/<L>/<N>.p/<W>`` is the first ``W`` hashes of the stored tile (every hash of a tile is the
root of a complete subtree, so it never changes once written): it is served for as long as the
stored tile is at least that wide, after the tile became full too. A path beyond the tree (a tile
wider than the stored one, a bundle with entries not yet logged) is :class:`NotFound`; a path not
in canonical tlog-tiles form is :class:`NotFound` too, as on a static server.

Full tiles and full entry bundles never change: :class:`LogServer` keeps them in memory, least
recently used first out, bounded in bytes, so a hot tile costs a dictionary lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from ..core.checkpoint import Checkpoint
from ..core.merkle import HASH_SIZE
from ..core.statements import open_leaf
from ..core.tiles import TILE_WIDTH, encode_bundle, parse_tile_path
from ..errors import BadInput, NotFound
from ..store.tables import log_checkpoints, log_entries, log_tiles
from .database_log import DatabaseLog

if TYPE_CHECKING:
    from ..store.db import Database

__all__ = ["LogServer", "TileCache", "Tile"]

#: Memory for full tiles and bundles of one process (a full hash tile is 8 KiB).
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024
#: The largest tree size the database can hold (a signed 64-bit integer).
_MAX_SIZE = (1 << 63) - 1


class TileCache:
    """Immutable resources by path, least recently used evicted first, at most ``max_bytes``.

    :meth:`get` is called on the event loop, :meth:`put` from worker threads: a lock guards both
    (uncontended, it costs well under a microsecond)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= len(old)
            self._items[key] = data
            self.bytes += len(data)
            while self.bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Tile:
    """A served tile or entry bundle; ``full`` ones never change."""

    data: bytes
    full: bool


class LogServer:
    """Reads of one log for the service: tiles, bundles, checkpoints, proofs, entries."""

    def __init__(self, db: Database, log: DatabaseLog, *,
                 cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.db = db
        self.log = log
        self.cache = TileCache(cache_bytes)

    # -- tlog-tiles -------------------------------------------------------------------------
    def cached(self, path: str) -> bytes | None:
        """A full tile or bundle already in memory (no I/O: safe on the event loop)."""
        return self.cache.get(path)

    def tile(self, path: str) -> Tile:
        """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` from the database."""
        try:
            level, index, width = parse_tile_path(path)
        except BadInput as exc:
            raise NotFound(f"{exc}: no such tile") from None
        if index > _MAX_SIZE >> (8 * ((0 if level == "entries" else level) + 1)):
            raise NotFound(f"{path} is beyond any log (trees have fewer than 2**63 entries)")
        with self.db.read_kept(snapshot=False) as conn:
            if level == "entries":
                data = self._bundle(conn, path, index, width)
            else:
                data = self._hashes(conn, path, level, index, width)
        full = width == TILE_WIDTH
        if full:
            self.cache.put(path, data)
        return Tile(data, full)

    def _hashes(self, conn: Connection, path: str, level: int, index: int, width: int) -> bytes:
        row = conn.execute(select(log_tiles.c.width, log_tiles.c.hashes).where(
            log_tiles.c.level == level, log_tiles.c.idx == index)).first()
        if row is None or int(row.width) < width:
            raise NotFound(self._beyond(conn, path))
        data = bytes(row.hashes)[: width * HASH_SIZE]
        if len(data) != width * HASH_SIZE:
            raise NotFound(f"{path}: the stored tile is short; the operator should run "
                           "`reelrights log verify`")
        return data

    def _bundle(self, conn: Connection, path: str, index: int, width: int) -> bytes:
        start = index * TILE_WIDTH
        entries = [bytes(r.entry) for r in conn.execute(
            select(log_entries.c.entry).where(log_entries.c.idx >= start,
                                              log_entries.c.idx < start + width)
            .order_by(log_entries.c.idx))]
        if len(entries) != width:
            raise NotFound(self._beyond(conn, path))
        return encode_bundle(entries)

    def _beyond(self, conn: Connection, path: str) -> str:
        size, _ = self.log.head(conn)
        return (f"{path} is beyond the log: it has {size} entries; read /checkpoint for the "
                "size and fetch only the tiles it implies")

    def checkpoint(self) -> bytes:
        """The latest signed checkpoint (the one of the last committed batch)."""
        with self.db.read_kept(snapshot=False) as conn:
            return self.log.checkpoint(conn)

    # -- the log as JSON --------------------------------------------------------------------
    def checkpoints_after(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` checkpoints the log issued with a size above ``after``, smallest first:
        ``{"size", "note"}`` (the signed note's text). A replica asks for the first checkpoint
        after an audit challenge, whose signature seeds the challenge's sample."""
        with self.db.read_kept(snapshot=False) as conn:
            rows = conn.execute(select(log_checkpoints.c.size, log_checkpoints.c.note)
                                .where(log_checkpoints.c.size > after)
                                .order_by(log_checkpoints.c.size).limit(limit)).all()
        return [{"size": int(r.size), "note": bytes(r.note).decode("utf-8")} for r in rows]

    def head(self) -> dict[str, Any]:
        """Size, registry and latest checkpoint of the log."""
        with self.db.read_kept() as conn:
            head = self.log.head_state(conn)
            note = self.log.checkpoint(conn) if head.size else b""
        return {"size": head.size, "registry": head.registry, "checkpoint": note.decode("utf-8")}

    def inclusion(self, index: int, size: int | None) -> dict[str, Any]:
        with self.db.read_kept(snapshot=False) as conn:
            return self.log.inclusion(conn, index, size)

    def consistency(self, old: int, new: int | None) -> dict[str, Any]:
        with self.db.read_kept(snapshot=False) as conn:
            return self.log.consistency(conn, old, new)

    def entry(self, index: int) -> dict[str, Any]:
        """Entry ``index``: its exact bytes (UTF-8 JSON text), leaf hash and log time."""
        with self.db.read_kept(snapshot=False) as conn:
            row = conn.execute(select(log_entries.c.leaf_hash, log_entries.c.entry)
                               .where(log_entries.c.idx == index)).first()
            if row is None:
                size, _ = self.log.head(conn)
                raise NotFound(f"log index {index} does not exist; the log has {size} entries")
        return _entry_json(index, bytes(row.entry), bytes(row.leaf_hash))

    def entries(self, *, before: int | None = None, limit: int = 20,
                actor: str | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` entries below index ``before`` (the newest first), optionally only
        those signed by ``actor``: ``{"index", "type", "actor", "time", "statement"}`` (the
        signed time; the web explorer's lists)."""
        q = select(log_entries.c.idx, log_entries.c.type, log_entries.c.actor,
                   log_entries.c.time, log_entries.c.statement_id)
        if before is not None:
            q = q.where(log_entries.c.idx < before)
        if actor is not None:
            q = q.where(log_entries.c.actor == actor)
        with self.db.read_kept(snapshot=False) as conn:
            rows = conn.execute(q.order_by(log_entries.c.idx.desc()).limit(limit)).all()
        return [{"index": int(r.idx), "type": r.type, "actor": r.actor, "time": r.time,
                 "statement": r.statement_id} for r in rows]

    def statement(self, statement_id: str) -> dict[str, Any]:
        """Where statement ``statement_id`` was logged: its receipt as the write path gave it,
        without the applier's details (index, type, actor, leaf hash, statement, log time)."""
        with self.db.read_kept(snapshot=False) as conn:
            row = conn.execute(select(log_entries.c.idx, log_entries.c.type, log_entries.c.actor,
                                      log_entries.c.leaf_hash, log_entries.c.entry)
                               .where(log_entries.c.statement_id == statement_id)).first()
        if row is None:
            raise NotFound(f"statement {statement_id} is not in the log")
        _, log_time = open_leaf(bytes(row.entry))
        out: dict[str, Any] = {"index": int(row.idx), "type": row.type, "actor": row.actor,
                               "leaf_hash": bytes(row.leaf_hash).hex(), "statement": statement_id}
        if log_time is not None:
            out["log_time"] = log_time
        return out

    # -- readiness --------------------------------------------------------------------------
    def readiness(self, folder: Path) -> dict[str, Any]:
        """Whether this process may serve: the database answers, and its log head is not behind
        the checkpoint published in ``folder`` (nor different from it at that size, a fork).

        ``{"ready": bool, "size": head size or None, "published": published size, "reason": str}``
        (``reason`` only when not ready). Never raises for the database being down."""
        try:
            published = _published(folder)
        except BadInput as exc:
            return {"ready": False, "size": None, "published": 0,
                    "reason": f"the published checkpoint in {folder} is unreadable: {exc}"}
        try:
            with self.db.read_kept() as conn:
                size, _ = self.log.head(conn)
                root = None
                if published is not None and published.size <= size:
                    root = conn.execute(select(log_checkpoints.c.root).where(
                        log_checkpoints.c.size == published.size)).scalar()
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)  # the driver's own error, without the SQL
            reason = str(orig if orig is not None else exc)
            return {"ready": False, "size": None,
                    "published": published.size if published else 0,
                    "reason": f"the database is unreachable: {reason.splitlines()[0]}"}
        out: dict[str, Any] = {"ready": True, "size": size,
                               "published": published.size if published else 0}
        if published is None:
            return out
        if published.size > size:
            out.update(ready=False, reason=(
                f"the database's log head ({size} entries) is behind the published checkpoint "
                f"({published.size} entries) in {folder}; never sign a smaller tree: restore "
                "the database, or run `reelrights rebuild` from the published tiles"))
        elif root is None or bytes(root) != published.root:
            out.update(ready=False, reason=(
                f"the published checkpoint at size {published.size} in {folder} is not the "
                "database's checkpoint at that size: the log would fork; stop and investigate"))
        return out


def _published(folder: Path) -> Checkpoint | None:
    """The checkpoint in ``folder`` (its note's text, signature not checked), None if absent."""
    try:
        note = (folder / "checkpoint").read_bytes()
    except FileNotFoundError:
        return None
    text, _, _ = note.decode("utf-8", "replace").rpartition("\n\n")
    return Checkpoint.parse(text + "\n")


def _entry_json(index: int, entry: bytes, leaf_hash: bytes) -> dict[str, Any]:
    _, log_time = open_leaf(entry)
    out: dict[str, Any] = {"index": index, "entry": entry.decode("utf-8"),
                           "leaf_hash": leaf_hash.hex()}
    if log_time is not None:
        out["log_time"] = log_time
    return out
