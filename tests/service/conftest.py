"""The ``service`` fixture: real ``reelrights serve`` processes on 127.0.0.1 (port 0).

``service(home=None, open_appends=True, backend="sqlite", workers=1, config=None)`` starts one
on ``home`` (or on a new home: SQLite in it, "postgresql" for a fresh PostgreSQL schema, or a
database URL) and returns a :class:`service_kit.Server` (``.url``, ``.home``, ``.registry``,
``.post()``, ``.stop()``, ``.kill()``). Every server is stopped after the test.

``postgres_cluster`` is a private PostgreSQL 15 server for one test (:mod:`pg_cluster`), to stop
and start: skipped when the binaries are missing, except under CI, where that fails the test.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import PgCluster, missing
from service_kit import (  # noqa: F401  (need_postgres, postgres_error: used by fixtures)
    PG_URL,
    Server,
    drop_schemas,
    make_home,
    need_postgres,
    postgres_error,
    start_server,
)

from reelrights.home import Home


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Server]]:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("REELRIGHTS_HOME", raising=False)
    servers: list[Server] = []
    count = itertools.count()

    def start(home: Home | None = None, open_appends: bool = True, backend: str = "sqlite",
              workers: int = 1, config: dict[str, Any] | None = None) -> Server:
        if home is None:
            if backend == "postgresql":
                need_postgres()
            home = make_home(tmp_path / f"home{next(count)}", backend)
        server = start_server(home, open_appends=open_appends, workers=workers, config=config)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()
    if postgres_error() is None:
        drop_schemas()


@pytest.fixture(params=["sqlite", "postgresql"])
def service_backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn (PostgreSQL skipped, or failed under CI, when unreachable)."""
    if request.param == "postgresql":
        need_postgres()
    return str(request.param)


@pytest.fixture
def postgres_cluster() -> Iterator[PgCluster]:
    """A private, running PostgreSQL cluster (``.url``, ``.stop(mode)``, ``.start()``), stopped
    and removed after the test."""
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"a private PostgreSQL cluster must run in CI: {reason}")
        pytest.skip(reason)
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
