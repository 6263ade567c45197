"""Servers the client tests run against, on 127.0.0.1 port 0, started and stopped by the tests.

* :func:`static_server`: a plain static file server (``http.server``) over a home's ``log/``
  folder: what any web server or CDN in front of the published tiles is.
* :func:`stand_in_service`: the service's contract (docs/service.md) for what the client uses:
  ``POST /v1/statements`` (one entry or a JSONL batch; receipts and the checkpoint; the same
  bytes again -> the original receipt), ``GET /v1/log``, ``/v1/checkpoints?after=``, the static
  tiles, problem details from :func:`reelrights.api.problems.problem_for`, an allowlist of
  registration keys (403 ``key-not-allowed``), and injected 503s (Retry-After) to exercise the
  client's retries. It stands in for ``reelrights serve`` until that is on main; the remote
  tests take either through the ``service`` fixture (test_remote_story.py).
* :func:`recording_proxy`: a reverse proxy that records every request (method, path, headers,
  body) before forwarding it, to inspect what a client sends.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reelrights.api.problems import Problem, problem_for, problem_response
from reelrights.core.statements import decode_entry
from reelrights.errors import ReelrightsError
from reelrights.home import Home
from reelrights.ledger import Ledger


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def static_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` read-only over HTTP; yields the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@dataclass
class StandIn:
    """The stand-in service's state: its operator home, ledger and switches."""

    home: Home
    ledger: Ledger
    #: Registration keys allowed to append (``ed25519:<b64>``); None: anyone (``serve --open``).
    allowed: set[str] | None = None
    #: The next this-many POSTs answer 503 with Retry-After: 0.
    fail_next: int = 0
    #: The next POST is committed, then answered 500 (the answer lost on the way).
    lose_next_answer: bool = False
    receipts: dict[bytes, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


def _checkpoint_text(state: StandIn) -> str:
    with state.ledger.db.read() as conn:
        return state.ledger.log.checkpoint(conn).decode("utf-8")


def _allowed(state: StandIn, entries: list[bytes]) -> None:
    if state.allowed is None:
        return
    for pos, e in enumerate(entries):
        s = decode_entry(e)
        if s.type == "party.registered":
            key = f"ed25519:{s.body['public_key']}"
            if key not in state.allowed:
                raise Problem(403, "key-not-allowed", "Key not on the allowlist",
                              f"the key {key} is not on this service's allowlist; the operator "
                              f"allows it with `reelrights service allow {key}`",
                              position=pos, exit_code=3)


def _submit(state: StandIn, entries: list[bytes]) -> tuple[list[dict[str, Any]], str, bool]:
    with state.lock:
        digests = [hashlib.sha256(e).digest() for e in entries]
        if all(d in state.receipts for d in digests):
            return [state.receipts[d] for d in digests], _checkpoint_text(state), True
        _allowed(state, entries)
        receipts = [r.to_json() for r in state.ledger.submit(entries)]
        state.receipts.update(zip(digests, receipts, strict=True))
        return receipts, _checkpoint_text(state), False


def _app(state: StandIn) -> Starlette:
    async def statements(request: Request) -> Response:
        if state.fail_next > 0:
            state.fail_next -= 1
            return problem_response(503, "unavailable", "Unavailable",
                                    "the database is unavailable; retry", headers={
                                        "Retry-After": "0"}, exit_code=1)
        media = request.headers.get("content-type", "").split(";")[0].strip()
        body = await request.body()
        if media == "application/json":
            entries = [body]
        elif media in ("application/jsonl", "application/x-ndjson"):
            entries = body.rstrip(b"\n").split(b"\n")
        else:
            raise Problem(415, "unsupported-media-type", "Unsupported media type",
                          f"Content-Type {media!r}: send application/json or application/jsonl")
        try:
            receipts, note, dup = await run_in_threadpool(_submit, state, entries)
        except ReelrightsError as exc:
            return problem_for(exc).response()
        if state.lose_next_answer:
            state.lose_next_answer = False
            return problem_response(500, "internal", "Internal error", "the answer was lost",
                                    exit_code=1)
        headers = {"Reelrights-Duplicate": "true"} if dup else {}
        return JSONResponse({"receipts": receipts, "checkpoint": note}, headers=headers)

    async def log_info(request: Request) -> Response:
        from reelrights.core.note import NoteSigner

        with state.ledger.db.read() as conn:
            size, _ = state.ledger.log.head(conn)
        vkey = NoteSigner(state.home.origin, state.home.log_key().seed).vkey
        return JSONResponse({"origin": state.home.origin, "log_key": vkey,
                             "registry": state.ledger.registry, "size": size,
                             "checkpoint": _checkpoint_text(state)})

    async def checkpoints(request: Request) -> Response:
        after = int(request.query_params["after"])
        with state.ledger.db.read() as conn:
            sizes = [s for s in state.ledger.log.checkpoint_sizes(conn) if s > after][:1]
            rows = [{"size": s, "note": state.ledger.log.checkpoint(conn, s).decode()}
                    for s in sizes]
        return JSONResponse({"checkpoints": rows})

    async def static(request: Request) -> Response:
        path = request.path_params["path"]
        target = (state.home.log_dir / path).resolve()
        if state.home.log_dir.resolve() not in target.parents or not target.is_file():
            return problem_response(404, "not-found", "Not found", f"/{path} is not published")
        return Response(target.read_bytes(), media_type="application/octet-stream")

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return exc.response()

    return Starlette(routes=[Route("/v1/statements", statements, methods=["POST"]),
                             Route("/v1/log", log_info), Route("/v1/checkpoints", checkpoints),
                             Route("/{path:path}", static)],
                     exception_handlers={Problem: on_problem})


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on 127.0.0.1 port 0; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


@contextlib.contextmanager
def stand_in_service(operator_home: Path, *, allowed: set[str] | None = None,
                     database_url: str | None = None) -> Iterator[StandIn]:
    """The operator's home at ``operator_home`` (made if missing, on ``database_url``, default
    SQLite in the home) served by the stand-in."""
    home, _ = Home.init(operator_home, database_url=database_url)
    ledger = Ledger.open(home)
    state = StandIn(home, ledger, allowed)
    try:
        with serve_app(_app(state)) as url:
            state.url = url
            yield state
    finally:
        ledger.close()
        ledger.db.dispose()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@contextlib.contextmanager
def recording_proxy(upstream: str) -> Iterator[tuple[str, list[Recorded]]]:
    """A reverse proxy to ``upstream`` recording every request; yields (its URL, the record)."""
    seen: list[Recorded] = []
    client = httpx.Client(base_url=upstream, timeout=60)

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        seen.append(Recorded(request.method, request.url.path + (
            f"?{request.url.query}" if request.url.query else ""), dict(request.headers), body))
        resp = await run_in_threadpool(client.request, request.method, request.url.path,
                                       params=request.query_params, content=body,
                                       headers=headers)
        out = {k: v for k, v in resp.headers.items()
               if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                    "content-encoding")}
        return Response(resp.content, status_code=resp.status_code, headers=out)

    app = Starlette(routes=[Route("/{path:path}", forward,
                                  methods=["GET", "POST", "PUT", "DELETE", "HEAD"])])
    try:
        with serve_app(app) as url:
            yield url, seen
    finally:
        client.close()


def key_forms(pem: bytes, seed: bytes) -> list[bytes]:
    """Every spelling of a private key a request could leak: the PEM, the PEM's base64 body,
    the raw seed, its hex and base64 (standard and URL-safe, padded or not)."""
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    b64 = base64.b64encode(seed)
    return [pem, body, seed, seed.hex().encode(), seed.hex().upper().encode(), b64,
            b64.rstrip(b"="), base64.urlsafe_b64encode(seed).rstrip(b"="),
            json.dumps(list(seed)).encode()]
