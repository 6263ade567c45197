"""The service and its client under attack, as a studio's security reviewer would try it.

Server side: real ``reelrights serve`` processes on 127.0.0.1 port 0 (one per concern, shared by
the module's tests), real Ed25519 signatures, raw sockets where httpx would not misbehave. Every
refusal is asserted as problem details (status, slug) and as nothing written: the log's size and
every table of the database unchanged (:func:`snapshot`).

The client's side (a malicious or broken server) is test_attacks_client.py.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_kit import Party, Server, make_home, new_party, start_server, work_entry

from reelrights.core.canonical import canonical_bytes
from reelrights.core.statements import make_statement, sign_statement
from reelrights.keys import PartyKey

PROBLEM = "application/problem+json"
#: Words that must never appear in an answer: a traceback, a server path, SQL.
LEAKS = ("Traceback", "File \"", "/work/", "/tmp/", "site-packages", "SELECT ", "INSERT ",
         "sqlalchemy", "sqlite3.", "psycopg")


# -- helpers --------------------------------------------------------------------------------

def problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    assert body["type"] == f"https://reelrights.dev/problems/{slug}", body
    assert body["status"] == status
    no_leak(r.text)
    return body


def no_leak(text: str, *secrets_: bytes) -> None:
    for word in LEAKS:
        assert word not in text, (word, text[:500])
    for s in secrets_:
        assert s.decode("utf-8", "replace") not in text


def snapshot(srv: Server) -> tuple[int, str]:
    """The log's size (as served) and a digest of every table of the server's database."""
    size = httpx.get(srv.url + "/v1/log", timeout=30).json()["size"]
    path = srv.home.path / "reelrights.db"
    digest = hashlib.sha256()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for t in tables:
            rows = sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{t}"'))  # noqa: S608
            digest.update(f"{t}:{len(rows)}:".encode())
            for r in rows:
                digest.update(r.encode())
    return size, digest.hexdigest()


def raw(srv: Server, data: bytes, *, timeout: float = 30) -> bytes:
    """Send ``data`` on one connection; the server's answer (or what came before it closed)."""
    host, port = srv.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        return read_answer(s)


