"""Engines, transactions and migrations for SQLite and PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL``, so a committed batch survives a power loss.
``BEGIN IMMEDIATE`` starts every write, which takes the write lock at once instead of at the
first write, so two writers can never interleave a read of the head with a write. PostgreSQL
gets the same serialisation from ``SELECT ... FOR UPDATE`` on the ``log_head`` row (see
:mod:`reelrights.log.store`). Migrations run the first time a database is opened: a fresh home
needs no set-up step.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.pool import NullPool

from ..errors import BadInput

if TYPE_CHECKING:  # imported where used: a command that needs neither pays for neither
    import sqlite3

    from alembic.config import Config

__all__ = ["Database", "unavailable"]

_MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest migration. Checked against Alembic's own view by tests/test_store.py; comparing it
#: with ``alembic_version`` lets a command skip importing Alembic when nothing needs migrating.
SCHEMA_HEAD = "0021"
_migrate_lock = threading.Lock()


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


_MIGRATE_LOCK_KEY = 0x7265656C  # "reel": the advisory lock id that serialises migrations


def _current_revision(conn: Connection, *, savepoint: bool = False) -> str | None:
    """The database's schema revision, or None for a fresh database."""
    if savepoint:  # inside a PostgreSQL transaction a failed query must not abort it
        try:
            with conn.begin_nested():
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):
            return None
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        conn.rollback()  # no alembic_version table yet: a fresh database
        return None


class Database:
    """One database: an engine, write transactions and read connections."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        try:
            self.engine = _make_engine(url)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise BadInput(f"database URL {_redact(url)!r} is not usable ({exc}); use "
                           "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB") from None
        self.dialect = self.engine.dialect.name
        #: read_kept's connection of each thread, and all of them (closed by dispose).
        self._kept = threading.local()
        self._kept_lock = threading.Lock()
        self._kept_all: list[Connection] = []
        self._statements: Engine | None = None
        #: The connection every read of a thread shares inside :meth:`one_snapshot`.
        self._scope = threading.local()
        if migrate:
            self.migrate()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (one SELECT when it already is)."""
        with _migrate_lock:
            try:
                with self.engine.connect() as conn:
                    if _current_revision(conn) == SCHEMA_HEAD:
                        conn.rollback()
                        return
                    # Another process may be migrating this database right now: take the
                    # database's own lock, then look again before doing anything.
                    if self.dialect == "sqlite":
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    else:
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_LOCK_KEY})
                    if _current_revision(conn, savepoint=True) != SCHEMA_HEAD:
                        from alembic import command

                        cfg = alembic_config()
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                    conn.commit()
            except (OperationalError, ProgrammingError) as exc:
                raise BadInput(f"cannot open the database {_redact(self.url)!r} "
                               f"({exc.orig}); check REELRIGHTS_DATABASE_URL or --home") from None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction that sees one consistent snapshot of the database (inside
        :meth:`one_snapshot`: that block's)."""
        shared: Connection | None = getattr(self._scope, "conn", None)
        if shared is not None:
            yield shared
            return
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try:
                yield conn
            finally:
                conn.rollback()

    @contextmanager
    def read_kept(self, *, snapshot: bool = True) -> Iterator[Connection]:
        """:meth:`read` for servers answering many small reads from a thread pool.

        SQLite connections are not pooled (NullPool), and opening one (WAL and pragmas) costs
        more than a small read: the calling thread keeps its connection open between calls (a
        connection that failed is closed and opened again on the next call). Other databases
        pool theirs already.

        ``snapshot=False`` is for reads whose statements each stand alone: no transaction
        around them (each statement sees its own snapshot), which on PostgreSQL saves the
        round trips of opening and closing one."""
        shared: Connection | None = getattr(self._scope, "conn", None)
        if shared is not None:
            yield shared
            return
        if self.dialect != "sqlite":
            if snapshot:
                with self.read() as pooled:
                    yield pooled
            else:
                with self._statements_engine().connect() as pooled:
                    yield pooled
            return
        conn: Connection | None = getattr(self._kept, "conn", None)
        if conn is None or conn.closed:
            conn = self.engine.connect()
            self._kept.conn = conn
            with self._kept_lock:
                self._kept_all = [c for c in self._kept_all if not c.closed] + [conn]
        try:
            if snapshot:
                conn.exec_driver_sql("BEGIN")
            yield conn
        finally:
            try:
                conn.rollback()
            except Exception:  # noqa: BLE001 - a broken connection: drop it, open anew next time
                self._kept.conn = None
                conn.close()

    @contextmanager
    def one_snapshot(self) -> Iterator[Connection]:
        """Every read of this thread inside the block (:meth:`read`, :meth:`read_kept`) shares
        one read-only transaction: one snapshot and one connection for a page that asks a dozen
        read models (on SQLite, the thread's kept connection: opening one per read costs more
        than most reads). Writes (:meth:`write`) keep their own connection and are not seen
        by the block's reads. Nested blocks share the outer one."""
        shared: Connection | None = getattr(self._scope, "conn", None)
        if shared is not None:
            yield shared
            return
        with self.read_kept() as conn:
            self._scope.conn = conn
            try:
                yield conn
            finally:
                self._scope.conn = None

    def _statements_engine(self) -> Engine:
        """PostgreSQL engine for ``read_kept(snapshot=False)``: autocommit, and no ping on
        checkout (a connection the server dropped fails its statement, is discarded by the pool,
        and the next read opens a new one)."""
        with self._kept_lock:
            if self._statements is None:
                self._statements = create_engine(self.url, pool_size=8, max_overflow=8,
                                                 pool_pre_ping=False,
                                                 isolation_level="AUTOCOMMIT")
            return self._statements

    def close_kept(self) -> None:
        """Close every connection :meth:`read_kept` keeps (threads open new ones if they read
        again)."""
        with self._kept_lock:
            kept, self._kept_all = self._kept_all, []
        for conn in kept:
            conn.close()
        with self._kept_lock:
            statements, self._statements = self._statements, None
        if statements is not None:
            statements.dispose()

    def dispose(self) -> None:
        self.close_kept()
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool,
                               connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            # Let us issue BEGIN ourselves (pysqlite's implicit transactions defer the lock).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=60000")
            _enable_wal(cur)
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4)


def _enable_wal(cur: sqlite3.Cursor) -> None:
    """Switch a connection to WAL. On a brand-new file, several processes doing this at once can
    get SQLITE_BUSY without the busy handler being consulted, so retry for a while."""
    import sqlite3
    import time

    deadline = time.monotonic() + 30
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def unavailable(exc: BaseException) -> str | None:
    """One line saying why the database cannot be used, when ``exc`` is that (it cannot be
    reached, or a connection broke); None for any other error. For front doors, which answer
    "try again later" without importing SQLAlchemy."""
    if not isinstance(exc, (OperationalError, InterfaceError)) and not (
            isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return None
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _redact(url: str) -> str:
    """The URL without its password, fit for an error message."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url
