"""The operator's switches against real `reelrights serve` processes: a frozen registry answers
503 problem details with the reason and logs nothing until unfrozen; a server on a database
restored from an older copy refuses to start in one line, exit 1, and a rebuild starts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from service_kit import CLI, Server, make_home, new_party, verified_log

from reelrights.cli import cli
from reelrights.home import Home
from reelrights.replica import log_verifier_key


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args))


def test_a_frozen_registry_answers_503_and_logs_nothing(service: Callable[..., Server]) -> None:
    srv = service()
    first = new_party(srv.registry)
    assert srv.post(first.entry).status_code == 200
    assert run("--home", str(srv.home.path), "service", "freeze", "--reason",
               "incident 42: log key exposure").exit_code == 0
    second = new_party(srv.registry)
    r = srv.post(second.entry)
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) >= 1
    problem = r.json()
    assert problem["type"].endswith("/unavailable") and "incident 42" in problem["detail"]
    assert "service unfreeze" in problem["detail"]
    logged = [sid for _, sid in verified_log(srv.home)]
    assert len(logged) == 2                        # the establishment and the first party
    # Reads go on (the home's own, while the server runs).
    assert first.id in run("--home", str(srv.home.path), "party", "list", "--json").stdout
    assert run("--home", str(srv.home.path), "service", "unfreeze").exit_code == 0
    assert srv.post(second.entry).status_code == 200
    assert len(verified_log(srv.home)) == 3


def test_serve_on_an_older_database_copy_refuses_to_start(service: Callable[..., Server],
                                                          tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    srv = service(home=home)
    assert srv.post(new_party(home.registry).entry).status_code == 200
    assert srv.stop() == 0
    shutil.copytree(home.path, tmp_path / "old-copy")          # the operator's old file copy
    srv = service(home=home)
    for _ in range(3):
        assert srv.post(new_party(home.registry).entry).status_code == 200
    assert srv.stop() == 0
    for suffix in ("", "-wal", "-shm"):
        (home.path / f"reelrights.db{suffix}").unlink(missing_ok=True)
        old = tmp_path / "old-copy" / f"reelrights.db{suffix}"
        if old.exists():
            shutil.copy2(old, home.path / f"reelrights.db{suffix}")

    done = subprocess.run([sys.executable, "-c", CLI, "--home", str(home.path), "serve",
                           "--port", "0", "--open"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, (done.stdout, done.stderr)
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "size 2" in errors[0] and "size 5" in errors[0] and "rebuild" in errors[0]
    assert "reelrights serving" not in done.stdout

    new = tmp_path / "rebuilt"
    result = run("--home", str(new), "rebuild", "--tiles", str(home.log_dir), "--key",
                 log_verifier_key(home), "--log-key", str(home.log_key_path))
    assert result.exit_code == 0, result.stderr
    srv = service(home=Home.open(new))
    assert srv.post(new_party(srv.registry).entry).status_code == 200
    assert len(verified_log(srv.home)) == 6
