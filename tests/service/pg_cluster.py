"""A private PostgreSQL 15 cluster for one test: a real server to stop and start.

:class:`PgCluster` runs Debian's binaries (``initdb``, ``pg_ctl``) from :data:`PG_BIN` in a
temporary directory, listening on a free port on 127.0.0.1 only (its Unix socket in the same
directory), trust authentication, ``fsync=on`` (a crash, ``pg_ctl stop -m immediate``, must
lose nothing committed). PostgreSQL refuses to run as root, so as root every command runs as
the ``postgres`` OS user (``runuser``), which owns the directory. The ``postgres_cluster``
fixture (conftest.py) makes one, starts it, and stops and removes it after the test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PG_BIN", "PgCluster", "missing"]

PG_BIN = Path(os.environ.get("REELRIGHTS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: Bound on every pg_ctl call (a start after a crash replays the WAL first).
PG_CTL_TIMEOUT_S = 90
_OS_USER = "postgres"


def missing() -> str | None:
    """Why a private cluster cannot run here, or None."""
    absent = [n for n in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / n).is_file()]
    if absent:
        return (f"PostgreSQL binaries {', '.join(absent)} not found in {PG_BIN} (apt-get install "
                "postgresql-15, or set REELRIGHTS_TEST_PG_BIN)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and runuser is missing: PostgreSQL refuses to run as root"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One initialised cluster in its own directory (module doc)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="reelrights-pg-"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "postgres.log"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.dir, _OS_USER, _OS_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections (after crash recovery).
        A port taken meanwhile by someone else is replaced by another free one."""
        for attempt in range(3):
            options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                       "-c fsync=on -c synchronous_commit=on -c full_page_writes=on")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w",
                          "-t", str(PG_CTL_TIMEOUT_S), "-o", options, "start")
                return
            except RuntimeError:
                if attempt == 2 or "could not bind" not in self.log():
                    raise
                self.port = _free_port()

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m MODE``: "fast" (clients disconnected, a clean shutdown) or
        "immediate" (every server process quits at once: a crash, recovered at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w",
                  "-t", str(PG_CTL_TIMEOUT_S), "stop")

    def running(self) -> bool:
        return subprocess.run(self._argv("pg_ctl", "-D", str(self.data), "status"),
                              capture_output=True, timeout=PG_CTL_TIMEOUT_S).returncode == 0

    def log(self) -> str:
        try:
            return self.logfile.read_text("utf-8", "replace")
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop the server if it runs (immediately: its data is thrown away) and remove it."""
        try:
            if self.data.exists() and self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _argv(self, tool: str, *args: str) -> list[str]:
        argv = [str(PG_BIN / tool), *args]
        return ["runuser", "-u", _OS_USER, "--", *argv] if self._as_root else argv

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(self._argv(tool, *args), capture_output=True, text=True,
                              cwd=self.dir, timeout=PG_CTL_TIMEOUT_S + 30,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}): "
                               f"{done.stdout}{done.stderr}\n{self.log()[-4000:]}")
