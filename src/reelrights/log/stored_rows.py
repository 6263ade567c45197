"""The log's rows as verification reads them: every cell's SQL type checked, every tile's shape.

SQLite stores any value in any column (a column's type is only an affinity), so a cell written
outside the log's append path can hold TEXT where the log keeps a BLOB, or a number where it
keeps bytes. PostgreSQL refuses such a cell when it is written. Either way the verifier never
converts a cell blindly (``bytes("...")`` raises TypeError, ``bytes(10**9)`` allocates a
gigabyte): each cell is checked, and a wrong one is reported as a
:class:`~reelrights.errors.LogIntegrityError` naming the table, the row's key and the column.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ..core.tiles import TILE_HEIGHT, TILE_WIDTH, tiles_for_size
from ..errors import LogIntegrityError

__all__ = ["Head", "check_tile_rows", "entry_columns", "first_wrong_entry_cell", "head_cells",
           "read_checkpoints", "read_head", "tile_contents", "wrong_cell"]

_SQL_TYPE = {bytes: "BLOB", str: "TEXT", int: "INTEGER", float: "REAL", type(None): "NULL",
             memoryview: "BLOB", bytearray: "BLOB"}


def _sql(conn: Connection, sql: str) -> str:
    """``sql`` written with ``?`` placeholders, in the driver's own paramstyle."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def _key(*parts: object) -> str:
    return "/".join(str(p) if type(p) is int else repr(p) for p in parts)


def wrong_cell(table: str, key: str, column: str, value: object, want: str,
               index: int | None) -> LogIntegrityError:
    got = _SQL_TYPE.get(type(value), type(value).__name__)
    return LogIntegrityError(f"{table} row {key}: column {column} holds {got}, not {want}: the "
                             "cell was written outside the log's append path", index)


def _blob(table: str, key: str, column: str, value: object, index: int | None) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, (memoryview, bytearray)):  # drivers that hand out buffers
        return bytes(value)
    raise wrong_cell(table, key, column, value, "BLOB", index)


def _int(table: str, key: str, column: str, value: object, index: int | None) -> int:
    if type(value) is int:
        return value
    raise wrong_cell(table, key, column, value, "INTEGER", index)


# -- the head and the checkpoints ----------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    size: int
    root: bytes
    #: How many checkpoints the log has issued (``log_head.checkpoints``).
    checkpoints: int


def read_head(conn: Connection) -> Head:
    row = conn.exec_driver_sql("SELECT size, root, checkpoints FROM log_head WHERE id = 1").first()
    if row is None:
        raise LogIntegrityError("log_head row 1 is missing: the log has no head", None)
    size = _int("log_head", "1", "size", row[0], None)
    return Head(size, _blob("log_head", "1", "root", row[1], None),
                _int("log_head", "1", "checkpoints", row[2], None))


def head_cells(row: tuple[Any, ...]) -> tuple[int, bytes, str | None, str | None, int | None, int]:
    """The ``log_head`` row's (size, root, time, registry, v2_from, checkpoints), each cell's
    type checked: the append path reads the head too, and must name a damaged cell instead of
    failing on it with a TypeError."""
    size, root, time, registry, v2_from, checkpoints = row
    return (_int("log_head", "1", "size", size, None), _blob("log_head", "1", "root", root, None),
            _text_or_null("log_head", "1", "time", time), _text_or_null("log_head", "1",
                                                                      "registry", registry),
            None if v2_from is None else _int("log_head", "1", "v2_from", v2_from, None),
            _int("log_head", "1", "checkpoints", checkpoints, None))


