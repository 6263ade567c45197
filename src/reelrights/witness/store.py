"""The witness's own record: per log origin, the latest checkpoint it cosigned (size, root and
the cosigned note), in a small SQLite file. The check of the client's ``old`` size and the update
happen in ONE write transaction (compare and swap), so two concurrent requests from the same old
size cannot both win, and a slow request can never roll the record back (c2sp.org/tlog-witness,
"the following race can occur"). Checkpoints refused as inconsistent are kept as evidence."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LogRecord", "WitnessStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_state (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note BLOB NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refused (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    body BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class LogRecord:
    size: int
    root: bytes | None  # None: never cosigned (size 0)
    note: bytes = b""


class WitnessStore:
    """One SQLite file; a connection per call (calls come from many threads)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        with self._conn() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            conn.execute("PRAGMA busy_timeout=30000")
            yield conn

    def get(self, origin: str) -> LogRecord:
        with self._conn() as conn:
            row = conn.execute("SELECT size, root, note FROM log_state WHERE origin = ?",
                               (origin,)).fetchone()
        return LogRecord(0, None) if row is None else LogRecord(int(row[0]), bytes(row[1]),
                                                                bytes(row[2]))

    def compare_and_swap(self, origin: str, old: LogRecord, size: int, root: bytes,
                         note: bytes) -> int | None:
        """Record (size, root, note) if the stored record is still ``old``; else return the
        stored size (the caller answers 409 with it). One IMMEDIATE transaction."""
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT size, root FROM log_state WHERE origin = ?",
                                   (origin,)).fetchone()
                current = (0, None) if row is None else (int(row[0]), bytes(row[1]))
                if current != (old.size, old.root):
                    conn.execute("ROLLBACK")
                    return current[0]
                conn.execute(
                    "INSERT INTO log_state (origin, size, root, note, updated) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET size = excluded."
                    "size, root = excluded.root, note = excluded.note, updated = excluded.updated",
                    (origin, size, root, note, int(time.time())))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return None

    def refuse(self, origin: str, status: int, reason: str, body: bytes) -> None:
        """Keep a refused, validly signed checkpoint: it may prove the log misbehaved."""
        with self._conn() as conn:
            conn.execute("INSERT INTO refused (origin, at, status, reason, body) "
                         "VALUES (?, ?, ?, ?, ?)", (origin, int(time.time()), status, reason,
                                                    body))

    def refusals(self, origin: str) -> list[tuple[int, str]]:
        with self._conn() as conn:
            return [(int(r[0]), str(r[1])) for r in conn.execute(
                "SELECT status, reason FROM refused WHERE origin = ? ORDER BY id", (origin,))]
