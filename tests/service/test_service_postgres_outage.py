"""PostgreSQL stopped mid-load, then started again: 503 problem details while it is away, and the
same server process recovers with every statement logged exactly once.

A private cluster (the ``postgres_cluster`` fixture) is the service's database. 32 clients, each
signing as its own party, submit distinct pre-signed statements one by one to a real
``reelrights serve``; a quarter of the way in, the cluster is stopped (``pg_ctl stop -m fast``, a
clean shutdown that disconnects everyone; ``-m immediate``, a crash). Every answer must be a
receipt or a 503 ``unavailable`` problem with Retry-After; an answer to a request sent after the
stop and answered before the restart must be the 503. The clients retry the same bytes after
Retry-After (a statement whose commit landed although its answer was lost gets its original
receipt), the cluster comes back, the clients finish. Then: the server process never restarted,
every statement is in the log once, every receipt a client got names its log index and leaf
hash, the log and its static folder verify and the published checkpoint covers the whole log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pg_cluster import PgCluster
from service_kit import Party, Server, make_home, new_party, verified_log, work_entry

from reelrights.core.statements import read_entry

CLIENTS = 32
PER_CLIENT = 16
#: Per request; a request still unanswered after this counts as a hang.
REQUEST_TIMEOUT_S = 20.0
#: The whole load, outage included.
LOAD_DEADLINE_S = 300.0
#: Answers to requests made while the database is down, needed before it is started again
#: (every client has had one, and some have retried while it was still down).
OUTAGE_ANSWERS = 2 * CLIENTS


@dataclass
class Answer:
    client: int
    sent: float
    received: float
    status: int | None  # None: no HTTP answer (``error`` says why)
    error: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Load:
    """What the clients saw, shared with the test's thread."""

    answers: list[Answer] = field(default_factory=list)
    receipts: dict[str, dict[str, object]] = field(default_factory=dict)  # statement id ->
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped_at: float = float("inf")  # the database is down from here ...
    restart_at: float = float("inf")  # ... until at least here
    up_at: float = float("inf")  # it accepts connections again from here

    def outage_answers(self) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers
                    if a.sent > self.stopped_at and a.received < self.restart_at]


def _client(n: int, url: str, entries: list[bytes], load: Load, deadline: float) -> None:
    """Submit each entry until it has a receipt: the same bytes again after a 503 (waiting its
    Retry-After) or a transport error."""
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as http:
        for entry in entries:
            sid = read_entry(entry).id
            assert sid is not None
            while True:
                if time.monotonic() > deadline:
                    with load.lock:
                        load.failures.append(f"client {n}: no receipt for {sid} in time")
                    return
                sent = time.monotonic()
                try:
                    r = http.post(url + "/v1/statements", content=entry,
                                  headers={"content-type": "application/json"})
                except httpx.HTTPError as exc:
                    with load.lock:
                        load.answers.append(Answer(n, sent, time.monotonic(), None,
                                                   f"{type(exc).__name__}: {exc}"))
                    time.sleep(0.5)
                    continue
                answer = Answer(n, sent, time.monotonic(), r.status_code, body=r.content,
                                headers=dict(r.headers))
                with load.lock:
                    load.answers.append(answer)
                if r.status_code == 200:
                    receipt = r.json()["receipts"][0]
                    with load.lock:
                        load.receipts[sid] = receipt
                    break
                if r.status_code != 503:
                    with load.lock:
                        load.failures.append(f"client {n}: {r.status_code} {r.text[:500]}")
                    return
                time.sleep(min(float(r.headers.get("retry-after", "1")), 5.0))


def _check_503(a: Answer) -> None:
    import json

    assert a.headers.get("content-type", "").startswith("application/problem+json"), a
    body = json.loads(a.body)
    assert body["status"] == 503 and body["type"].endswith("/unavailable"), body
    assert body["title"] == "Service unavailable", body
    assert "the database is unreachable" in body["detail"], body
    assert "submit the same bytes again" in body["detail"], body
    assert "Traceback" not in body["detail"], body
    assert int(a.headers["retry-after"]) >= 1, a.headers


