"""``log verify``'s projection check: rebuild every projection in a scratch database from the
entries and compare it, row by row, with the stored tables.

The scratch database is a temporary SQLite file migrated with the project's migrations, deleted
afterwards. (An in-memory URL does not work here: ``Database`` opens SQLite without a pool, so
every connection would see a new, empty in-memory database and the migrated schema would be
gone.) Durability is switched off for it: it is thrown away.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..errors import LogIntegrityError
from ..store.db import Database
from ..store.tables import log_checkpoints
from .compare import Difference, compare_projections
from .replay import replay
from .tables import projection_tables

__all__ = ["ProjectionReport", "scratch_database", "stored_leaves", "verify_projections"]

#: How many differences a report lists (all are counted).
SHOWN = 20


@dataclass
class ProjectionReport:
    entries: int
    tables: int
    differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"projections: {self.tables} tables rebuilt from {self.entries} entries match "
                f"the stored rows ({self.seconds:.2f}s)")

    def failure(self) -> str:
        n = len(self.differences)
        tables = sorted({d.table for d in self.differences})
        return (f"{n} difference{'s' if n != 1 else ''} between the stored projections and the "
                f"log (tables {', '.join(tables)}); first: {self.differences[0].describe()}; "
                "the table rows were changed outside the log: restore them with "
                "`reelrights rebuild` from the log's tiles")

    def lines(self, shown: int = SHOWN) -> list[str]:
        out = [d.describe() for d in self.differences[:shown]]
        if len(self.differences) > shown:
            out.append(f"... and {len(self.differences) - shown} more")
        return out

    def to_json(self) -> dict[str, Any]:
        return {"entries": self.entries, "tables": self.tables,
                "differences": len(self.differences),
                "first": [d.to_json() for d in self.differences[:SHOWN]],
                "seconds": round(self.seconds, 3)}


@contextmanager
def scratch_database() -> Iterator[Connection]:
    """A connection, inside a transaction, to a fresh migrated SQLite database that is deleted
    on exit (nothing is ever committed to it)."""
    with tempfile.TemporaryDirectory(prefix="reelrights-replay-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'replay.db'}")
        try:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
                conn.exec_driver_sql("BEGIN")
                try:
                    yield conn
                finally:
                    conn.rollback()
        finally:
            db.dispose()


def stored_leaves(conn: Connection, size: int, chunk: int = 16_384) -> Iterator[bytes]:
    """The stored entries 0..size-1 in index order; a gap is a LogIntegrityError."""
    from ..store.tables import log_entries

    pos = 0
    while pos < size:
        rows = conn.execute(select(log_entries.c.idx, log_entries.c.entry)
                            .where(log_entries.c.idx >= pos, log_entries.c.idx < pos + chunk)
                            .order_by(log_entries.c.idx)).all()
        for idx, entry in rows:
            if int(idx) != pos:
                raise LogIntegrityError(f"entry {pos} is missing from the database", pos)
            yield bytes(entry)
            pos += 1
        if not rows:
            raise LogIntegrityError(f"entry {pos} is missing from the database", pos)


def verify_projections(db: Database) -> ProjectionReport:
    """Replay the stored log into a scratch database and compare every projection table.

    Run it after :func:`reelrights.log.verify.verify_log`, which proves the entries and the
    checkpoints; this proves the tables the commands answer from. Sealed statements replay
    with the bodies this database keeps, each checked against its signed root (a body that
    does not match fails, naming its entry).
    """
    from ..sealed.store import database_source

    started = time.perf_counter()
    with db.read() as stored, scratch_database() as scratch:
        size = int(stored.exec_driver_sql("SELECT size FROM log_head WHERE id = 1").scalar_one())
        history = [(int(r.size), bytes(r.root), bytes(r.note), r.issued_at) for r in
                   stored.execute(select(log_checkpoints).order_by(log_checkpoints.c.size))]
        report = replay(scratch, stored_leaves(stored, size), checkpoints=history,
                        bodies=database_source(stored))
        differences = compare_projections(stored, scratch)
    return ProjectionReport(report.entries, len(projection_tables()), differences,
                            time.perf_counter() - started)
