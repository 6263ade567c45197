"""Putting a backup's local tables into a home rebuilt from the published log.

After a never-fork refusal, or the loss of the database, the log and every projection come back
from the published tiles (``reelrights rebuild``), fresher than any backup. What the log does
not hold comes from the latest backup: the local tables (:data:`reelrights.replica.tables.
LOCAL_TABLES`: fingerprints, asset locations, signed output manifests, the service's allowlist
and whatever else is classified local). :func:`restore_local_tables` copies their rows from a
backup into a home, leaving every row the home already has (a row whose key exists is kept as
it is), in one transaction: the log, the projections and the head are not touched.

An SQLite backup is read from a temporary copy (migrated to the current schema, so columns
match); a PostgreSQL backup is first restored with ``pg_restore`` into ``scratch_url``, an
empty database the caller provides.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..errors import BadInput
from ..home import Home
from ..replica.tables import LOCAL_TABLES
from ..store.db import Database
from ..store.tables import metadata
from .backup import PG_FILE, SQLITE_FILE, pg_restore, read_manifest

__all__ = ["restore_local_tables"]


def _local_tables() -> list[Table]:
    """The local tables, parents before children (the schema's own order)."""
    return [t for t in metadata.sorted_tables if t.name in LOCAL_TABLES]


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def restore_local_tables(src: Path, home: Home, *,
                         scratch_url: str | None = None) -> dict[str, int]:
    """Copy the local tables' rows of the backup ``src`` into ``home``'s database; return the
    rows added per table. Refuses a backup of another log."""
    data: dict[str, Any] = read_manifest(Path(src))
    if data["origin"] != home.origin:
        raise BadInput(f"{src} is a backup of {data['origin']}, not of this home's log "
                       f"({home.origin}); pass a backup of this log")
    with tempfile.TemporaryDirectory(prefix="reelrights-local-") as tmp:
        if data["dialect"] == "sqlite":
            copy = Path(tmp) / SQLITE_FILE
            shutil.copyfile(Path(src) / SQLITE_FILE, copy)
            source = Database(f"sqlite:///{copy}")
        else:
            if not scratch_url:
                raise BadInput("a PostgreSQL backup is read through a scratch database: pass "
                               "--scratch-database-url URL (empty; dropped by you afterwards)")
            pg_restore(Path(src) / PG_FILE, scratch_url)
            source = Database(scratch_url)
        target = Database(home.database_url)
        added: dict[str, int] = {}
        try:
            with source.read() as reading, target.write() as writing:
                insert = sqlite_insert if target.dialect == "sqlite" else pg_insert
                for table in _local_tables():
                    rows = [dict(r._mapping) for r in reading.execute(select(table))]
                    if not rows:
                        added[table.name] = 0
                        continue
                    before = _count(writing, table)
                    writing.execute(insert(table).on_conflict_do_nothing(), rows)
                    added[table.name] = _count(writing, table) - before
        finally:
            source.dispose()
            target.dispose()
    return added
