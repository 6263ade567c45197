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