def _text_or_null(table: str, key: str, column: str, value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise wrong_cell(table, key, column, value, "TEXT", None)


def read_checkpoints(conn: Connection) -> list[tuple[int, bytes, bytes]]:
    """Every checkpoint row as (size, root, note), in size order."""
    out = []
    for size, root, note in conn.exec_driver_sql(
            "SELECT size, root, note FROM log_checkpoints ORDER BY size"):
        key = _key(size)
        at = size if type(size) is int else None
        size = _int("log_checkpoints", key, "size", size, at)
        out.append((size, _blob("log_checkpoints", key, "root", root, at),
                    _blob("log_checkpoints", key, "note", note, at)))
    return out


# -- entries -------------------------------------------------------------------------------------


def entry_columns(conn: Connection, start: int, end: int, *,
                  chunk: int = 16_384) -> Iterator[tuple[list[int], list[bytes], list[bytes]]]:
    """Yield (indices, leaf hashes, entries), three lists, for start <= index < end, every cell's
    type checked (one C-level pass per column and fetch)."""
    sql = _sql(conn, "SELECT idx, leaf_hash, entry FROM log_entries "
                     "WHERE idx >= ? AND idx < ? ORDER BY idx")
    # psycopg: binary results, so bytea arrives as bytes instead of hex text to decode.
    binary = {"binary": True} if conn.dialect.driver == "psycopg" else {}
    cursor = conn.connection.cursor()
    try:
        for pos in range(start, end, chunk):
            cursor.execute(sql, (pos, min(pos + chunk, end)), **binary)
            idxs: list[int] = []
            hashes: list[bytes] = []
            entries: list[bytes] = []
            # Small fetches: the row tuples die young, which keeps the cyclic GC quiet.
            while rows := cursor.fetchmany(1024):
                i, h, e = zip(*rows)
                if set(map(type, h)) != {bytes} or set(map(type, e)) != {bytes} \
                        or set(map(type, i)) != {int}:
                    _raise_first_wrong(rows)
                idxs += i
                hashes += h
                entries += e
            if idxs:
                yield idxs, hashes, entries
    finally:
        cursor.close()


def _raise_first_wrong(rows: Sequence[tuple[Any, ...]]) -> None:
    for idx, leaf, entry in rows:
        key, at = _key(idx), idx if type(idx) is int else None
        _int("log_entries", key, "idx", idx, at)
        _blob("log_entries", key, "leaf_hash", leaf, at)
        _blob("log_entries", key, "entry", entry, at)


def first_wrong_entry_cell(conn: Connection, lo: int, hi: int) -> LogIntegrityError | None:
    """The first entry row in ``lo <= idx < hi`` holding a cell that is not a BLOB (SQLite), as
    the error to raise; None when every cell has its type (PostgreSQL enforces the types)."""
    if conn.dialect.name != "sqlite":
        return None
    row = conn.exec_driver_sql(
        "SELECT idx, typeof(leaf_hash), typeof(entry) FROM log_entries WHERE idx >= ? AND idx < ? "
        "AND (typeof(leaf_hash) != 'blob' OR typeof(entry) != 'blob') ORDER BY idx LIMIT 1",
        (lo, hi)).first()
    if row is None:
        return None
    idx, leaf_type, entry_type = row
    column, got = ("leaf_hash", leaf_type) if leaf_type != "blob" else ("entry", entry_type)
    return LogIntegrityError(f"log_entries row {idx}: column {column} holds {got.upper()}, not "
                             "BLOB: the cell was written outside the log's append path", idx)


# -- tiles ---------------------------------------------------------------------------------------


def _first_leaf(level: int, idx: int) -> int:
    return (idx * TILE_WIDTH) << (TILE_HEIGHT * level)


def check_tile_rows(conn: Connection, size: int) -> None:
    """Every ``log_tiles`` row is a tile of the tree at ``size``, with exactly its width and
    length, and every tile of that tree has its row. Reads no tile contents."""
    length = "length(hashes)" if conn.dialect.name == "sqlite" else "octet_length(hashes)"
    kind = "typeof(hashes)" if conn.dialect.name == "sqlite" else "'blob'"
    want = {(level, idx): width for level, idx, width in tiles_for_size(size)}
    seen = set()
    rows = conn.exec_driver_sql(f"SELECT level, idx, width, {kind}, {length} FROM log_tiles")
    for level, idx, width, hashes_type, nbytes in sorted(rows, key=_row_order):
        key = _key(level, idx)
        level = _int("log_tiles", key, "level", level, None)
        idx = _int("log_tiles", key, "idx", idx, None)
        first = _first_leaf(level, idx)
        if hashes_type != "blob":
            raise LogIntegrityError(f"log_tiles row {key}: column hashes holds "
                                    f"{hashes_type.upper()}, not BLOB: the cell was written "
                                    "outside the log's append path", first)
        width = _int("log_tiles", key, "width", width, first)
        expected = want.get((level, idx))
        if expected is None:
            raise LogIntegrityError(f"tile {key} is stored in the database, but a log of {size} "
                                    "entries has no such tile", first)
        if width != expected:
            raise LogIntegrityError(f"entry {first}: stored tile {key} has width {width} in its "
                                    f"width column, but the tree of {size} entries gives "
                                    f"{expected}", first)
        if nbytes != 32 * expected:
            # A short tile fails at its first missing hash, a long one as a whole.
            at = first + ((min(nbytes, 32 * expected) // 32) << (TILE_HEIGHT * level)
                          if nbytes < 32 * expected else 0)
            raise LogIntegrityError(f"entry {at}: stored tile {key} is {nbytes} bytes, want "
                                    f"{32 * expected} (width {expected})", at)
        seen.add((level, idx))
    for level, idx in sorted(want.keys() - seen):
        raise LogIntegrityError(f"tile {level}/{idx} is missing from the database",
                                _first_leaf(level, idx))


def _row_order(row: tuple[Any, ...]) -> tuple[int, int, int]:
    """Rows in (level, index) order; rows with a wrong-typed key first, so they are named."""
    level, idx = row[0], row[1]
    if type(level) is int and type(idx) is int:
        return (1, level, idx)
    return (0, 0, 0)


def tile_contents(conn: Connection, level: int, lo: int, hi: int) -> dict[int, bytes]:
    """Stored tiles ``lo <= idx <= hi`` of ``level`` (checked by :func:`check_tile_rows`)."""
    rows = conn.exec_driver_sql(_sql(conn, "SELECT idx, hashes FROM log_tiles "
                                           "WHERE level = ? AND idx >= ? AND idx <= ?"),
                                (level, lo, hi))
    out = {}
    for idx, hashes in rows:
        key = _key(level, idx)
        first = _first_leaf(level, idx) if type(idx) is int else None
        out[_int("log_tiles", key, "idx", idx, first)] = _blob("log_tiles", key, "hashes",
                                                                hashes, first)
    return out