def read_answer(s: socket.socket) -> bytes:
    """One HTTP answer (head and Content-Length body) from ``s``, or what came before it closed."""
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    except (TimeoutError, ConnectionResetError, BrokenPipeError):
        pass
    return out


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def body_of(answer: bytes) -> dict[str, Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"application/problem+json" in head.lower(), head
    (length,) = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")]
    return dict(json.loads(body[:length]))


def post_head(srv: Server, length: int | None, media: str = "application/json",
              extra: str = "") -> bytes:
    host = srv.url.removeprefix("http://")
    lines = ["POST /v1/statements HTTP/1.1", f"Host: {host}", f"Content-Type: {media}"]
    lines.append(f"Content-Length: {length}" if length is not None
                 else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + extra + "\r\n\r\n").encode()


def allow(srv_home: Any, *keys: bytes) -> None:
    from reelrights.service.allowlist import allow as allow_key
    from reelrights.store.db import Database

    db = Database(srv_home.database_url)
    try:
        for k in keys:
            allow_key(db, k, "test")
    finally:
        db.dispose()


def registration(registry: str, signer: PartyKey, body_key: PartyKey,
                 kind: str = "studio") -> tuple[str, bytes]:
    from reelrights.core.ids import new_id

    pid = new_id("party")
    body = {"id": pid, "kind": kind, "name": f"Party {pid[-6:]}",
            "public_key": base64.b64encode(body_key.public_key_bytes).decode()}
    return pid, sign_statement(make_statement("party.registered", pid, body, registry=registry),
                               signer)


def with_keyid(entry: bytes, keyid: str) -> bytes:
    doc = json.loads(entry)
    doc["signature"]["keyid"] = keyid
    return canonical_bytes(doc)


# -- servers (one per concern, shared by the module) -----------------------------------------

@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import os

    saved = {k: os.environ.pop(k, None) for k in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME")}
    tmp = tmp_path_factory.mktemp("attacks")
    started: list[Server] = []
    try:
        closed_home = make_home(tmp / "closed")
        insider = new_party(closed_home.registry)
        allow(closed_home, insider.key.public_key_bytes)
        closed = start_server(closed_home, open_appends=False,  # --allowlist-only
                              config={"body_timeout_s": 1.5, "admission": False})
        started.append(closed)
        assert closed.post(insider.entry).status_code == 200
        open_srv = start_server(make_home(tmp / "open"), config={
            "body_timeout_s": 1.5, "header_timeout_s": 1.5, "coalesce_wait_s": 0.3, "max_single_bytes": 4096,
            "max_batch_bytes": 64 * 1024, "key_rate": 1000, "key_burst": 1000,
            "address_rate": 1000, "address_burst": 1000})
        started.append(open_srv)
        studio = new_party(open_srv.registry)
        assert open_srv.post(studio.entry).status_code == 200
        yield {"closed": closed, "insider": insider, "open": open_srv, "studio": studio}
    finally:
        for s in started:
            s.stop()
        for k, v in saved.items():
            if v is not None:
                os.environ[k] = v


@pytest.fixture
def closed(servers: dict[str, Any]) -> Server:
    return servers["closed"]


@pytest.fixture
def open_srv(servers: dict[str, Any]) -> Server:
    return servers["open"]


@pytest.fixture
def studio(servers: dict[str, Any]) -> Party:
    return servers["studio"]


# -- the allowlist ------------------------------------------------------------------------------

def test_a_registration_of_an_allowed_key_signed_by_another_key_is_refused(
        servers: dict[str, Any]) -> None:
    srv, insider = servers["closed"], servers["insider"]
    before = snapshot(srv)
    mallory = PartyKey.generate()
    # the body names an allowed key, the signature is mallory's (and says so)
    _, entry = registration(srv.registry, mallory, insider.key)
    problem(srv.post(entry), 403, "key-not-allowed")
    # ... and the keyid is spoofed to the allowed key's: passes the list, fails the signature
    spoofed = with_keyid(entry, json.loads(insider.entry)["signature"]["keyid"])
    body = problem(srv.post(spoofed), 422, "verification-failed")
    assert body["exit_code"] == 1
    assert snapshot(srv) == before


def test_a_statement_naming_an_allowed_keyid_but_signed_by_another_key_is_refused(
        servers: dict[str, Any]) -> None:
    srv, insider = servers["closed"], servers["insider"]
    before = snapshot(srv)
    mallory = PartyKey.generate()
    forged = sign_statement(json.loads(work_entry(srv.registry, insider))["statement"], mallory)
    insider_kid = json.loads(insider.entry)["signature"]["keyid"]
    problem(srv.post(forged), 403, "key-not-allowed")
    problem(srv.post(with_keyid(forged, insider_kid)), 422, "verification-failed")
    # a new party registering itself with mallory's key but claiming the insider's keyid
    _, own = registration(srv.registry, mallory, mallory)
    problem(srv.post(with_keyid(own, insider_kid)), 422, "verification-failed")
    # the operator's key id spoofed: allowed by the list, refused by the signature check
    from reelrights.core.statements import key_id_for
    from reelrights.ledger import Ledger

    ledger = Ledger.open(srv.home, establish=False)
    try:
        operator_key = ledger.keys.registered["operator"]
    finally:
        ledger.close()
        ledger.db.dispose()
    op_kid = key_id_for(operator_key)
    for entry in (with_keyid(forged, op_kid), with_keyid(own, op_kid)):
        body = problem(srv.post(entry), 422, "verification-failed")
        assert "does not verify" in body["detail"] or "key" in body["detail"], body
    batch = b"\n".join([work_entry(srv.registry, insider), with_keyid(forged, op_kid)])
    body = problem(srv.post(batch, "application/jsonl"), 422, "verification-failed")
    assert body["position"] == 1
    assert snapshot(srv) == before


def test_a_statement_signed_for_another_registry_is_refused(servers: dict[str, Any]) -> None:
    srv, other, insider = servers["open"], servers["closed"], servers["insider"]
    before = snapshot(srv)
    # the insider's genuine statements, replayed from the other registry
    body = problem(srv.post(insider.entry), 422, "invalid-statement")
    assert other.registry in body["detail"] or "registry" in body["detail"], body
    mine = servers["studio"]
    foreign = work_entry(other.registry, mine)  # right key, wrong registry
    problem(srv.post(foreign), 422, "invalid-statement")
    problem(srv.post(b"\n".join([work_entry(srv.registry, mine), foreign]),
                     "application/jsonl"), 422, "invalid-statement")
    assert snapshot(srv) == before


# -- the same statement, the same batch ----------------------------------------------------------

def test_one_statement_id_with_two_bodies_in_one_coalesced_window(open_srv: Server,
                                                                 studio: Party) -> None:
    size, _ = snapshot(open_srv)
    doc = json.loads(work_entry(open_srv.registry, studio, "Original"))
    stmt = doc["statement"]
    first = sign_statement(stmt, studio.key)
    stmt["body"]["title"] = "Twin"
    second = sign_statement(stmt, studio.key)
    assert first != second and json.loads(first)["statement"]["id"] == \
        json.loads(second)["statement"]["id"]
    answers: dict[int, httpx.Response] = {}
    go = threading.Barrier(2)

    def send(i: int, entry: bytes) -> None:
        go.wait()
        answers[i] = open_srv.post(entry)

    threads = [threading.Thread(target=send, args=(i, e)) for i, e in enumerate([first,
                                                                                   second])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in answers.values())
    assert codes == [200, 409], [r.text for r in answers.values()]
    loser = next(r for r in answers.values() if r.status_code == 409)
    problem(loser, 409, "conflict")
    winner = next(r for r in answers.values() if r.status_code == 200)
    (receipt,) = winner.json()["receipts"]
    logged = httpx.get(f"{open_srv.url}/v1/entries/{receipt['index']}").json()["entry"]
    from reelrights.core.statements import open_leaf

    envelope, _ = open_leaf(logged.encode())
    assert envelope in (first, second)
    assert snapshot(open_srv)[0] == size + 1


def test_a_batch_holding_one_entry_twice_is_refused_whole(open_srv: Server,
                                                          studio: Party) -> None:
    before = snapshot(open_srv)
    entry = work_entry(open_srv.registry, studio)
    other = work_entry(open_srv.registry, studio)
    body = problem(open_srv.post(b"\n".join([other, entry, entry]), "application/jsonl"), 409,
                   "conflict")
    assert body["position"] == 2 and "twice" in body["detail"]
    assert snapshot(open_srv) == before


@pytest.mark.parametrize("shape", ["crlf", "trailing-space", "bom", "empty-line",
                                   "leading-newline", "bom-single", "space-single",
                                   "duplicate-key"])
def test_jsonl_spelling_tricks_are_refused(open_srv: Server, studio: Party, shape: str) -> None:
    before = snapshot(open_srv)
    a, b = work_entry(open_srv.registry, studio), work_entry(open_srv.registry, studio)
    bodies = {"crlf": (a + b"\r\n" + b + b"\r\n", "application/jsonl"),
              "trailing-space": (a + b" \n" + b + b"\n", "application/jsonl"),
              "bom": (b"\xef\xbb\xbf" + a + b"\n" + b + b"\n", "application/jsonl"),
              "empty-line": (a + b"\n\n" + b + b"\n", "application/jsonl"),
              "leading-newline": (b"\n" + a + b"\n" + b, "application/jsonl"),
              "bom-single": (b"\xef\xbb\xbf" + a, "application/json"),
              "space-single": (a + b"\n", "application/json"),
              "duplicate-key": (a.replace(b'"statement":{', b'"statement":{"actor":"x",', 1),
                                "application/json")}
    data, media = bodies[shape]
    body = problem(open_srv.post(data, media), 422, "invalid-statement")
    assert len(body["detail"].splitlines()) == 1
    assert snapshot(open_srv) == before


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/json-seq",
                                   "", "application/jsonx"])
