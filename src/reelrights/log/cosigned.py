"""The witnesses' cosignatures a log server collected, kept beside the home (``cosigned.sqlite``,
its own small file: the main database is unchanged). Per checkpoint size: the log's signed note,
and every cosignature line each witness returned (a witness cosigns the same size again on each
refresh, with a later timestamp). The service publishes a checkpoint with the latest line of
each witness; ``log verify`` reads them all to bound each entry's log time."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

__all__ = ["COSIGNED_FILE", "CosignedStore"]

COSIGNED_FILE = "cosigned.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cosignatures (
    size INTEGER NOT NULL,
    witness TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (size, witness, timestamp)
);
"""
#: Seconds a published checkpoint is reused from memory before the file is read again.
CACHE_S = 0.5


def _text(note: bytes) -> bytes:
    """The note's text (up to the signatures' blank line), its final newline included."""
    cut = note.rfind(b"\n\n")
    return note[: cut + 1] if cut >= 0 else note


class CosignedStore:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._cache: dict[int, tuple[float, bytes | None]] = {}
        self._lock = threading.Lock()
        with self._conn() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            yield conn

    def add(self, size: int, note: bytes, witness: str, timestamp: int, line: str) -> None:
        """Record a verified cosignature ``line`` of ``witness`` (its vkey) on ``note``."""
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR IGNORE INTO checkpoints (size, note) VALUES (?, ?)",
                         (size, note))
            conn.execute("INSERT OR IGNORE INTO cosignatures (size, witness, timestamp, line) "
                         "VALUES (?, ?, ?, ?)", (size, witness, timestamp, line))
            conn.execute("COMMIT")
        with self._lock:
            self._cache.pop(size, None)

    def _published(self, conn: sqlite3.Connection, size: int) -> bytes | None:
        row = conn.execute("SELECT note FROM checkpoints WHERE size = ?", (size,)).fetchone()
        if row is None:
            return None
        lines = [r[0] for r in conn.execute(
            "SELECT c.line FROM cosignatures c WHERE c.size = ? AND c.timestamp = (SELECT "
            "MAX(timestamp) FROM cosignatures d WHERE d.size = c.size AND d.witness = "
            "c.witness) ORDER BY c.witness", (size,))]
        return bytes(row[0]) + "".join(lines).encode("utf-8")

    def published(self, note: bytes, size: int) -> bytes:
        """``note`` (the log's latest checkpoint, of ``size``) with the latest cosignature of
        each witness that cosigned exactly this checkpoint; ``note`` alone if none did."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(size)
        if hit is None or hit[0] < now:
            with self._conn() as conn:
                found = self._published(conn, size)
            hit = (now + CACHE_S, found)
            with self._lock:
                if len(self._cache) > 64:
                    self._cache.clear()
                self._cache[size] = hit
        found = hit[1]
        if found is None or _text(found) != _text(note):
            return note
        return found

    def lines(self, size: int) -> set[bytes]:
        """Every cosignature line recorded for the checkpoint of ``size`` (each ending in a
        newline), whatever its time."""
        with self._conn() as conn:
            return {r[0].encode("utf-8") for r in conn.execute(
                "SELECT line FROM cosignatures WHERE size = ?", (size,))}

    def witness_keys(self) -> list[str]:
        """The vkeys of the witnesses whose cosignatures were recorded."""
        with self._conn() as conn:
            return sorted(r[0] for r in conn.execute("SELECT DISTINCT witness FROM cosignatures"))

    def latest(self) -> bytes | None:
        """The largest cosigned checkpoint, with the latest line of each witness."""
        with self._conn() as conn:
            size = conn.execute("SELECT MAX(size) FROM cosignatures").fetchone()[0]
            return None if size is None else self._published(conn, int(size))

    def history(self) -> Iterator[tuple[bytes, int]]:
        """For each cosigned size, the note with each witness's earliest line, then the note
        with each witness's latest line (the widest span of times each size was witnessed)."""
        with self._conn() as conn:
            sizes = [int(r[0]) for r in conn.execute(
                "SELECT DISTINCT size FROM cosignatures ORDER BY size")]
            for size in sizes:
                note = bytes(conn.execute("SELECT note FROM checkpoints WHERE size = ?",
                                          (size,)).fetchone()[0])
                for agg in ("MIN", "MAX"):
                    lines = [r[0] for r in conn.execute(
                        f"SELECT c.line FROM cosignatures c WHERE c.size = ? AND c.timestamp = "
                        f"(SELECT {agg}(timestamp) FROM cosignatures d WHERE d.size = c.size "
                        "AND d.witness = c.witness) ORDER BY c.witness", (size,))]
                    yield note + "".join(lines).encode("utf-8"), size
