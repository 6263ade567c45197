"""Storage: migrations, the schema head constant, SQLite durability settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

from reelrights.store.db import SCHEMA_HEAD, Database, alembic_config
from reelrights.store.tables import metadata


def test_schema_head_constant_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def test_migrations_create_every_table_and_the_empty_head(backend_url: str) -> None:
    db = Database(backend_url)
    try:
        names = set(inspect(db.engine).get_table_names())
        assert set(metadata.tables) <= names
        with db.read() as conn:
            size, root = conn.execute(text("SELECT size, root FROM log_head WHERE id = 1")).one()
            rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert size == 0
        assert bytes(root).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        assert rev == SCHEMA_HEAD
    finally:
        db.dispose()


def _drift(db: Database) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the table definitions:
    tables, columns, types, nullability, server defaults, indexes and unique constraints."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                     "compare_server_default": True})
        return list(compare_metadata(ctx, metadata))


def test_migrations_at_head_match_the_table_definitions(backend_url: str) -> None:
    """A fresh database migrated to head is exactly what store/*_tables.py define; a change to
    a table that lacks its migration (or the reverse) fails here, on both backends."""
    db = Database(backend_url)
    try:
        assert _drift(db) == []
        # The comparison reads this backend's real schema: take an index away and it says so.
        with db.write() as conn:
            conn.exec_driver_sql("DROP INDEX ix_fund_lines_payee")
        drift = _drift(db)
        assert [(d[0], d[1].name) for d in drift] == [("add_index", "ix_fund_lines_payee")]
    finally:
        db.dispose()


def test_opening_twice_does_not_migrate_again(backend_url: str) -> None:
    Database(backend_url).dispose()
    db = Database(backend_url)  # second open: the revision check finds the head and stops
    try:
        with db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        db.dispose()


def test_sqlite_runs_wal_with_full_sync(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_one_snapshot_shares_one_connection_and_one_snapshot(backend_url: str) -> None:
    """Inside one_snapshot every read (read, read_kept, nested blocks) is the same connection
    in the same transaction: a write committed meanwhile is not seen until the block ends."""
    db = Database(backend_url)
    try:
        with db.write() as conn:
            conn.execute(text("CREATE TABLE probe (n INTEGER)"))
        with db.one_snapshot() as outer:
            with db.read() as a:
                assert a is outer and a.execute(text("SELECT count(*) FROM probe")).scalar() == 0
            with db.write() as w:  # another connection, committed
                w.execute(text("INSERT INTO probe VALUES (1)"))
            with db.read_kept(snapshot=False) as b, db.one_snapshot() as nested:
                assert b is outer and nested is outer
                assert b.execute(text("SELECT count(*) FROM probe")).scalar() == 0
        with db.read() as after:
            assert after is not outer
            assert after.execute(text("SELECT count(*) FROM probe")).scalar() == 1
    finally:
        db.dispose()
