"""The transparency log kept in the database: entries, tiles, checkpoints and the head.

Appends happen inside the caller's write transaction, so a statement's registry rows and its
log entry commit together or not at all. The ``log_head`` row is locked first. SQLite gets
that from ``BEGIN IMMEDIATE``, PostgreSQL from ``SELECT ... FOR UPDATE``. Writers in any
number of threads, processes or hosts therefore take turns and never leave gaps or duplicate
indices. Each batch adds its entries, rewrites the tiles it touched (C2SP tlog-tiles, with the
right-edge partial tiles), signs one checkpoint and moves the head.

The right edge (a :class:`~reelrights.core.tiles.TileBuilder`, and the entries of the open
entry bundle) is cached between batches. The cache counts only while the head still shows the
same size and root: a rolled-back batch or another writer's batch makes it reload the edge tiles
and the bundle from the database.

The hot inserts go through the driver's own ``executemany`` (:func:`insert_rows`), which skips
SQLAlchemy's per-row parameter processing; everything else uses SQLAlchemy Core.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core.checkpoint import Checkpoint, sign_checkpoint
from ..core.merkle import consistency_proof, inclusion_proof
from ..core.note import NoteSigner
from ..core.statements import utc_now
from ..core.tiles import TILE_WIDTH, TileBuilder, TileHashReader
from ..errors import BadInput, LogIntegrityError, NotFound
from ..store.tables import log_checkpoints, log_entries, log_head, log_tiles
from .published import PublishedFloor
from .stored_rows import head_cells

__all__ = ["AppendResult", "Head", "DatabaseLog", "insert_rows"]


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: list[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order, plain str/int/bytes/None values) at once.

    SQLite (qmark) and psycopg (format) get the driver's executemany; any other driver the
    SQLAlchemy Core insert.
    """
    if not rows:
        return
    style = conn.dialect.paramstyle
    if style not in ("qmark", "format", "pyformat"):
        conn.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in rows])
        return
    quote = conn.dialect.identifier_preparer.quote
    mark = "?" if style == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})", rows)


@dataclass(frozen=True)
class Head:
    """The log head: size and root, the last log time, the registry it serves (v2 on), the
    index where v2 began, and the number of checkpoints ever issued."""

    size: int
    root: bytes
    time: str | None
    registry: str | None
    v2_from: int | None
    checkpoints: int


@dataclass
class AppendResult:
    first_index: int
    size: int
    root: bytes
    checkpoint: bytes
    #: Every tile the batch changed: (level, index) -> tile bytes (full or partial).
    tiles: dict[tuple[int, int], bytes] = field(default_factory=dict)
    #: Level-0 tile index -> all entries of that entry bundle so far.
    bundles: dict[int, list[bytes]] = field(default_factory=dict)
    #: The RFC 9162 leaf hashes of the batch's entries, in order.
    leaf_hashes: Sequence[bytes] = ()


