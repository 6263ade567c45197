"""The database goes away mid-service: 503 problem details with Retry-After, then recovery when
it returns, with no statement lost or logged twice.

PostgreSQL is reached through a TCP relay this test runs, so "stopping the database" is closing
the relay (the shared server keeps running for everyone else): a network cut, where the server's
connections die without a word from PostgreSQL. It runs in seconds on the shared server; a real
PostgreSQL stopped and started under load is test_service_postgres_outage.py."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from service_kit import (
    Server,
    make_home,
    need_postgres,
    new_party,
    pg_schema,
    verified_log,
    work_entry,
)


class Relay:
    """127.0.0.1:<port> -> the PostgreSQL server; ``down()`` cuts every connection and refuses
    new ones, ``up()`` serves again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener.listen(64)
        self.serving = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.serving:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        self.serving = False
        with self.lock:
            for s in self.conns:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.conns.clear()

    def up(self) -> None:
        self.serving = True

    def close(self) -> None:
        self.down()
        self.listener.close()


def test_database_down_answers_503_and_the_service_recovers(
        service: Callable[..., Server], tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    need_postgres()
    url = pg_schema()
    parts = urlsplit(url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    try:
        relayed = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{relay.port}"))
        srv = service(home=make_home(tmp_path / "home", relayed))
        studio = new_party(srv.registry)
        assert srv.post(studio.entry).status_code == 200
        pending = work_entry(srv.registry, studio, "While the database is down")
        relay.down()
        r = srv.post(pending)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["type"].endswith("/unavailable") and int(r.headers["retry-after"]) >= 1
        assert "the database is unreachable" in body["detail"]
        assert "submit the same bytes again" in body["detail"]
        relay.up()
        r = srv.post(pending)  # the client retries the same bytes: logged once
        assert r.status_code == 200, r.text
        again = srv.post(pending)
        assert again.headers.get("reelrights-duplicate") == "true"
        assert again.json()["receipts"][0]["index"] == r.json()["receipts"][0]["index"]
        assert srv.stop() == 0
    finally:
        relay.close()
    monkeypatch.setenv("REELRIGHTS_DATABASE_URL", url)  # the relay is gone: reach it directly
    rows = verified_log(srv.home)
    assert len(rows) == 3 and len({sid for _, sid in rows}) == 3