def test_a_json_body_under_another_content_type_is_refused(open_srv: Server, studio: Party,
                                                           media: str) -> None:
    before = snapshot(open_srv)
    entry = work_entry(open_srv.registry, studio)
    headers = {"content-type": media} if media else {}
    r = httpx.post(open_srv.url + "/v1/statements", content=entry, headers=headers)
    if not media:
        r = httpx.post(open_srv.url + "/v1/statements", content=entry,
                       headers={"content-type": ""})
    problem(r, 415, "unsupported-media-type")
    assert snapshot(open_srv) == before


# -- bodies that lie about their length, or never finish -----------------------------------------

def test_content_length_smaller_than_the_body(open_srv: Server, studio: Party) -> None:
    before = snapshot(open_srv)
    entry = work_entry(open_srv.registry, studio)
    answer = raw(open_srv, post_head(open_srv, len(entry) - 10) + entry, timeout=10)
    # the statement cut short (422), or the rest read as a second request that is no HTTP
    # (400, then the connection closed): problem details either way, and nothing written
    assert status_of(answer) in (400, 422), answer[:300]
    assert body_of(answer)["type"].endswith(("/bad-request", "/invalid-statement"))
    no_leak(answer.decode("utf-8", "replace"))
    answer = raw(open_srv, b"NOT HTTP AT ALL\r\n\r\n", timeout=10)
    assert status_of(answer) == 400 and body_of(answer)["type"].endswith("/bad-request")
    assert snapshot(open_srv) == before