def _wait(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _readyz(srv: Server) -> httpx.Response | None:
    """GET /readyz, or None where this build has no such route."""
    r = httpx.get(srv.url + "/readyz", timeout=REQUEST_TIMEOUT_S)
    return None if r.status_code == 404 else r


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_stopped_mid_load_503_then_recovers_with_every_entry_once(
        postgres_cluster: PgCluster, service: Callable[..., Server], tmp_path: Path,
        mode: str) -> None:
    pg = postgres_cluster
    srv = service(home=make_home(tmp_path / "home", pg.url))
    pid = srv.proc.pid
    parties: list[Party] = [new_party(srv.registry) for _ in range(CLIENTS)]
    r = srv.post(b"\n".join(p.entry for p in parties), content_type="application/jsonl")
    assert r.status_code == 200, r.text
    first = r.json()["receipts"][0]["index"]  # entries the home logged before ours
    work = [[work_entry(srv.registry, p, f"Outage reel {c}.{i}") for i in range(PER_CLIENT)]
            for c, p in enumerate(parties)]
    total = CLIENTS * PER_CLIENT

    load = Load()
    deadline = time.monotonic() + LOAD_DEADLINE_S
    threads = [threading.Thread(target=_client, args=(c, srv.url, work[c], load, deadline),
                                daemon=True) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        _wait(lambda: len(load.receipts) >= total // 4, "a quarter of the receipts")
        pg.stop(mode)
        load.stopped_at = time.monotonic()
        assert not pg.running()
        ready = _readyz(srv)
        if ready is not None:  # the load balancer's view: not ready, and no 500
            assert ready.status_code == 503, ready.text
            assert ready.headers["content-type"].startswith("application/problem+json")
        _wait(lambda: len(load.outage_answers()) >= OUTAGE_ANSWERS, "answers during the outage")
        load.restart_at = time.monotonic()
        pg.start()
        load.up_at = time.monotonic()
    finally:
        for t in threads:
            t.join(LOAD_DEADLINE_S)
    assert not any(t.is_alive() for t in threads), "a client is stuck"

    # -- what the clients saw ----------------------------------------------------------------
    assert load.failures == []
    hangs = [a for a in load.answers if a.status is None]
    assert hangs == [], hangs[:5]  # the server never dropped nor held a connection
    statuses = {a.status for a in load.answers}
    assert statuses == {200, 503}, statuses  # never a 500, a 409, anything else
    for a in load.answers:
        if a.status == 503:
            _check_503(a)
    during = load.outage_answers()
    assert len(during) >= OUTAGE_ANSWERS and {a.status for a in during} == {503}
    assert len(load.receipts) == total
    after = [a for a in load.answers if a.sent > load.up_at]
    assert after and {a.status for a in after} == {200}, "the pool did not recover at once"
    replays = [a for a in load.answers if a.headers.get("reelrights-duplicate") == "true"]

    # -- the same server process, serving again ------------------------------------------------
    assert srv.proc.poll() is None and srv.proc.pid == pid
    assert sum(line.startswith("reelrights serving ") for line in srv.output) == 1
    assert not any("Traceback" in line for line in srv.output), "\n".join(srv.output[-60:])
    ready = _readyz(srv)
    if ready is not None:
        assert ready.status_code == 200, ready.text
        assert ready.json()["size"] == first + CLIENTS + total
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as http:  # each client's first, again
        for c in range(CLIENTS):
            r = http.post(srv.url + "/v1/statements", content=work[c][0],
                          headers={"content-type": "application/json"})
            assert r.status_code == 200 and r.headers["reelrights-duplicate"] == "true", r.text
            again = r.json()["receipts"][0]
            sid = again["statement"]
            assert {k: again[k] for k in ("index", "leaf_hash", "log_time")} == {
                k: load.receipts[sid][k] for k in ("index", "leaf_hash", "log_time")}
    late = new_party(srv.registry)
    r = srv.post(late.entry)
    assert r.status_code == 200, r.text
    assert r.json()["receipts"][0]["index"] == first + CLIENTS + total
    assert srv.stop() == 0

    # -- the log: every statement once, every receipt in it, verified ----------------------------
    rows = verified_log(srv.home)
    assert len(rows) == first + CLIENTS + total + 1
    at = {sid: idx for idx, sid in rows}
    assert len(at) == len(rows), "a statement is logged twice"
    assert set(load.receipts) <= set(at)
    from sqlalchemy import select

    from reelrights.store.db import Database
    from reelrights.store.tables import log_entries

    db = Database(pg.url, migrate=False)
    try:
        with db.read() as conn:
            leaf = {int(i): bytes(h).hex() for i, h in conn.execute(
                select(log_entries.c.idx, log_entries.c.leaf_hash))}
    finally:
        db.dispose()
    for sid, receipt in load.receipts.items():
        assert receipt["statement"] == sid
        assert receipt["index"] == at[sid], (sid, receipt)
        assert receipt["leaf_hash"] == leaf[at[sid]], (sid, receipt)
    published = (srv.home.log_dir / "checkpoint").read_text("utf-8").split("\n")
    assert int(published[1]) == len(rows), "the published checkpoint lags the log"
    slowest_503 = max(a.received - a.sent for a in load.answers if a.status == 503)
    print(f"mode={mode}: {len(load.answers)} answers, {len(during)} during the outage "
          f"({sum(a.status == 503 for a in load.answers)} 503s in all, the slowest in "
          f"{slowest_503 * 1000:.0f} ms), outage {load.up_at - load.stopped_at:.1f} s, "
          f"{len(replays)} original receipts for commits whose answer was lost, "
          f"{len({a.client for a in during})} clients answered during the outage")
