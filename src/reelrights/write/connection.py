"""The writer's SQLite connection, kept from one batch to the next."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from ..store.db import Database

__all__ = ["SQLITE_WRITE_PRAGMAS", "KeptConnection"]

#: SQLite, for the ledger's write connection: a page cache that holds the registry's indexes
#: (the default 2 MiB spills dirty pages into the WAL mid-batch and re-reads them), and a WAL
#: checkpoint every ~256 MiB instead of after every commit, so that a page rewritten by several
#: batches is copied into the database once. Neither weakens durability: synchronous=FULL
#: still fsyncs the WAL at every commit.
SQLITE_WRITE_PRAGMAS = ("PRAGMA cache_size=-524288", "PRAGMA wal_autocheckpoint=65536")


class KeptConnection:
    """``db.write()``; on an SQLite file, one connection kept for every batch.

    SQLite checkpoints the WAL into the database, and deletes it, whenever the last connection
    to the file closes. With a connection per transaction that is every batch, so every page a
    batch dirties was written twice, and each batch began with a cold page cache, re-reading the
    index pages it was about to change. The kept connection (used by one batch at a time,
    replaced if BEGIN, COMMIT or ROLLBACK fails) leaves checkpoints to ``wal_autocheckpoint``
    and keeps its cache; SQLite still drops the cache when another connection has written in
    between. Durability is unchanged: synchronous=FULL.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        if self.db.dialect != "sqlite" or ":memory:" in self.db.url:
            with self.db.write() as plain:
                yield plain
            return
        with self._lock:
            conn = self._conn
            if conn is None:
                conn = self.db.engine.connect()
                for pragma in SQLITE_WRITE_PRAGMAS:
                    conn.exec_driver_sql(pragma)
                self._conn = conn
            with self._dropped_on_error(conn):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                with self._dropped_on_error(conn):
                    conn.rollback()
                raise  # a refused batch, rolled back: the connection stays
            with self._dropped_on_error(conn):
                conn.commit()

    def close(self) -> None:
        """Release the kept connection (the next transaction opens another). Closing the last
        connection to the file checkpoints the WAL into it."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @contextmanager
    def _dropped_on_error(self, conn: Connection) -> Iterator[None]:
        """If BEGIN, COMMIT or ROLLBACK fails, the kept connection is replaced next batch."""
        try:
            yield
        except BaseException:
            self._conn = None
            conn.close()
            raise