def test_content_length_larger_than_the_body_times_out(open_srv: Server, studio: Party) -> None:
    before = snapshot(open_srv)
    entry = work_entry(open_srv.registry, studio)
    answer = raw(open_srv, post_head(open_srv, len(entry) + 100) + entry, timeout=20)
    assert status_of(answer) == 408, answer[:300]
    assert body_of(answer)["type"].endswith("/timeout")
    # a Content-Length above the cap is refused before any body is read
    answer = raw(open_srv, post_head(open_srv, 10 ** 12), timeout=20)
    assert status_of(answer) == 413
    answer = raw(open_srv, post_head(open_srv, None).replace(
        b"Transfer-Encoding: chunked", b"Content-Length: -5"), timeout=20)
    assert status_of(answer) == 400
    assert snapshot(open_srv) == before


def test_a_chunked_body_over_the_cap_is_refused(open_srv: Server) -> None:
    before = snapshot(open_srv)
    chunk = b"1000\r\n" + b"x" * 4096 + b"\r\n"
    answer = raw(open_srv, post_head(open_srv, None) + chunk * 3 + b"0\r\n\r\n", timeout=20)
    assert status_of(answer) == 413, answer[:300]
    answer = raw(open_srv, post_head(open_srv, None, "application/jsonl") + chunk * 20
                 + b"0\r\n\r\n", timeout=20)
    assert status_of(answer) == 413, answer[:300]
    assert snapshot(open_srv) == before


def test_a_slow_body_times_out_and_does_not_hold_the_ledger(open_srv: Server,
                                                            studio: Party) -> None:
    before_size, _ = snapshot(open_srv)
    entry = work_entry(open_srv.registry, studio)
    result: dict[str, bytes] = {}

    def trickle() -> None:
        host, port = open_srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as s:
            s.sendall(post_head(open_srv, len(entry)))
            import select

            try:
                for byte in entry:  # one byte every 0.1 s: 30 s for the whole statement
                    s.sendall(bytes([byte]))
                    if select.select([s], [], [], 0.1)[0]:
                        break  # the server answered
            except (BrokenPipeError, ConnectionResetError):
                pass
            result["answer"] = read_answer(s)

    t = threading.Thread(target=trickle)
    t.start()
    # meanwhile, others write: the slow sender holds no lock of the ledger
    good = open_srv.post(work_entry(open_srv.registry, studio))
    assert good.status_code == 200, good.text
    t.join(60)
    assert not t.is_alive()
    assert status_of(result["answer"]) == 408, result["answer"][:300]
    assert snapshot(open_srv)[0] == before_size + 1


