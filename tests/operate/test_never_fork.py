"""Never fork: a database restored from an older copy is refused at start (and every batch
refuses to sign on it), with one line naming both sizes and the fix; `rebuild` from the
published tiles gives a home that starts. A published checkpoint the database does not extend
(same size, another root; or larger and beside it) is refused too, wherever it is published.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from operate_helpers import parties
from sqlalchemy import func, select

from reelrights.api.app import ServiceConfig
from reelrights.api.state import ServiceState
from reelrights.cli import cli
from reelrights.core.note import NoteSigner
from reelrights.errors import ForkRefused, SignatureError
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.log.database_log import DatabaseLog
from reelrights.log.published import read_published
from reelrights.operate import check_published
from reelrights.registry.parties import register_party
from reelrights.replica import log_verifier_key
from reelrights.store.db import Database
from reelrights.store.tables import log_checkpoints


def _db_files(home: Home) -> list[Path]:
    db = home.path / "reelrights.db"
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def _copy_db(home: Home, to: Path) -> None:
    to.mkdir()
    for f in _db_files(home):
        if f.exists():
            shutil.copy2(f, to / f.name)


def _restore_db(home: Home, frm: Path) -> None:
    for f in _db_files(home):
        f.unlink(missing_ok=True)
    for f in frm.iterdir():
        shutil.copy2(f, home.path / f.name)


def _head(home: Home) -> tuple[int, int]:
    ledger = Ledger.open(home, establish=False)
    try:
        with ledger.db.read() as conn:
            size, _ = DatabaseLog(home.origin, None).head(conn)
            issued = conn.execute(select(func.count()).select_from(log_checkpoints)).scalar_one()
        return size, int(issued)
    finally:
        ledger.db.dispose()


@pytest.fixture
def sqlite_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("REELRIGHTS_PUBLISHED", raising=False)
    home, _ = Home.init(tmp_path / "home", origin="example.org/log")
    return home


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args))


def test_an_older_database_copy_is_refused_at_start_and_rebuild_starts(
        sqlite_home: Home, tmp_path: Path) -> None:
    home = sqlite_home
    parties(home, 2)                                   # size 3: establishment + 2 parties
    _copy_db(home, tmp_path / "old-db")
    parties(home, 3, "Later")                          # size 6, published
    assert read_published(home.log_dir).size == 6      # type: ignore[union-attr]
    check_published(home)                               # the live database: fine
    _restore_db(home, tmp_path / "old-db")              # the operator restores the old copy

    with pytest.raises(ForkRefused) as refused:
        check_published(home)
    msg = str(refused.value)
    assert "\n" not in msg
    assert "size 3" in msg and "size 6" in msg
    assert "reelrights --home NEW rebuild --tiles" in msg and str(home.log_dir) in msg

    # The service does not start either (its lifespan runs the same check).
    state = ServiceState(ServiceConfig(home=home.path))
    with pytest.raises(ForkRefused):
        asyncio.run(state.start())
    assert state.ledger is None

    # The CLI's pre-flight says the same, exit 1.
    result = run("--home", str(home.path), "service", "check")
    assert result.exit_code == 1 and "size 3" in result.stderr and "size 6" in result.stderr

    # And a batch is refused before anything is signed: nothing written, no checkpoint.
    before = _head(home)
    ledger = Ledger.open(home)
    try:
        with pytest.raises(ForkRefused):
            register_party(home, ledger, "studio", "Forker")
    finally:
        ledger.close()
        ledger.db.dispose()
    assert _head(home) == before == (3, 3)
    assert read_published(home.log_dir).size == 6      # type: ignore[union-attr]

    # The fix: rebuild from the published tiles with the log key; that home starts.
    vkey = log_verifier_key(home)
    new = tmp_path / "rebuilt"
    result = run("--home", str(new), "rebuild", "--tiles", str(home.log_dir), "--key", vkey,
                 "--log-key", str(home.log_key_path))
    assert result.exit_code == 0, result.stderr
    rebuilt = Home.open(new)
    report = check_published(rebuilt, published=[str(home.log_dir)])
    assert report.size == 6
    state = ServiceState(ServiceConfig(home=new))
    asyncio.run(state.start())
    try:
        assert state.ledger is not None
        state.ledger.submit  # noqa: B018 - the ledger is open
    finally:
        asyncio.run(state.stop())
    parties(rebuilt, 1, "After")
    assert _head(rebuilt)[0] == 7
    assert run("--home", str(new), "log", "verify").exit_code == 0


def test_a_database_beside_the_published_log_is_refused(sqlite_home: Home,
                                                        tmp_path: Path) -> None:
    """Same size, another root; and a larger tree that does not extend the published one."""
    home = sqlite_home
    parties(home, 1)
    _copy_db(home, tmp_path / "old-db")
    parties(home, 1, "Published")                      # published: size 3
    published = home.log_dir / "checkpoint"
    note = published.read_bytes()
    _restore_db(home, tmp_path / "old-db")              # size 2, then a different entry 3
    # A ledger built without the guard (and publishing nowhere) writes entry 2 differently.
    key = home.log_key()
    sneaky = Ledger(Database(home.database_url),
                    DatabaseLog(home.origin, NoteSigner(home.origin, key.seed)), None,
                    operator_key=key.public_key_bytes)
    register_party(home, sneaky, "studio", "Other")
    sneaky.close()
    assert published.read_bytes() == note               # (it published nothing)
    with pytest.raises(ForkRefused) as refused:
        check_published(home)
    assert "is not an extension" in str(refused.value) and "size 3" in str(refused.value)
    register_party(home, sneaky, "studio", "Other 2")   # size 4, beside the published 3
    sneaky.close()
    with pytest.raises(ForkRefused, match="size 4 is not an extension of the published "
                                          "checkpoint at size 3"):
        check_published(home)
    sneaky.db.dispose()
    guarded = Ledger.open(home)
    try:
        with pytest.raises(ForkRefused):
            register_party(home, guarded, "studio", "Forker")
    finally:
        guarded.close()
        guarded.db.dispose()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over real HTTP on 127.0.0.1 (a CDN's origin, say)."""
    root = tmp_path / "cdn"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_every_published_copy_counts(sqlite_home: Home, tmp_path: Path,
                                     http_folder: tuple[Path, str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The home's folder was restored along with the database (both old), but the CDN still
    serves the newer checkpoint: the start is refused on the CDN's word."""
    home = sqlite_home
    cdn, url = http_folder
    parties(home, 1)
    _copy_db(home, tmp_path / "old-db")
    shutil.copytree(home.log_dir, tmp_path / "old-log")
    parties(home, 2, "Later")
    shutil.copytree(home.log_dir, cdn, dirs_exist_ok=True)  # the CDN has size 4
    _restore_db(home, tmp_path / "old-db")
    shutil.rmtree(home.log_dir)
    shutil.copytree(tmp_path / "old-log", home.log_dir)
    assert check_published(home).size == 2              # its own folder alone: consistent
    with pytest.raises(ForkRefused) as refused:
        check_published(home, published=[url])
    assert url in str(refused.value) and "size 2" in str(refused.value)
    monkeypatch.setenv("REELRIGHTS_PUBLISHED", f"{tmp_path / 'nothing-yet'},{url}")
    with pytest.raises(ForkRefused):
        check_published(home)


def test_a_checkpoint_not_signed_by_the_log_key_is_refused(sqlite_home: Home,
                                                           tmp_path: Path) -> None:
    home = sqlite_home
    parties(home, 1)
    other, _ = Home.init(tmp_path / "other", origin="example.org/log")
    parties(other, 1)
    shutil.copy2(other.log_dir / "checkpoint", home.log_dir / "checkpoint")
    with pytest.raises(SignatureError, match="does not verify with this log's key"):
        check_published(home)


def test_a_folder_behind_the_database_catches_up(home: Home) -> None:
    """A crash between the commit and the publish leaves the folder behind: normal; the
    start-up check brings it to the head (both backends)."""
    ledger = Ledger.open(home, publish=False)
    try:
        register_party(home, ledger, "studio", "Unpublished")
    finally:
        ledger.close()
        ledger.db.dispose()
    assert read_published(home.log_dir) is None         # nothing published yet
    report = check_published(home)
    assert (report.size, report.caught_up) == (2, 2)
    assert read_published(home.log_dir).size == 2      # type: ignore[union-attr]
    assert run("--home", str(home.path), "log", "verify", "--tiles", str(home.log_dir),
               "--key", log_verifier_key(home)).exit_code == 0
