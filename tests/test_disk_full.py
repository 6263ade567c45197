"""A full disk, for real: a small tmpfs mounted for the test (the suite runs as root; the test
skips itself, saying why, where mounting is not permitted). Each command must end in one line
saying the disk is full and where, exit 1, no traceback, and leave the home as it was: the log
verifies and holds exactly what it held before."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.core.statements import make_statement, sign_statement
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MiB tmpfs at tmp_path/disk, unmounted afterwards."""
    where = tmp_path / "disk"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and mount permission): "
                    f"{done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path, leave: int = 0) -> Path:
    """Fill the disk, then free ``leave`` bytes: the filler file, to delete to free the rest."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as f:  # unbuffered: nothing left to flush at close
        for chunk in (b"\0" * 65536, b"\0" * 4096, b"\0"):
            try:
                while f.write(chunk):
                    pass
            except OSError:
                pass
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def _cli(home: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def _one_line_disk_full(result, where: str) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: the disk is full") and where in lines[0], lines[0]
    return lines[0]


def _log_state(home: Path) -> tuple[Any, ...]:
    h = Home.open(home)
    lg = Ledger.open(h, publish=False)
    try:
        with lg.db.read() as conn:
            return lg.log.head(conn), sorted(p.name for p in h.keys_dir.iterdir())
    finally:
        lg.db.dispose()


def test_party_add_on_a_full_disk_names_the_database(small_disk: Path) -> None:
    home = small_disk / "home"
    assert _cli(home, "init").exit_code == 0
    assert _cli(home, "party", "add", "--kind", "studio", "--name", "Northlight").exit_code == 0
    before = _log_state(home)
    filler = _fill(small_disk)
    result = _cli(home, "party", "add", "--kind", "studio", "--name", "Second Studio")
    _one_line_disk_full(result, str(home))  # the key or the database, both in the home
    filler.unlink()
    assert _log_state(home) == before  # no key left behind, no entry
    verified = _cli(home, "log", "verify")
    assert verified.exit_code == 0, verified.stderr
    assert _cli(home, "party", "add", "--kind", "studio", "--name", "Second Studio").exit_code == 0


def test_a_batch_that_outgrows_the_disk_writes_nothing(small_disk: Path, tmp_path: Path) -> None:
    """SQLite runs out of room mid-transaction ("database or disk is full"): rolled back."""
    home = small_disk / "home"
    assert _cli(home, "init").exit_code == 0
    lg = Ledger.open(Home.open(home), publish=False)
    maker = getattr(lg, "new_statement", None)
    lines = []
    for i in range(400):
        key = PartyKey.generate()
        pid = f"pty_{base64.b32encode(i.to_bytes(10, 'big')).decode().lower()[:16]}"
        body = {"id": pid, "kind": "writer", "name": f"Writer number {i} " + "x" * 200,
                "public_key": base64.b64encode(key.public_key_bytes).decode()}
        stmt = maker("party.registered", pid, body) if maker else make_statement(
            "party.registered", pid, body)
        lines.append(sign_statement(stmt, key))
    lg.db.dispose()
    batch = tmp_path / "batch.txt"  # on the ordinary disk
    batch.write_bytes(b"\n".join(lines) + b"\n")
    before = _log_state(home)
    filler = _fill(small_disk, leave=96 * 1024)
    result = _cli(home, "statement", "submit", str(batch))
    _one_line_disk_full(result, str(home))
    filler.unlink()
    assert _log_state(home) == before
    verified = _cli(home, "log", "verify")
    assert verified.exit_code == 0, verified.stderr


def test_exporting_tiles_to_a_full_disk_names_the_file(small_disk: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"  # the home on the ordinary disk; the export target is full
    assert _cli(home, "init").exit_code == 0
    for name in ("Northlight", "Paper Lantern", "Orbit AI"):
        assert _cli(home, "party", "add", "--kind", "studio", "--name", name).exit_code == 0
    filler = _fill(small_disk)
    target = small_disk / "export"
    result = _cli(home, "log", "export", str(target))
    _one_line_disk_full(result, str(target))
    filler.unlink()
    assert _cli(home, "log", "export", str(target)).exit_code == 0


def test_sqlite_full_is_recognised_behind_sqlalchemy(tmp_path: Path) -> None:
    """A database made full for real with PRAGMA max_page_count (no mount needed)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from reelrights.errors import DiskFull, disk_full

    engine = create_engine(f"sqlite:///{tmp_path / 'small.db'}")
    with pytest.raises(OperationalError) as info, engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x BLOB)"))
        conn.exec_driver_sql("PRAGMA max_page_count = 8")
        for _ in range(100):
            conn.execute(text("INSERT INTO t VALUES (randomblob(4000))"))
    engine.dispose()
    full = disk_full(info.value, str(tmp_path / "small.db"))
    assert isinstance(full, DiskFull) and full.exit_code == 1
    assert str(tmp_path / "small.db") in full.message
    assert disk_full(ValueError("database or disk is fine")) is None
