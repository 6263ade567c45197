"""The witness over HTTP (c2sp.org/tlog-witness): ``POST /add-checkpoint`` and the monitoring
read ``GET /<sha256(origin) hex>/checkpoint``. Answers are text: the cosignature lines, or one
line saying why not (409: the witness's size, ``text/x.tlog.size``)."""

from __future__ import annotations

import logging
import re

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .protocol import MAX_BODY, Refused, Witness

__all__ = ["create_witness_app"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_log = logging.getLogger("reelrights.witness")


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise Refused(413, f"the body is larger than {MAX_BODY} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Refused(413, f"the body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_witness_app(witness: Witness) -> Starlette:
    """The ASGI application of one witness."""

    async def add_checkpoint(request: Request) -> Response:
        try:
            body = await _body(request)
            lines = await run_in_threadpool(witness.add_checkpoint, body)
        except Refused as exc:
            if exc.status == 409:
                return Response(f"{exc.size}\n", 409,
                                headers={"content-type": "text/x.tlog.size"})
            if exc.status in (403, 422):
                _log.warning("refused a checkpoint (%d): %s", exc.status, exc.reason)
            return PlainTextResponse(exc.reason + "\n", exc.status)
        return Response(lines, media_type="text/plain; charset=utf-8")

    async def checkpoint(request: Request) -> Response:
        origin_hash = request.path_params["origin_hash"]
        note = None
        if _HEX64.fullmatch(origin_hash):
            note = await run_in_threadpool(witness.latest, origin_hash)
        if note is None:
            return PlainTextResponse("this witness has cosigned no checkpoint of that log\n", 404)
        return Response(note, media_type="text/plain; charset=utf-8",
                        headers={"cache-control": "no-store"})

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("not a witness endpoint: POST /add-checkpoint\n", 404)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("method not allowed\n", 405)

    routes = [Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
              Route("/{origin_hash}/checkpoint", checkpoint, methods=["GET"])]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
    app.router.redirect_slashes = False
    app.state.witness = witness
    return app