def test_a_connection_that_never_finishes_its_headers_is_closed(open_srv: Server) -> None:
    host, port = open_srv.url.removeprefix("http://").split(":")
    idle = socket.create_connection((host, int(port)), timeout=20)
    partial = socket.create_connection((host, int(port)), timeout=20)
    partial.sendall(b"GET /v1/log HTTP/1.1\r\nHost: x\r\n")
    import select

    trickled = socket.create_connection((host, int(port)), timeout=20)
    trickled.sendall(b"GET /v1/log HTTP/1.1\r\n")
    for _ in range(200):  # a header byte every 0.05 s: never complete
        if select.select([trickled], [], [], 0.05)[0]:
            break
        trickled.sendall(b"X")
    with idle, partial, trickled:
        for s in (idle, partial, trickled):
            with contextlib.suppress(ConnectionResetError):
                assert s.recv(100) == b""  # closed by the server, nothing answered
    # an ordinary keep-alive client is served as before
    with httpx.Client(base_url=open_srv.url) as client:
        assert client.get("/v1/log").status_code == 200
        assert client.get("/checkpoint").status_code == 200


def test_enormous_headers_are_refused_before_they_are_buffered(open_srv: Server) -> None:
    host, port = open_srv.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall(b"GET /v1/log HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < 8 * 2 ** 20:  # 8 MiB of one header, if the server keeps reading
                s.sendall(b"a" * 65536)
                sent += 65536
        answer = read_answer(s)
    assert status_of(answer) == 431, answer[:300]
    assert body_of(answer)["type"].endswith("/too-large")
    # ordinary headers (8 KiB of them) are read as before
    r = httpx.get(open_srv.url + "/v1/log", headers={"X-Fine": "b" * 8000})
    assert r.status_code == 200


# -- floods and spoofed addresses -------------------------------------------------------------

def test_a_flood_from_one_address_is_limited_and_x_forwarded_for_does_not_escape_it(
        service: Callable[..., Server]) -> None:
    srv = service(config={"address_rate": 0.2, "address_burst": 3, "key_rate": 1000,
                          "key_burst": 1000})
    before = snapshot(srv)
    answers = [srv.post(b'{"not":"a statement"}') for _ in range(3)]
    assert [r.status_code for r in answers] == [422] * 3  # each took a token
    flood = [srv.post(new_party(srv.registry).entry) for _ in range(20)]
    for r in flood:
        body = problem(r, 429, "rate-limited")
        assert int(r.headers["retry-after"]) >= 1 and "127.0.0.1" in body["detail"]
    # a spoofed client address (no trusted proxy configured) is not a new bucket
    for i, header in enumerate(["X-Forwarded-For", "X-Real-IP", "Forwarded"]):
        value = f"for=10.0.0.{i}" if header == "Forwarded" else f"10.0.0.{i}"
        r = srv.post(new_party(srv.registry).entry, headers={header: value})
        body = problem(r, 429, "rate-limited")
        assert "127.0.0.1" in body["detail"] and "10.0.0." not in body["detail"]
    assert snapshot(srv) == before


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    srv = start_server(make_home(tmp_path / "proxied"), options=("--trusted-proxy", "127.0.0.1"),
                       config={"address_rate": 0.2, "address_burst": 1})
    try:
        first = srv.post(new_party(srv.registry).entry, headers={"X-Forwarded-For": "10.0.0.1"})
        assert first.status_code == 200, first.text
        body = problem(srv.post(new_party(srv.registry).entry,
                                headers={"X-Forwarded-For": "10.0.0.1"}), 429, "rate-limited")
        assert "10.0.0.1" in body["detail"]  # the proxy's client, not the proxy, is counted
        other = srv.post(new_party(srv.registry).entry, headers={"X-Forwarded-For": "10.0.0.2"})
        assert other.status_code == 200, other.text
    finally:
        srv.stop()


# -- reads: tile paths, ids, proof parameters ---------------------------------------------------

def get_raw(srv: Server, target: str) -> bytes:
    """GET ``target`` exactly as written (httpx would normalise dot segments and encodings)."""
    host = srv.url.removeprefix("http://")
    return raw(srv, f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode("latin-1"),
               timeout=20)


TILE_PATHS = [
    "/tile/%2e%2e/%2e%2e/reelrights.db", "/tile/../../reelrights.db", "/tile/0/../../home.json",
    "/tile/entries/%2e%2e%2f%2e%2e%2freelrights.db", "/tile/0/%2e%2e/%2e%2e/keys",
    "/tile//0/000", "/tile/0//000", "/tile/0/000/", "/tile/0/000%00", "/tile/0/000%2f",
    "/tile/0\\..\\..\\reelrights.db", "/tile/0/..%5c..%5creelrights.db", "/tile/%30/000",
    "/tile/0/" + "9" * 400, "/tile/0/x" + "999/x" * 60 + "000", "/tile/entries/" + "1" * 30,
    "/tile/-1/000", "/tile/0/-001", "/tile/64/000", "/tile/99999999999999999999/000",
    "/tile/0/000.p/0", "/tile/0/000.p/256", "/tile/0/000.p/257", "/tile/0/000.p/-1",
    "/tile/0/000.p/" + "9" * 40, "/tile/entries/000.p/0", "/tile/entries/000.p/256",
    "/tile/entries/000.p/999", "/tile/0/000.p/02", "/tile/0/000.p/+2", "/tile/0/000.p/2.0",
    "/tile/0/000.p", "/tile/0/000.p/", "/tile/0/001.p/1",
    "/tile/entries/x001/000", "/tile/0/0", "/tile/0/0000", "/tile/0/abc",
    "/tile/0/000?../../reelrights.db",
]


@pytest.mark.parametrize("target", TILE_PATHS)
def test_odd_tile_paths_are_not_found_and_never_reach_a_file(open_srv: Server,
                                                            target: str) -> None:
    answer = get_raw(open_srv, target)
    status = status_of(answer)
    assert status in (400, 404), answer[:400]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"SQLite format" not in body and b"PRIVATE KEY" not in body
    no_leak(body.decode("utf-8", "replace"))
    assert b"application/problem+json" in head, answer[:400]
    assert json.loads(body)["status"] == status


def test_canonical_tiles_are_served(open_srv: Server) -> None:
    size, _ = snapshot(open_srv)
    assert size >= 2
    r = httpx.get(f"{open_srv.url}/tile/0/000.p/{size}")
    assert r.status_code == 200 and len(r.content) == 32 * size
    r = httpx.get(f"{open_srv.url}/tile/entries/000.p/{size}")
    assert r.status_code == 200
    # a percent-encoded digit is the same URL (RFC 3986 2.3), so the same tile
    two = get_raw(open_srv, "/tile/0/000.p/%32")
    assert status_of(two) == 200 and two.endswith(httpx.get(f"{open_srv.url}/tile/0/000.p/2").content)


ODD_IDS = ["' OR '1'='1", "pty_aaaaaaaaaaaaaaaa' OR 1=1 --", "pty_aaaaaaaaaaaaaaaa;DROP TABLE parties",
           "..%2f..%2freelrights.db", "%2e%2e", "../../etc/passwd", "pty_AAAAAAAAAAAAAAAA",
           "pty_aaaaaaaaaaaaaaaa%00", "pty_" + "a" * 500, "%F0%9F%98%80", "*", "%25",
           "pty_aaaaaaaaaaaaaaaa\\..\\x", "Party 1", "null", "1e9"]


@pytest.mark.parametrize("collection", ["parties", "works", "bundles", "licenses", "runs",
                                        "certificates", "outputs", "consents", "productions",
                                        "disputes", "revenue-reports", "royalty-statements",
                                        "statements", "entries"])
def test_lookups_with_sql_ish_or_path_ish_ids_are_not_found(open_srv: Server,
                                                            collection: str) -> None:
    from urllib.parse import quote

    for ref in ODD_IDS:
        answer = get_raw(open_srv, f"/v1/{collection}/{quote(ref, safe='%*')}")
        status = status_of(answer)
        assert status == 404, (ref, answer[:400])
        _, _, body = answer.partition(b"\r\n\r\n")
        no_leak(body.decode("utf-8", "replace"))
    r = httpx.get(f"{open_srv.url}/v1/{collection}/pty_aaaaaaaaaaaaaaaa")
    assert r.status_code == 404
    for index in ["-1", "99999999999999999999", "1e3", "0x1", " 1", "1.0"]:
        r = httpx.get(f"{open_srv.url}/v1/entries/{index}")
        problem(r, 404, "not-found")


@pytest.mark.parametrize("query", [
    "index=-1", "index=abc", "index=1e3", "index=99999999999999999999", "index=0&size=0",
    "index=0&size=-5", "index=0&size=99999999999999999999", "index=0&size=9223372036854775807",
    "index=9223372036854775807", "index=5&size=2", "index=0x1", "index=%201", "index=1.5",
    "index=0&index=1&size=abc", "", "index=", "index=%00"])
def test_inclusion_proofs_with_bad_parameters_are_refused(open_srv: Server, query: str) -> None:
    r = httpx.get(f"{open_srv.url}/v1/proofs/inclusion?{query}")
    assert r.status_code in (400, 404), (query, r.status_code, r.text)
    problem(r, r.status_code, "bad-request" if r.status_code == 400 else "not-found")


@pytest.mark.parametrize("query", [
    "old=0", "old=-1", "old=abc", "old=99999999999999999999", "old=1&new=0", "old=3&new=2",
    "old=1&new=9223372036854775807", "old=9223372036854775807", "old=1.0", "", "new=2"])
def test_consistency_proofs_with_bad_parameters_are_refused(open_srv: Server, query: str) -> None:
    r = httpx.get(f"{open_srv.url}/v1/proofs/consistency?{query}")
    assert r.status_code in (400, 404), (query, r.status_code, r.text)
    problem(r, r.status_code, "bad-request" if r.status_code == 400 else "not-found")
    r = httpx.get(f"{open_srv.url}/v1/checkpoints?after=-1&limit=99999999999999999999")
    problem(r, 400, "bad-request")


# -- what answers and metrics may say ---------------------------------------------------------

def test_errors_and_metrics_never_echo_secrets_or_bodies(open_srv: Server, studio: Party) -> None:
    before = snapshot(open_srv)
    marker = "SECRET-MARKER-7f3c9a"
    pem = studio.key.private_pem() if hasattr(studio.key, "private_pem") else b""
    seed = getattr(studio.key, "seed", b"")
    bodies = [
        f'{{"signature":{{"alg":"Ed25519","keyid":"{marker}"}}}}'.encode(),
        f'{{"note":"{marker}"}}'.encode(),
        marker.encode(),
        b"-----BEGIN PRIVATE KEY-----\n" + marker.encode() + b"\n-----END PRIVATE KEY-----\n",
    ]
    doc = json.loads(work_entry(open_srv.registry, studio, marker))
    doc["statement"]["body"]["title"] = marker + "-tampered"
    bodies.append(canonical_bytes(doc))  # a forged signature over a body holding the marker
    for body in bodies:
        for media in ("application/json", "application/jsonl"):
            r = open_srv.post(body, media, headers={"Authorization": f"Bearer {marker}",
                                                    "Cookie": f"session={marker}"})
            assert 400 <= r.status_code < 500, r.text
            assert r.headers["content-type"].startswith(PROBLEM)
            no_leak(r.text)
            assert marker not in r.text, (body[:80], r.text)
            if pem:
                assert pem.decode() not in r.text
            if seed:
                assert seed.hex() not in r.text
    for path in ("/v1/parties/" + marker, "/nowhere/" + marker):
        r = httpx.get(open_srv.url + path, headers={"Authorization": f"Bearer {marker}"})
        no_leak(r.text)
    metrics = httpx.get(open_srv.url + "/metrics").text
    assert marker not in metrics and "Bearer" not in metrics and "session=" not in metrics
    no_leak(metrics)
    for line in open_srv.output:  # what the server process printed (paths are logged)
        assert "Traceback" not in line, line
        assert marker not in line or json.loads(line)["path"].endswith(marker), line
    assert snapshot(open_srv) == before


def test_no_redirect_is_built_from_the_host_header(open_srv: Server) -> None:
    for target in ("/v1/log/", "/tile/0\\..\\x", "/checkpoint/", "/metrics/"):
        answer = raw(open_srv, f"GET {target} HTTP/1.1\r\nHost: evil.example\r\n\r\n".encode(),
                     timeout=20)
        assert status_of(answer) == 404, answer[:300]
        assert b"location:" not in answer.lower() and b"evil.example" not in answer
