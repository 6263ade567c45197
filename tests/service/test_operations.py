"""Operating the service: /healthz, /readyz, /metrics (one process and several uvicorn workers
sharing PROMETHEUS_MULTIPROC_DIR), and the JSON access log."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from read_server import Served, ThreadedServer, served  # noqa: F401

from reelrights.api import ServiceConfig, create_app
from reelrights.api.access_log import ACCESS_LOGGER
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.log.database_log import DatabaseLog
from reelrights.log.serving import LogServer
from reelrights.registry.parties import register_party
from reelrights.store.db import Database


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [(s.labels, s.value) for fam in text_string_to_metric_families(text)
            for s in fam.samples if s.name == name]


def _requests(text: str, route: str, status: str = "200") -> float:
    return sum(v for labels, v in _samples(text, "reelrights_http_requests_total")
               if labels["route"] == route and labels["status"] == status)


def test_health_and_readiness(served: Served) -> None:
    r = httpx.get(served.url + "/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = httpx.get(served.url + "/readyz")
    with served.ledger.db.read() as conn:
        size = served.ledger.log.head(conn)[0]
    assert r.status_code == 200 and r.json() == {"status": "ready", "size": size,
                                                 "published": size}


@pytest.fixture
def small(tmp_path: Path):
    home, _ = Home.init(tmp_path / "home")
    ledger = Ledger.open(home)
    register_party(home, ledger, "studio", "Ready Pictures")
    app = create_app(ServiceConfig(home=home.path))
    with ThreadedServer(app) as url:
        yield home, ledger, url, app
    ledger.close()
    ledger.db.dispose()


def test_not_ready_when_the_database_is_behind_the_published_checkpoint(small) -> None:
    """An older database copy restored under a newer published log must not serve (it would sign
    a smaller tree): /readyz is 503 naming both sizes and the fix; with a different checkpoint
    at the same size (a fork), too."""
    home, ledger, url, _ = small
    cp_file = home.log_dir / "checkpoint"
    note = cp_file.read_bytes()
    origin, size, root, *rest = note.decode().split("\n")
    try:
        cp_file.write_text("\n".join([origin, str(int(size) + 5), root, *rest]))
        r = httpx.get(url + "/readyz")
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["type"].endswith("/not-ready") and r.headers["retry-after"]
        assert f"({size} entries) is behind the published checkpoint ({int(size) + 5} " \
               "entries)" in body["detail"] and "reelrights rebuild" in body["detail"]
        other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        cp_file.write_text("\n".join([origin, size, other, *rest]))
        body = httpx.get(url + "/readyz").json()
        assert body["status"] == 503 and "fork" in body["detail"]
        cp_file.write_text("garbage")
        assert "unreadable" in httpx.get(url + "/readyz").json()["detail"]
    finally:
        cp_file.write_bytes(note)
    assert httpx.get(url + "/readyz").status_code == 200
    assert httpx.get(url + "/healthz").status_code == 200  # alive all along


def test_not_ready_when_the_database_is_unreachable(tmp_path: Path) -> None:
    """Readiness reports a database that does not answer (nothing listens on port 1) in one
    line, instead of raising."""
    db = Database("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
                  migrate=False)
    try:
        report = LogServer(db, DatabaseLog("example.com/log", None)).readiness(tmp_path)
    finally:
        db.dispose()
    assert report["ready"] is False and report["size"] is None
    assert report["reason"].startswith("the database is unreachable: ")
    assert "\n" not in report["reason"]


def test_metrics_count_requests_and_read_the_gauges_at_scrape(served: Served) -> None:
    before = httpx.get(served.url + "/metrics").text
    for _ in range(7):
        assert httpx.get(served.url + "/v1/log").status_code == 200
    assert httpx.get(served.url + "/v1/parties/pty_aaaaaaaaaaaaaaaa").status_code == 404
    r = httpx.get(served.url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = r.text
    assert _requests(after, "/v1/log") - _requests(before, "/v1/log") == 7
    assert _requests(after, "/v1/parties/{id}", "404") - _requests(
        before, "/v1/parties/{id}", "404") == 1
    [(_, age)] = _samples(after, "reelrights_checkpoint_age_seconds")
    mtime = (served.home.log_dir / "checkpoint").stat().st_mtime
    assert 0 <= age <= time.time() - mtime + 1
    [(_, used)] = _samples(after, "reelrights_disk_used_ratio")
    assert 0 < used < 1
    # The route label is the template, never the id asked for: label values stay few.
    assert "pty_aaaaaaaaaaaaaaaa" not in after


def test_metrics_add_up_every_worker(tmp_path: Path) -> None:
    """Two uvicorn workers sharing PROMETHEUS_MULTIPROC_DIR: any worker's scrape counts the
    requests both answered, and the scrape-time gauges come out once, not once per process."""
    home, _ = Home.init(tmp_path / "home")
    ledger = Ledger.open(home)
    register_party(home, ledger, "studio", "Worker Pictures")
    ledger.close()
    ledger.db.dispose()
    (tmp_path / "served_app.py").write_text(
        "from pathlib import Path\nfrom reelrights.api import ServiceConfig, create_app\n"
        f"app = create_app(ServiceConfig(home=Path({str(home.path)!r})))\n")
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    with socket_port() as port:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "served_app:app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "2", "--log-level", "warning",
             "--no-access-log"], env=env, stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "stderr").open("wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        n = 60
        for _ in range(n):  # a new connection each: the two workers share the accepts
            assert httpx.get(url + "/healthz").status_code == 200
        for _ in range(6):  # whichever worker answers: every worker's requests (+1: the poll)
            text = httpx.get(url + "/metrics").text
            assert _requests(text, "/healthz") == n + 1
            assert len(_samples(text, "reelrights_checkpoint_age_seconds")) == 1
            assert all("pid" not in labels for labels, _ in
                       _samples(text, "reelrights_disk_used_ratio"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # The access log, straight to standard error by default: one JSON line per request.
    lines = [json.loads(line) for line in (tmp_path / "stderr").read_text().splitlines()
             if line.startswith("{")]
    assert sum(1 for x in lines if x["route"] == "/healthz" and x["status"] == 200) == n + 1
    assert sum(1 for x in lines if x["route"] == "/metrics") == 6


def socket_port():
    """A free port on 127.0.0.1 (closed before uvicorn binds it)."""
    import contextlib
    import socket

    @contextlib.contextmanager
    def _free():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        yield port

    return _free()


def _wait_ready(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("uvicorn did not answer")


def test_access_log_is_one_json_line_per_request_without_bodies_or_queries(
        served: Served) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    secret = "s3cr3t-body-and-query-value"
    try:
        httpx.get(served.url + "/v1/log")
        httpx.get(served.url + f"/v1/proofs/inclusion?index=0&token={secret}")
        httpx.post(served.url + "/v1/log", content=secret.encode())
        httpx.get(served.url + "/no/such/thing")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("GET", "/v1/log", 200), ("GET", "/v1/proofs/inclusion", 200),
        ("POST", "/v1/log", 405), ("GET", "/no/such/thing", 404)]
    for x in lines:
        assert set(x) == {"time", "method", "path", "route", "status", "duration_ms", "client"}
        assert x["client"] == "127.0.0.1" and x["duration_ms"] >= 0
        assert x["time"].endswith("Z")
    assert [x["route"] for x in lines] == ["/v1/log", "/v1/proofs/inclusion", "/v1/log",
                                           "unmatched"]
    assert secret not in stream.getvalue()


def test_reads_see_every_commit_at_once(small) -> None:
    """The server keeps its SQLite read connections between requests (one per thread), yet each
    read is a fresh snapshot: a batch committed by another process or ledger is visible to the
    next request, checkpoint, tiles and proofs alike."""
    home, ledger, url, _ = small
    with httpx.Client(base_url=url) as client:
        for _ in range(20):  # every thread of the pool has a kept connection by now
            before = client.get("/v1/log").json()
        for i in range(3):
            register_party(home, ledger, "studio", f"Later Pictures {i}")
            size = before["size"] + i + 1
            assert client.get("/v1/log").json()["size"] == size
            assert client.get("/checkpoint").text.split("\n")[1] == str(size)
            assert client.get(f"/tile/0/000.p/{size}").status_code == 200
            assert client.get(f"/v1/proofs/inclusion?index={size - 1}").json()["size"] == size


def test_reads_answer_503_while_the_database_is_gone_then_recover(small) -> None:
    """The database file replaced by a folder (it cannot be opened): reads are 503 problems
    with Retry-After, readiness says why, liveness stays up; put back, everything answers."""
    home, ledger, url, app = small
    assert httpx.get(url + "/v1/log").status_code == 200
    ledger.close()
    db = home.path / "reelrights.db"
    app.state.service.parts["reads"].server.db.close_kept()  # the last one checkpoints the WAL
    moved = [p for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))
             if p.exists()]
    try:
        for p in moved:
            p.rename(p.with_name(p.name + ".away"))
        db.mkdir()
        for path in ("/v1/log", "/checkpoint", "/v1/proofs/inclusion?index=0",
                     f"/v1/parties/{'pty_' + 'a' * 16}"):
            r = httpx.get(url + path)
            assert r.status_code == 503, (path, r.text)
            body = r.json()
            assert body["type"].endswith("/unavailable") and r.headers["retry-after"] == "2"
            assert body["detail"].startswith("the database is unavailable (")
        r = httpx.get(url + "/readyz")
        assert r.status_code == 503 and "database is unreachable" in r.json()["detail"]
        assert httpx.get(url + "/healthz").status_code == 200
    finally:
        if db.is_dir():
            db.rmdir()
        for p in moved:
            p.with_name(p.name + ".away").rename(p)
    assert httpx.get(url + "/v1/log").status_code == 200
    assert httpx.get(url + "/readyz").status_code == 200


def test_serve_with_workers_adds_up_their_metrics(tmp_path: Path) -> None:
    """`reelrights serve --workers 2` prepares <home>/run/metrics itself: whichever worker
    answers a scrape counts the requests of both, and the access log is JSON lines."""
    from service_kit import make_home, start_server

    home = make_home(tmp_path / "home")
    server = start_server(home, workers=2)
    try:
        n = 40
        for _ in range(n):
            assert httpx.get(server.url + "/v1/log").status_code == 200
        totals = {_requests(httpx.get(server.url + "/metrics").text, "/v1/log")
                  for _ in range(6)}
        assert totals == {n}
        assert sorted({f.name.split("_")[0] for f in (home.path / "run" / "metrics").iterdir()
                       }) == ["counter", "gauge", "histogram"]
    finally:
        assert server.stop() == 0
    logged = [json.loads(line) for line in server.output if line.startswith("{")]
    assert sum(1 for x in logged if x["route"] == "/v1/log" and x["status"] == 200) == n