class DatabaseLog:
    """Reads and appends for one log in one database."""

    def __init__(self, origin: str, signer: NoteSigner | None, *, vkey: str | None = None) -> None:
        self.origin = origin
        self.signer = signer
        #: The note verifier key of a log opened without its signer (a replica): what checks
        #: its checkpoints' signatures (:attr:`verifier_key`).
        self._vkey = vkey
        #: (size, root, right edge, entries of the open bundle) after the last append.
        self._edge: tuple[int, bytes, TileBuilder, list[bytes]] | None = None
        self._lock = threading.Lock()
        self._readers = threading.local()  # see _proof_reader
        #: The published checkpoint no appended tree may go under (never fork); None: no guard.
        self.floor: PublishedFloor | None = None

    @property
    def verifier_key(self) -> str | None:
        """The log's note verifier key: its signer's, else the one it was opened with."""
        return self.signer.vkey if self.signer is not None else self._vkey

    # -- the head ---------------------------------------------------------------------------
    def lock_head(self, conn: Connection) -> Head:
        """Lock the head row for this transaction and return it."""
        return self.head_state(conn, lock=True)

    def head_state(self, conn: Connection, *, lock: bool = False) -> Head:
        row = conn.execute(_HEAD_LOCKED if lock else _HEAD).first()
        if row is None:
            raise LogIntegrityError("log_head row 1 is missing: the log has no head", None)
        return Head(*head_cells(tuple(row)))

    def head(self, conn: Connection) -> tuple[int, bytes]:
        row = conn.exec_driver_sql("SELECT size, root FROM log_head WHERE id = 1").first()
        if row is None:
            raise LogIntegrityError("log_head row 1 is missing: the log has no head", None)
        size, root = row
        if type(size) is int and isinstance(root, (bytes, memoryview)):
            return size, bytes(root)
        head = self.head_state(conn)  # a cell of the wrong type: this names it
        return head.size, head.root

    # -- appending --------------------------------------------------------------------------
    def append(self, conn: Connection, head: Head, entries: Sequence[bytes],
               leaf_hashes: Sequence[bytes], meta: Sequence[tuple[str, str, str, str | None]], *,
               log_time: str | None = None, registry: str | None = None) -> AppendResult:
        """Append the leaves ``entries`` at the locked ``head``. ``meta`` is (type, actor, time,
        statement id) per entry; ``log_time`` becomes the head's last log time; ``registry`` is
        given once, with the batch of the registry.established statement that switches to v2."""
        size, root = head.size, head.root
        if self.signer is None:
            raise BadInput("this log was opened without its signing key; open it from its home")
        if self.floor is not None:  # before anything is signed: never fork
            self.floor.check(conn, size, root, self.hash_reader(conn, size))
        builder, open_bundle = self._edge_for(conn, size, root)
        tiles = builder.append(leaf_hashes)
        new_size = size + len(entries)
        new_root = builder.root()
        insert_rows(conn, log_entries, ("idx", "leaf_hash", "type", "actor", "time",
                                         "statement_id", "entry"), [
            (size + i, h, m[0], m[1], m[2], m[3], e)
            for i, (e, h, m) in enumerate(zip(entries, leaf_hashes, meta, strict=True))
        ])
        self._upsert_tiles(conn, tiles)
        note = sign_checkpoint(Checkpoint(self.origin, new_size, new_root), self.signer)
        insert_rows(conn, log_checkpoints, ("size", "root", "note", "issued_at"),
                    [(new_size, new_root, note, log_time or utc_now())])
        values: dict[str, Any] = {"size": new_size, "root": new_root, "checkpoints": head.checkpoints + 1}
        if log_time is not None:
            values["time"] = log_time
        if registry is not None:
            values["registry"] = registry
            values["v2_from"] = size
        if list(values) == _MOVE_HEAD_KEYS:  # every batch of a v2 log: the statement built once
            conn.execute(_MOVE_HEAD, values)
        else:
            conn.execute(update(log_head).where(log_head.c.id == 1).values(**values))
        bundles = _bundles(size, entries, open_bundle)
        last = bundles[max(bundles)] if new_size % TILE_WIDTH else []
        with self._lock:
            self._edge = (new_size, new_root, builder, last)
        if self.floor is not None:
            self.floor.signed(new_size, new_root)
        return AppendResult(size, new_size, new_root, note, tiles, bundles, leaf_hashes)

    def _edge_for(self, conn: Connection, size: int,
                  root: bytes) -> tuple[TileBuilder, list[bytes]]:
        """The right edge and the open bundle's entries at ``size``: cached, else read."""
        with self._lock:
            cached, self._edge = self._edge, None  # taken: a failed batch must not leave it
        if cached is not None and cached[0] == size and cached[1] == root:
            return cached[2], cached[3]
        builder = TileBuilder(size, self._edge_tiles(conn, size))
        if builder.root() != root:
            raise NotFound(f"the stored tiles do not match the log head at size {size}; "
                           "run `reelrights log verify` to find the damaged tile")
        start = size - size % TILE_WIDTH
        return builder, [bytes(r.entry) for r in conn.execute(
            select(log_entries.c.entry).where(log_entries.c.idx >= start, log_entries.c.idx < size)
            .order_by(log_entries.c.idx))]

    def edge_tiles(self, conn: Connection, size: int) -> dict[int, bytes]:
        """The right edge's partial tiles of the tree at ``size`` (level -> bytes), as stored."""
        return self._edge_tiles(conn, size)

    def upsert_tiles(self, conn: Connection, tiles: dict[tuple[int, int], bytes]) -> None:
        """Store ``tiles`` ((level, index) -> bytes), replacing a stored partial tile."""
        self._upsert_tiles(conn, tiles)

    def _edge_tiles(self, conn: Connection, size: int) -> dict[int, bytes]:
        wanted = []
        level = 0
        while size >> (8 * level):
            n = size >> (8 * level)
            if n % TILE_WIDTH:
                wanted.append((level, n // TILE_WIDTH, n % TILE_WIDTH))
            level += 1
        if not wanted:
            return {}
        rows = conn.execute(select(log_tiles.c.level, log_tiles.c.idx, log_tiles.c.hashes).where(
            tuple_(log_tiles.c.level, log_tiles.c.idx).in_([(lv, i) for lv, i, _ in wanted])
        )).all()
        got = {(r.level, r.idx): bytes(r.hashes) for r in rows}
        edge = {}
        for lv, i, w in wanted:
            data = got.get((lv, i), b"")
            if len(data) < 32 * w:
                raise NotFound(f"tile {lv}/{i} is missing or short in the database; "
                               "run `reelrights log verify`")
            edge[lv] = data[: 32 * w]
        return edge

    def _upsert_tiles(self, conn: Connection, tiles: dict[tuple[int, int], bytes]) -> None:
        if not tiles:
            return
        rows = [{"level": lv, "idx": i, "width": len(data) // 32, "hashes": data}
                for (lv, i), data in tiles.items()]
        conn.execute(_UPSERT_TILES[conn.dialect.name == "sqlite"], rows)

    # -- reading ----------------------------------------------------------------------------
    def entry(self, conn: Connection, index: int) -> bytes:
        row = conn.execute(select(log_entries.c.entry).where(log_entries.c.idx == index)).first()
        if row is None:
            size, _ = self.head(conn)
            raise NotFound(f"log index {index} does not exist; the log has {size} entries "
                           f"(indices 0 to {size - 1})")
        return bytes(row.entry)

    def leaf_hash(self, conn: Connection, index: int) -> bytes:
        row = conn.exec_driver_sql(_driver_sql(conn, "SELECT leaf_hash FROM log_entries "
                                                     "WHERE idx = ?"), (index,)).first()
        if row is None:
            raise NotFound(f"log index {index} does not exist")
        return bytes(row[0])

    def checkpoint(self, conn: Connection, size: int | None = None) -> bytes:
        """The signed checkpoint at ``size`` (default: the latest)."""
        q = select(log_checkpoints.c.note)
        q = (q.where(log_checkpoints.c.size == size) if size is not None
             else q.order_by(log_checkpoints.c.size.desc()).limit(1))
        row = conn.execute(q).first()
        if row is None:
            if size is None:
                raise NotFound("the log has no checkpoint yet; append a statement first")
            raise NotFound(f"no checkpoint was issued at size {size}; "
                           "`reelrights log checkpoints` lists the sizes that have one")
        return bytes(row.note)

    def checkpoint_sizes(self, conn: Connection) -> list[int]:
        return [int(r.size) for r in conn.execute(
            select(log_checkpoints.c.size).order_by(log_checkpoints.c.size))]

    def hash_reader(self, conn: Connection, size: int) -> TileHashReader:
        return TileHashReader(size, lambda lv, index, width: self._tile(conn, lv, index, width))

    def _tile(self, conn: Connection, level: int, index: int, width: int) -> bytes:
        row = conn.exec_driver_sql(_driver_sql(conn, "SELECT hashes FROM log_tiles "
                                                     "WHERE level = ? AND idx = ?"),
                                   (level, index)).first()
        if row is None or len(row[0]) < 32 * width:
            raise NotFound(f"tile {level}/{index} is missing from the database; "
                           "run `reelrights log verify`")
        return bytes(row[0])[: 32 * width]

    def _proof_reader(self, conn: Connection, size: int, head: tuple[int, bytes]) -> TileHashReader:
        """A hash reader for proofs in a tree of ``size``, kept (per thread) while the head stays.

        Every proof at one size walks the same upper tiles: kept, they are read and expanded
        once instead of once per proof. A new head (or another thread) starts a new reader.
        """
        local = self._readers
        if getattr(local, "key", None) != (size, head):
            local.key = (size, head)
            local.reader = TileHashReader(
                size, lambda level, index, width: self._tile(local.conn, level, index, width))
        local.conn = conn
        reader: TileHashReader = local.reader
        return reader

    def _check_size(self, conn: Connection, size: int | None,
                    head: tuple[int, bytes] | None = None) -> tuple[int, tuple[int, bytes]]:
        head = head or self.head(conn)
        if size is None:
            return head[0], head
        if not 0 < size <= head[0]:
            raise BadInput(f"--size {size} is out of range; the log has {head[0]} entries")
        return size, head

    def inclusion(self, conn: Connection, index: int, size: int | None = None) -> dict[str, Any]:
        """The inclusion proof of ``index`` in the tree of ``size`` (default: the head's).

        The head and the leaf hash come in one statement, and the tiles a proof reads never
        change below the head, so this needs no transaction around it (a server reads it in
        autocommit: one round trip once the proof's tiles are cached)."""
        head, leaf = self._head_and_leaf(conn, index)
        size, head = self._check_size(conn, size, head)
        if not 0 <= index < size:
            raise NotFound(f"log index {index} is not in a tree of size {size} "
                           f"(indices 0 to {size - 1})")
        if leaf is None:
            raise NotFound(f"log index {index} does not exist")
        proof = inclusion_proof(index, size, self._proof_reader(conn, size, head))
        return {"index": index, "size": size, "leaf_hash": leaf.hex(),
                "proof": [h.hex() for h in proof]}

    def _head_and_leaf(self, conn: Connection, index: int) -> tuple[tuple[int, bytes],
                                                                     bytes | None]:
        probe = index if 0 <= index < 1 << 63 else -1
        row = conn.exec_driver_sql(_driver_sql(
            conn, "SELECT h.size, h.root, e.leaf_hash FROM log_head h LEFT JOIN log_entries e "
                  "ON e.idx = ? WHERE h.id = 1"), (probe,)).first()
        if row is None:
            raise LogIntegrityError("log_head row 1 is missing: the log has no head", None)
        size, root, leaf = row
        if type(size) is not int or not isinstance(root, (bytes, memoryview)):
            return self.head(conn), None if leaf is None else bytes(leaf)  # names the bad cell
        return (size, bytes(root)), None if leaf is None else bytes(leaf)

    def consistency(self, conn: Connection, old: int, new: int | None = None) -> dict[str, Any]:
        new, head = self._check_size(conn, new)
        if not 0 < old <= new:
            raise BadInput(f"old size {old} must be between 1 and the new size {new}")
        proof = consistency_proof(old, new, self._proof_reader(conn, new, head))
        return {"old": old, "new": new, "proof": [h.hex() for h in proof]}

    def tiles_since(self, conn: Connection, level: int,
                    first_index: int) -> Iterator[tuple[int, int, bytes]]:
        """Stored tiles at ``level`` from ``first_index`` on, in order: (idx, width, hashes)."""
        rows = conn.execute(select(log_tiles.c.idx, log_tiles.c.width, log_tiles.c.hashes).where(
            log_tiles.c.level == level, log_tiles.c.idx >= first_index).order_by(log_tiles.c.idx))
        for idx, width, hashes in rows:
            yield int(idx), int(width), bytes(hashes)

    def entries_between(self, conn: Connection, start: int, end: int, *, chunk: int = 20_000
                        ) -> Iterator[tuple[int, bytes, bytes]]:
        """Yield (index, leaf_hash, entry) for start <= index < end, streamed in chunks."""
        pos = start
        while pos < end:
            stop = min(pos + chunk, end)
            rows = conn.execute(select(log_entries.c.idx, log_entries.c.leaf_hash,
                                       log_entries.c.entry)
                                .where(log_entries.c.idx >= pos, log_entries.c.idx < stop)
                                .order_by(log_entries.c.idx)).all()
            yield from ((int(r.idx), bytes(r.leaf_hash), bytes(r.entry)) for r in rows)
            pos = stop


def _bundles(size: int, entries: Sequence[bytes],
             open_bundle: list[bytes]) -> dict[int, list[bytes]]:
    """Level-0 tile index -> all entries of that bundle so far, for the bundles of ``entries``."""
    first = size // TILE_WIDTH
    bundles: dict[int, list[bytes]] = {first: list(open_bundle)} if open_bundle else {}
    for i, e in enumerate(entries):
        bundles.setdefault((size + i) // TILE_WIDTH, []).append(e)
    return bundles


# Statements every batch runs, built once (building them, ``excluded`` above all, costs more
# than running them for a small batch; SQLAlchemy caches their compiled forms).
_HEAD_COLUMNS = (log_head.c.size, log_head.c.root, log_head.c.time, log_head.c.registry,
                 log_head.c.v2_from, log_head.c.checkpoints)
_HEAD = select(*_HEAD_COLUMNS).where(log_head.c.id == 1)
_HEAD_LOCKED = _HEAD.with_for_update()
_MOVE_HEAD_KEYS = ["size", "root", "checkpoints", "time"]
_MOVE_HEAD = update(log_head).where(log_head.c.id == 1).values(
    {k: bindparam(k, type_=log_head.c[k].type) for k in _MOVE_HEAD_KEYS})


def _upsert_tiles_statement(sqlite: bool) -> Any:
    ins = (sqlite_insert if sqlite else pg_insert)(log_tiles)
    return ins.on_conflict_do_update(index_elements=["level", "idx"],
                                     set_={"width": ins.excluded.width,
                                           "hashes": ins.excluded.hashes})


#: The tiles' upsert, by "is the database SQLite".
_UPSERT_TILES = {True: _upsert_tiles_statement(True), False: _upsert_tiles_statement(False)}


def _driver_sql(conn: Connection, sql: str) -> str:
    """``sql`` written with ``?`` placeholders, in the driver's own paramstyle."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def leaf_hashes_of(entries: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 leaf hashes (0x00 prefix) of many entries."""
    return [sha256(b"\x00" + e).digest() for e in entries]

