"""Several server processes on one database, and a kill -9 under load: one contiguous log,
every receipt a client got in it, exactly one entry per statement."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from service_kit import Party, Server, make_home, new_party, start_server, verified_log, work_entry


def _load(urls: list[str], entries: list[bytes], threads: int,
          stop: threading.Event | None = None,
          got: dict[bytes, dict] | None = None) -> tuple[dict[bytes, dict], list[str]]:
    """Submit every entry once from ``threads`` clients spread over ``urls``, retrying the same
    bytes on a connection error or a 503 until answered (or ``stop``). Returns the receipts
    got (entry -> receipt, filled in as they come) and any other answers."""
    got = {} if got is None else got
    odd: list[str] = []
    todo = list(entries)
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(timeout=30) as http:
            while True:
                with lock:
                    if not todo:
                        return
                    entry = todo.pop()
                while True:
                    url = random.choice(urls)
                    try:
                        r = http.post(url + "/v1/statements", content=entry,
                                      headers={"content-type": "application/json"})
                    except httpx.TransportError:
                        if stop is not None and stop.is_set():
                            return
                        time.sleep(0.05)
                        continue
                    if r.status_code in (429, 503):
                        time.sleep(0.05)
                        continue
                    with lock:
                        if r.status_code == 200:
                            got[entry] = r.json()["receipts"][0]
                        else:
                            odd.append(r.text)
                    break

    ts = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return got, odd


def _register(srv: Server, n: int) -> list[Party]:
    parties = [new_party(srv.registry) for _ in range(n)]
    r = srv.post(b"\n".join(p.entry for p in parties), "application/jsonl")
    assert r.status_code == 200, r.text
    return parties


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["workers", "processes"])
def test_several_processes_give_one_contiguous_log(service: Callable[..., Server],
                                                   service_backend: str, layout: str,
                                                   tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--workers 2, or two separate `serve` processes, on one database: every statement logged
    once, indices 0..n-1 each once, the log and the static folder verify."""
    if layout == "workers":
        srv = service(backend=service_backend, workers=2)
        urls = [srv.url]
    else:
        srv = service(backend=service_backend)
        second = service(home=srv.home)
        urls = [srv.url, second.url]
    parties = _register(srv, 8)
    entries = [work_entry(srv.registry, random.choice(parties), f"Film {i}") for i in range(240)]
    got, odd = _load(urls, entries, threads=16)
    assert odd == [] and len(got) == len(entries)
    indices = sorted(r["index"] for r in got.values())
    assert indices == list(range(1 + len(parties), 1 + len(parties) + len(entries)))
    # every worker process answered some (the log is shared, not one process's)
    for s in [srv] + ([second] if layout == "processes" else []):
        assert s.stop() == 0
    rows = verified_log(srv.home)
    assert len(rows) == 1 + len(parties) + len(entries)
    assert len({sid for _, sid in rows}) == len(rows)


@pytest.mark.slow
def test_kill_9_under_load_loses_no_receipt(service_backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """kill -9 of the server while 32 clients submit; a new server on the same home; clients
    retry the same bytes until answered. Every receipt given is in the log, each statement is
    logged exactly once, and the log (and its static folder) verifies."""
    if service_backend == "postgresql":
        from service_kit import need_postgres

        need_postgres()
    home = make_home(tmp_path / "home", service_backend)
    srv = start_server(home)
    try:
        parties = _register(srv, 8)
        entries = [work_entry(srv.registry, random.choice(parties), f"Film {i}")
                   for i in range(600)]
        box: dict[str, Server] = {"srv": srv}
        urls = [srv.url]
        result: dict[str, object] = {}
        got: dict[bytes, dict] = {}

        def run() -> None:
            result["got"], result["odd"] = _load(urls, entries, threads=32, got=got)

        t = threading.Thread(target=run)
        t.start()
        deadline = time.monotonic() + 120
        while len(got) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        srv.kill()  # mid-load: about a quarter answered
        answered_before_kill = len(got)
        assert 150 <= answered_before_kill < len(entries)
        # the same port cannot be reused reliably; the clients learn the new URL
        box["srv"] = start_server(home)
        urls[:] = [box["srv"].url]
        t.join(300)
        assert not t.is_alive()
        odd = result["odd"]
        assert odd == []
        assert len(got) == len(entries)  # type: ignore[arg-type]
        assert box["srv"].stop() == 0
    finally:
        srv.kill()
        box_srv = locals().get("box", {}).get("srv")
        if box_srv is not None:
            box_srv.kill()
    rows = verified_log(home)
    logged = {sid: i for i, sid in rows}
    assert len(rows) == 1 + len(parties) + len(entries)  # exactly one entry per statement
    import json

    for entry, receipt in got.items():
        sid = json.loads(entry)["statement"]["id"]
        assert logged[sid] == receipt["index"]
