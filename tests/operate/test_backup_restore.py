"""The restore drill: back up while statements are being written, restore into a new home,
`log verify` passes (tree, signatures, checkpoints, every projection replayed and compared),
the local tables the log cannot give back are there, and the restored home refuses to start
while it is behind the published log. Both backends (SQLite's online backup API, pg_dump)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from operate_helpers import fake_work, parties
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from reelrights.cli import cli
from reelrights.errors import ForkRefused, LogIntegrityError
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.operate import check_published
from reelrights.operate.backup import backup, restore
from reelrights.store.db import Database
from reelrights.store.fingerprint_tables import asset_locations
from reelrights.store.tables import assets


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args))


def _writer(home: Home, stop: threading.Event, going: threading.Event,
            errors: list[BaseException]) -> threading.Thread:
    def work() -> None:
        ledger = Ledger.open(home)
        try:
            from reelrights.registry.parties import register_party

            i = 0
            while not stop.is_set() and i < 200:
                register_party(home, ledger, "performer", f"Performer {i}")
                i += 1
                if i == 3:
                    going.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            going.set()
        finally:
            ledger.close()
            ledger.db.dispose()
    t = threading.Thread(target=work)
    t.start()
    return t


def _drop_schema(url: str) -> None:
    options = make_url(url).query["options"]
    schema = str(options).split("=", 1)[1]
    plain = url.split("?")[0].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_restore_drill_during_writes(home: Home, tmp_path: Path) -> None:
    # Some history, and a local row only this database has (where an asset's file was seen).
    ledger = Ledger.open(home)
    try:
        from reelrights.registry.parties import register_party

        studio = register_party(home, ledger, "studio", "Northlight").details["id"]
        fake_work(home, ledger, studio, "Harbour Lights")
        with ledger.db.write() as conn:
            sha = conn.execute(select(assets.c.sha256).limit(1)).scalar_one()
            conn.execute(insert(asset_locations).values(sha256=sha, path="/media/reel0.mp4",
                                                        size=1000, seen_at="2026-01-01T00:00:00Z"))
    finally:
        ledger.close()
        ledger.db.dispose()

    stop, going, errors = threading.Event(), threading.Event(), []
    writer = _writer(home, stop, going, errors)
    try:
        going.wait()  # the writer is under way: the backup runs between its batches
        result = run("--home", str(home.path), "backup", str(tmp_path / "bk"), "--json")
    finally:
        stop.set()
        writer.join()
    assert not errors, errors
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    manifest = json.loads((tmp_path / "bk" / "backup.json").read_text())
    assert manifest["size"] == report["size"] >= 3 + 3  # three entries, then the writer's first three
    assert manifest["log_key"] and "PRIVATE" not in (tmp_path / "bk" / "backup.json").read_text()
    assert not any(p.suffix == ".pem" for p in (tmp_path / "bk").iterdir())  # no keys
    parties(home, 1, "After the backup")        # the live log moves on

    if home.database_url.startswith("postgresql"):
        _drop_schema(home.database_url)         # the disaster: the database is gone
        args = ["--database-url", home.database_url]
    else:
        args = []
    new = tmp_path / "restored"
    result = run("--home", str(new), "restore", str(tmp_path / "bk"), "--log-key",
                 str(home.log_key_path), *args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(new)

    result = run("--home", str(new), "log", "verify")
    assert result.exit_code == 0, result.stdout + result.stderr
    restored = Home.open(new)
    db = Database(restored.database_url)
    try:
        with db.read() as conn:
            size = int(conn.exec_driver_sql("SELECT size FROM log_head").scalar_one())
            rows = conn.execute(select(asset_locations.c.path)).scalars().all()
    finally:
        db.dispose()
    assert size == manifest["size"] and rows == ["/media/reel0.mp4"]

    # The backup is older than the published log: the restored home does not start on it.
    with pytest.raises(ForkRefused) as refused:
        check_published(restored, published=[str(home.log_dir)])
    assert f"size {size}" in str(refused.value)


def test_a_damaged_backup_or_a_used_target_restores_nothing(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    home, _ = Home.init(tmp_path / "home", origin="example.org/log")
    parties(home, 2)
    backup(home, tmp_path / "bk")
    with pytest.raises(Exception, match="never overwrites"):
        backup(home, tmp_path / "bk")
    with pytest.raises(Exception, match="never overwrites"):
        restore(tmp_path / "bk", home.path)
    # A wrong log key is refused before anything is written.
    other, _ = Home.init(tmp_path / "other", origin="example.org/log")
    result = run("--home", str(tmp_path / "r0"), "restore", str(tmp_path / "bk"),
                 "--log-key", str(other.log_key_path))
    assert result.exit_code == 2 and "is not this log's key" in result.stderr
    assert not (tmp_path / "r0").exists()
    # One flipped byte in the copy: its digest no longer matches.
    db = tmp_path / "bk" / "reelrights.db"
    data = bytearray(db.read_bytes())
    data[len(data) // 2] ^= 0x01
    db.write_bytes(bytes(data))
    with pytest.raises(LogIntegrityError, match="does not match its SHA-256"):
        restore(tmp_path / "bk", tmp_path / "r1")
    assert not (tmp_path / "r1").exists()
    assert not list(tmp_path.glob(".r1.restore-*"))


def test_a_restored_log_whose_rows_were_edited_fails_its_checks(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """A backup edited behind the manifest's back (digest recomputed): the restore's own
    `log verify` refuses it; without a log key the restored home is a read-only replica."""
    import hashlib
    import sqlite3

    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    home, _ = Home.init(tmp_path / "home", origin="example.org/log")
    parties(home, 2)
    backup(home, tmp_path / "bk")
    ok = restore(tmp_path / "bk", tmp_path / "replica")
    assert ok["read_only"] is True
    assert run("--home", str(tmp_path / "replica"), "party", "add", "--kind", "studio",
               "--name", "X").exit_code == 2
    db = tmp_path / "bk" / "reelrights.db"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'Studio 1', "
                 "'Studio 9') AS BLOB) WHERE idx = 2")
    conn.commit()
    conn.close()
    manifest = json.loads((tmp_path / "bk" / "backup.json").read_text())
    manifest["files"]["reelrights.db"] = hashlib.sha256(db.read_bytes()).hexdigest()
    (tmp_path / "bk" / "backup.json").write_text(json.dumps(manifest))
    with pytest.raises(LogIntegrityError, match="entry 2"):
        restore(tmp_path / "bk", tmp_path / "r2")
    assert not (tmp_path / "r2").exists()


def _new_schema_url(url: str) -> str:
    """Another empty schema beside the test's own (PostgreSQL); dropped with the test's."""
    import secrets

    schema = f"t_{secrets.token_hex(6)}"
    plain = url.split("?")[0].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    _created.append((plain, schema))
    return f"{url.split('?')[0]}?options=-csearch_path%3D{schema}"


_created: list[tuple[str, str]] = []
_databases: list[tuple[str, str]] = []


def _scratch_database_url(url: str) -> str:
    """An empty scratch database on the same server, with the test schema's search path (a
    dump of that schema recreates it there)."""
    import secrets

    name = f"scratch_{secrets.token_hex(6)}"
    base, _, query = url.partition("?")
    plain = base.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _databases.append((plain, name))
    return f"{base.rsplit('/', 1)[0]}/{name}?{query}"


@pytest.fixture
def extra_schemas():  # noqa: ANN201
    yield _new_schema_url
    while _created:
        plain, schema = _created.pop()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    while _databases:
        plain, name = _databases.pop()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_never_fork_fix_rebuild_then_the_backups_local_tables(home: Home, tmp_path: Path,
                                                              extra_schemas) -> None:  # noqa: ANN001
    """The documented fix end to end: the log from the published tiles (`rebuild`), the local
    rows from the latest backup (`restore --local-tables`); rows already there are kept."""
    ledger = Ledger.open(home)
    try:
        from reelrights.registry.parties import register_party

        studio = register_party(home, ledger, "studio", "Northlight").details["id"]
        fake_work(home, ledger, studio, "Harbour Lights")
        with ledger.db.write() as conn:
            shas = conn.execute(select(assets.c.sha256).order_by(assets.c.sha256)).scalars().all()
            conn.execute(insert(asset_locations), [
                {"sha256": s, "path": f"/media/{i}.mp4", "size": 1000, "seen_at": "2026-01-01"}
                for i, s in enumerate(shas)])
    finally:
        ledger.close()
        ledger.db.dispose()
    assert run("--home", str(home.path), "backup", str(tmp_path / "bk")).exit_code == 0
    parties(home, 2, "Published later")       # the published log moves past the backup

    pg = home.database_url.startswith("postgresql")
    new_url = extra_schemas(home.database_url) if pg else None
    vkey = run("--home", str(home.path), "log", "key").stdout.strip()
    new = tmp_path / "rebuilt"
    result = run("--home", str(new), "rebuild", "--tiles", str(home.log_dir), "--key", vkey,
                 "--log-key", str(home.log_key_path),
                 *(["--database-url", new_url] if new_url else []))
    assert result.exit_code == 0, result.stderr
    rebuilt = Home.open(new)
    # One row the rebuilt home made itself since: kept, not overwritten by the backup's.
    db = Database(rebuilt.database_url)
    try:
        with db.write() as conn:
            conn.execute(insert(asset_locations).values(sha256=shas[0], path="/media/0.mp4",
                                                        size=2000, seen_at="2026-02-02"))
    finally:
        db.dispose()
    args = ["--scratch-database-url", _scratch_database_url(home.database_url)] if pg else []
    result = run("--home", str(new), "restore", str(tmp_path / "bk"), "--local-tables",
                 "--json", *args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["added"]["asset_locations"] == len(shas) - 1
    db = Database(rebuilt.database_url)
    try:
        with db.read() as conn:
            rows = conn.execute(select(asset_locations.c.path, asset_locations.c.size)
                                .order_by(asset_locations.c.path)).all()
    finally:
        db.dispose()
    assert [tuple(r) for r in rows] == [("/media/0.mp4", 2000), ("/media/1.mp4", 1000)]
    assert run("--home", str(new), "log", "verify").exit_code == 0
    assert check_published(rebuilt, published=[str(home.log_dir)]).size == 5
    # A backup of another log is refused.
    other, _ = Home.init(tmp_path / "other", origin="example.org/other")
    result = run("--home", str(other.path), "restore", str(tmp_path / "bk"), "--local-tables")
    assert result.exit_code == 2 and "not of this home's log" in result.stderr
