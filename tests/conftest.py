"""Shared pytest fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from hypothesis_profiles import BUDGET, chosen

ASSETS = Path(__file__).parent / "assets"



def pytest_configure(config: pytest.Config) -> None:
    """Load the Hypothesis profile (tests/hypothesis_profiles.py) before any test is collected."""
    profile = chosen()
    if profile not in BUDGET:
        raise pytest.UsageError(f"HYPOTHESIS_PROFILE={profile!r} is not a profile here; use one "
                                f"of {', '.join(sorted(BUDGET))} (tests/hypothesis_profiles.py)")
    settings.load_profile(profile)


def pytest_report_header() -> str:
    return f"hypothesis profile: {chosen()} ({settings().max_examples} examples per property)"


@pytest.fixture(scope="session")
def tlog_vectors() -> dict[str, Any]:
    """Interop vectors for RFC 9162 / C2SP (tests/assets/tlog_vectors.json).

    Extracted from transparency-dev/merkle, golang/mod sumdb, C2SP, transparency-dev/formats,
    transparency-dev/tessera and FiloSottile/sunlight at the commits in its ``sources`` section.
    """
    with (ASSETS / "tlog_vectors.json").open(encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------------
# Storage backends: every test that takes `backend_url` (or `home`/`ledger`) runs on SQLite and
# on PostgreSQL. PostgreSQL comes from REELRIGHTS_TEST_POSTGRES_URL (default: the local server
# on 127.0.0.1:5432, database test). Under CI=true an unreachable server fails the run instead
# of skipping, so the PostgreSQL half can never silently drop out.
# ---------------------------------------------------------------------------------------------

import os  # noqa: E402
import secrets  # noqa: E402

PG_URL = os.environ.get("REELRIGHTS_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, Any] = {}


def _pg_available() -> str | None:
    if "error" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"),
                                 connect_timeout=5):
                pass
            _pg_state["error"] = None
        except Exception as exc:  # noqa: BLE001
            _pg_state["error"] = f"{type(exc).__name__}: {exc}"
    return _pg_state["error"]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh, empty database URL: an SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    error = _pg_available()
    if error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must run in CI but is unreachable at {PG_URL}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {error}")
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def home(backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An initialised home whose database is `backend_url`."""
    from reelrights.home import Home

    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("REELRIGHTS_HOME", raising=False)
    h, _ = Home.init(tmp_path / "home", database_url=None if backend_url.startswith("sqlite")
                     else backend_url)
    if backend_url.startswith("sqlite"):
        h.database_url_setting = backend_url
        h.save()
    return h


@pytest.fixture
def ledger(home):
    from reelrights.ledger import Ledger

    lg = Ledger.open(home)
    yield lg
    lg.db.dispose()
