"""A served home for the read-side service tests: the fund story (parties, works, bundles,
licenses, a run, a production) plus enough works that the log has full tiles, partial tiles
and a level-1 tile, served by uvicorn on 127.0.0.1 port 0 in a thread, on SQLite or on
PostgreSQL (a schema of its own).

Not in tests/service/conftest.py (the write side's ``service`` fixture runs ``reelrights serve``
processes, one per test): these are module-scoped and in-process, for many reads of one big
home. Import them from here (``from read_server import served``).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from service_kit import PG_URL

from fake_works import register_fake_work
from fund_story import build
from reelrights.api import ServiceConfig, create_app
from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.home import Home
from reelrights.ledger import Ledger

#: Batches after the story: crosses tile boundaries in awkward places (as test_interop does).
EXTRA_BATCHES = (7, 230, 2, 41)


@dataclass
class Served:
    url: str
    home: Home
    ledger: Ledger
    ids: dict[str, str]
    backend: str
    server: uvicorn.Server
    extra: dict[str, object] = field(default_factory=dict)


class ThreadedServer:
    """uvicorn in a thread: started on a free port, stopped (and joined) on exit."""

    def __init__(self, app: object) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def database_url(backend: str, tmp: Path) -> Iterator[str | None]:
    """None for SQLite in the home; a fresh PostgreSQL schema's URL (dropped after)."""
    if backend == "sqlite":
        yield None
        return
    import psycopg

    try:
        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"),
                             connect_timeout=5):
            pass
    except Exception as exc:  # noqa: BLE001 - any reason it cannot be reached
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must run in CI but is unreachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")

    schema = f"t_{secrets.token_hex(6)}"
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def populate(home: Home, ledger: Ledger, tmp: Path) -> dict[str, str]:
    ids = build(home, ledger, tmp)
    studio = ids["studio"]
    key = home.party_key(studio)
    for n in EXTRA_BATCHES:
        entries = []
        for _ in range(n):
            wid = new_id("work")
            body = {"id": wid, "kind": "image", "title": f"still {wid}", "owner": studio,
                    "assets": [{"sha256": (wid.encode().hex() * 4)[:64], "size": 10,
                                "media_type": "image/png", "category": "image",
                                "name": "a.png"}]}
            entries.append(sign_statement(ledger.new_statement("work.registered", studio, body),
                                          key))
        ledger.submit(entries)
    ids["last_work"], _ = register_fake_work(home, ledger, studio, "The Last Reel")
    return ids


def served_home(backend: str, tmp: Path) -> Iterator[Served]:
    """A populated home on ``backend``, served; everything stopped and removed after."""
    for url in database_url(backend, tmp):
        saved = {k: os.environ.pop(k, None) for k in ("REELRIGHTS_DATABASE_URL",
                                                      "REELRIGHTS_HOME")}
        try:
            home, _ = Home.init(tmp / "home", database_url=url)
            ledger = Ledger.open(home)
            ids = populate(home, ledger, tmp)
            app = create_app(ServiceConfig(home=home.path))
            threaded = ThreadedServer(app)
            with threaded as base:
                yield Served(base, home, ledger, ids, backend, threaded.server)
            ledger.close()
            ledger.db.dispose()
        finally:
            for k, v in saved.items():
                if v is not None:
                    os.environ[k] = v


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The populated home served, on SQLite and on PostgreSQL (one server per module)."""
    yield from served_home(request.param, tmp_path_factory.mktemp(f"served-{request.param}"))


@pytest.fixture(scope="module")
def served_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The populated home on SQLite only (for the property-based run, bounded in time)."""
    yield from served_home("sqlite", tmp_path_factory.mktemp("served-sqlite"))
