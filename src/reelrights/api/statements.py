"""``POST /v1/statements``: the write path's front door (the logic: :mod:`reelrights.service`).

Parse (the content type, the body within its cap), call the process's
:class:`~reelrights.service.writer.WritePath`, render the receipts; refusals become problem
details (:mod:`.problems`). docs/service.md, "Writing statements", is the reference.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..errors import ReelrightsError
from . import metrics
from .problems import Problem, problem_for

if TYPE_CHECKING:
    from ..service.writer import WritePath

__all__ = ["BODY_TIMEOUT_S", "routes"]

SINGLE = "application/json"
BATCH = ("application/jsonl", "application/x-ndjson")
#: How long a client may take to send its body by default (``ServiceConfig.body_timeout_s``).
BODY_TIMEOUT_S = 30.0


def routes() -> list[BaseRoute]:
    return [Route("/v1/statements", submit, methods=["POST"])]


async def submit(request: Request) -> Response:
    started = time.perf_counter()
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    writes = _write_path(request)
    cfg = request.app.state.service.config
    address = request.client.host if request.client else "unknown"
    try:
        if kind == SINGLE:
            body = await _body(request, cfg.max_single_bytes, "a single statement",
                               cfg.body_timeout_s)
            outcome = await writes.single(body, address)
        elif kind in BATCH:
            body = await _body(request, cfg.max_batch_bytes, "a batch", cfg.body_timeout_s)
            outcome = await writes.batch(_lines(body, cfg.max_batch_entries), address)
        else:
            raise Problem(415, "unsupported-media-type", "Unsupported media type",
                          f"Content-Type {kind or '(none)'!r} is not accepted here; send one "
                          f"signed statement as {SINGLE} or a batch, one per line, as "
                          f"{BATCH[0]}")
    except ReelrightsError as exc:
        problem = problem_for(exc)
        metrics.REFUSALS.labels(reason=problem.slug).inc()
        return problem.response()
    except Problem as problem:
        metrics.REFUSALS.labels(reason=problem.slug).inc()
        return problem.response()
    headers = {"Reelrights-Duplicate": "true"} if outcome.duplicate else None
    if not outcome.duplicate:
        metrics.APPENDS.inc(len(outcome.receipts))
        metrics.RECEIPT_TO_CHECKPOINT.observe(time.perf_counter() - started)
    return Response(json.dumps(outcome.to_json(), separators=(",", ":")).encode(),
                    media_type="application/json", headers=headers)


def _write_path(request: Request) -> WritePath:
    """This process's write path, made at its first submission."""
    state = request.app.state.service
    writes = state.parts.get("writes")
    if writes is None:
        from ..service.writer import WritePath

        cfg = state.config
        writes = state.parts["writes"] = WritePath(
            state.ledger, state.home.log_dir, open_appends=cfg.open_appends,
            coalesce_wait_s=cfg.coalesce_wait_s, coalesce_max_entries=cfg.coalesce_max_entries,
            key_rate=cfg.key_rate, key_burst=cfg.key_burst, address_rate=cfg.address_rate,
            address_burst=cfg.address_burst, inflight=int(cfg.extra.get("inflight", 2)))
    return writes


def _too_large(what: str, cap: int) -> Problem:
    return Problem(413, "too-large", "Request body too large",
                   f"{what} may be at most {cap:,} bytes; reference large content by its "
                   "SHA-256 instead of embedding it, or split the batch")


async def _body(request: Request, cap: int, what: str,
                timeout_s: float = BODY_TIMEOUT_S) -> bytes:
    """The body, never reading more than ``cap`` bytes (Content-Length first, then counted)."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise Problem(400, "bad-request", "Bad request", "Content-Length must be a number")
        if int(length) > cap:
            raise _too_large(what, cap)

    async def read() -> bytes:
        chunks, n = [], 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > cap:
                raise _too_large(what, cap)
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(read(), timeout_s)
    except TimeoutError:
        raise Problem(408, "timeout", "Request timeout",
                      f"the body did not arrive within {timeout_s:g} s; send it at once "
                      "(a statement is small)") from None
    except ClientDisconnect:
        raise Problem(400, "bad-request", "Bad request", "the client went away") from None


def _lines(body: bytes, max_entries: int) -> list[bytes]:
    from ..service.intake import TooManyEntries, split_batch

    try:
        return split_batch(body, max_entries)
    except TooManyEntries as exc:
        raise Problem(413, "too-many-entries", "Batch too large", exc.message) from None
