"""Helpers for the service's tests: real server processes, pre-signed statements, log checks.

:func:`start_server` runs ``reelrights serve --port 0`` in a subprocess on a home and returns a
:class:`Server` (its URL from the one line the command prints). The ``service`` fixture
(conftest.py) wraps it and stops every server after the test.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelrights.core.ids import new_id
from reelrights.core.statements import make_statement, sign_statement
from reelrights.home import Home
from reelrights.keys import PartyKey

PG_URL = os.environ.get("REELRIGHTS_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CLI = "import sys; from reelrights.cli import main; sys.argv[0] = 'reelrights'; main()"
START_TIMEOUT_S = 60


@dataclass
class Server:
    """A running ``reelrights serve`` process."""

    url: str
    home: Home
    proc: subprocess.Popen[bytes]
    output: list[str] = field(default_factory=list)

    @property
    def registry(self) -> str:
        return self.home.registry

    def post(self, body: bytes, content_type: str = "application/json",
             **kw: Any) -> httpx.Response:
        return httpx.post(self.url + "/v1/statements", content=body,
                          headers={"content-type": content_type, **kw.pop("headers", {})},
                          timeout=kw.pop("timeout", 60), **kw)

    def stop(self) -> int:
        """Ctrl-C (SIGINT), as an operator stops it; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9 of the whole server (every worker process too)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def make_home(path: Path, backend: str = "sqlite") -> Home:
    """An initialised home: SQLite in the home, or ``backend`` = "postgresql" (a fresh schema)
    or a database URL."""
    url: str | None = None
    if backend == "postgresql":
        url = pg_schema()
    elif backend != "sqlite":
        url = backend
    home, _ = Home.init(path, database_url=url)
    return home


_schemas: list[str] = []


def pg_schema() -> str:
    """A fresh PostgreSQL schema's URL (dropped by :func:`drop_schemas`)."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True,
                         connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    _schemas.append(schema)
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def drop_schemas() -> None:
    if not _schemas:
        return
    import psycopg

    with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        while _schemas:
            conn.execute(f'DROP SCHEMA "{_schemas.pop()}" CASCADE')


def start_server(home: Home, *, open_appends: bool = True, workers: int = 1,
                 config: dict[str, Any] | None = None, options: tuple[str, ...] = ()) -> Server:
    """``reelrights --home HOME serve --port 0 [OPTIONS]`` in its own process group; waits for
    its URL."""
    args = [sys.executable, "-c", CLI, "--home", str(home.path), "serve", "--port", "0",
            "--workers", str(workers), *options]
    if open_appends:
        args.append("--open")
    if config:
        args += ["--config-json", json.dumps(config)]
    env = dict(os.environ)
    env.pop("REELRIGHTS_DATABASE_URL", None)
    proc, line, output = spawn_until(args, "reelrights serving ", env=env)
    url = line.split(" at ", 1)[1].split(" ", 1)[0]
    return Server(url, home, proc, output)


def spawn_until(args: list[str], prefix: str, env: dict[str, str] | None = None
                ) -> tuple[subprocess.Popen[bytes], str, list[str]]:
    """Start ``args`` in its own process group and wait for its first output line starting with
    ``prefix``: the process, that line, and the output so far (kept growing by a thread)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    what = " ".join(a for a in args[3:5])  # the command after `python -c CLI`
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            proc.kill()
            raise RuntimeError(f"{what} printed no {prefix!r} line: " + "\n".join(output)
                               ) from None
        if line is None:
            raise RuntimeError(f"{what} ended: " + "\n".join(output))
        if line.startswith(prefix):
            return proc, line, output


# -- statements ----------------------------------------------------------------------------

@dataclass
class Party:
    id: str
    key: PartyKey
    entry: bytes  # its party.registered statement, signed by its own key

    @property
    def public(self) -> str:
        return "ed25519:" + base64.b64encode(self.key.public_key_bytes).decode()


def new_party(registry: str, kind: str = "studio") -> Party:
    key = PartyKey.generate()
    pid = new_id("party")
    body = {"id": pid, "kind": kind, "name": f"Party {pid[-6:]}",
            "public_key": base64.b64encode(key.public_key_bytes).decode()}
    return Party(pid, key, sign_statement(make_statement("party.registered", pid, body,
                                                         registry=registry), key))


def work_entry(registry: str, owner: Party, title: str = "Harbour Lights") -> bytes:
    body = {"id": new_id("work"), "kind": "film", "title": title, "owner": owner.id,
            "year": 2026,
            "assets": [{"sha256": secrets.token_hex(32), "size": 1_000_000,
                        "media_type": "video/mp4", "category": "video", "duration_ms": 60_000,
                        "name": "film.mp4"}]}
    return sign_statement(make_statement("work.registered", owner.id, body, registry=registry),
                          owner.key)


# -- checks ------------------------------------------------------------------------------------

def verified_log(home: Home) -> list[tuple[int, str | None]]:
    """Verify the home's log (every leaf, signature, tile and checkpoint, and the static folder)
    and return (index, statement id) of every entry, in index order."""
    from sqlalchemy import select

    from reelrights.catalogue import check_body
    from reelrights.core.note import NoteSigner
    from reelrights.ledger import Ledger
    from reelrights.log.tiled import DirTileSource, verify_tiled_log
    from reelrights.log.verify import verify_log
    from reelrights.store.tables import log_entries

    ledger = Ledger.open(home, establish=False)
    try:
        vkey = NoteSigner(home.origin, home.log_key().seed).vkey
        with ledger.db.read() as conn:
            report = verify_log(conn, ledger.log, vkey, signatures=True, check_body=check_body)
            rows = [(int(r.idx), r.statement_id) for r in conn.execute(
                select(log_entries.c.idx, log_entries.c.statement_id).order_by(log_entries.c.idx))]
        assert report.size == len(rows)
        verify_tiled_log(DirTileSource(home.log_dir), (home.log_dir / "checkpoint").read_bytes(),
                         vkey)
    finally:
        ledger.close()
        ledger.db.dispose()
    assert [i for i, _ in rows] == list(range(len(rows))), "the log has a gap or a duplicate"
    return rows


_pg: dict[str, str | None] = {}


def postgres_error() -> str | None:
    if "error" not in _pg:
        try:
            import psycopg

            with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"),
                                 connect_timeout=5):
                _pg["error"] = None
        except Exception as exc:  # noqa: BLE001
            _pg["error"] = f"{type(exc).__name__}: {exc}"
    return _pg["error"]


def need_postgres() -> None:
    error = postgres_error()
    if error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must run in CI but is unreachable at {PG_URL}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {error}")
