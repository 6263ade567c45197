"""``POST /v1/statements``: the write path's front door (the logic: :mod:`reelrights.service`).

Parse (the content type, the body within its cap), call the process's
:class:`~reelrights.service.writer.WritePath`, render the receipts; refusals become problem
details (:mod:`.problems`). docs/service.md, "Writing statements", is the reference.

The route is a plain ASGI application rather than a Starlette request handler: it is the hot
path of the service (one call per statement from every client), and it reads the body straight
from ``receive`` (the first message holds all of a small body; the body timeout only arms a
timer) and sends the rendered answer in two messages. The answer's bytes are rendered by
:meth:`~reelrights.service.writer.Outcome.render` (the checkpoint's JSON string is encoded once
per committed batch and shared by every answer of that batch).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Route

from ..core.sealed import parse_submission
from ..errors import ReelrightsError
from . import metrics
from .problems import Problem, problem_for

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from ..service.writer import WritePath

__all__ = ["BODY_TIMEOUT_S", "routes", "write_path"]

SINGLE = "application/json"
BATCH = ("application/jsonl", "application/x-ndjson")
#: How long a client may take to send its body by default (``ServiceConfig.body_timeout_s``).
BODY_TIMEOUT_S = 30.0

_JSON_HEADER = (b"content-type", b"application/json")
_DUPLICATE_HEADER = (b"reelrights-duplicate", b"true")


def routes() -> list[BaseRoute]:
    return [Route("/v1/statements", Submit(), methods=["POST"])]


class Submit:
    """The ASGI application of ``POST /v1/statements`` (module doc)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        kind, length = "", None
        for name, value in scope["headers"]:
            if name == b"content-type":
                kind = value.decode("latin-1").split(";", 1)[0].strip().lower()
            elif name == b"content-length":
                length = value.decode("latin-1")
        state = scope["app"].state.service
        cfg = state.config
        client = scope.get("client")
        address = client[0] if client else "unknown"
        try:
            writes = write_path(state)
            if kind == SINGLE:
                body = await _body(receive, length, cfg.max_single_bytes, "a single statement",
                                     cfg.body_timeout_s)
                outcome = await writes.single(parse_submission(body), address)
            elif kind in BATCH:
                body = await _body(receive, length, cfg.max_batch_bytes, "a batch",
                                     cfg.body_timeout_s)
                outcome = await writes.batch([parse_submission(line) for line in
                                              _lines(body, cfg.max_batch_entries)], address)
            else:
                raise Problem(415, "unsupported-media-type", "Unsupported media type",
                              f"Content-Type {kind or '(none)'!r} is not accepted here; send one "
                              f"signed statement as {SINGLE} or a batch, one per line, as "
                              f"{BATCH[0]}")
        except (ReelrightsError, Problem) as exc:
            problem = problem_for(exc) if isinstance(exc, ReelrightsError) else exc
            metrics.REFUSALS.labels(reason=problem.slug).inc()
            await problem.response()(scope, receive, send)
            return
        if outcome.duplicate:
            headers = [_JSON_HEADER, _DUPLICATE_HEADER]
        else:
            headers = [_JSON_HEADER]
            metrics.APPENDS.inc(len(outcome.receipts))
            metrics.RECEIPT_TO_CHECKPOINT.observe(time.perf_counter() - started)
        answer = outcome.render()
        headers.append((b"content-length", str(len(answer)).encode("ascii")))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def write_path(state: Any) -> WritePath:
    """This process's write path, made at its first submission."""
    writes: WritePath | None = state.parts.get("writes")
    if writes is None:
        from ..service.writer import WritePath

        cfg = state.config
        writes = state.parts["writes"] = WritePath(
            state.ledger, state.home.log_dir, open_appends=cfg.open_appends,
            coalesce_wait_s=cfg.coalesce_wait_s, coalesce_max_entries=cfg.coalesce_max_entries,
            key_rate=cfg.key_rate, key_burst=cfg.key_burst, address_rate=cfg.address_rate,
            address_burst=cfg.address_burst, inflight=int(cfg.extra.get("inflight", 2)),
            admission=cfg.admission)
    return writes


def _too_large(what: str, cap: int) -> Problem:
    return Problem(413, "too-large", "Request body too large",
                   f"{what} may be at most {cap:,} bytes; reference large content by its "
                   "SHA-256 instead of embedding it, or split the batch")


async def _body(receive: Receive, length: str | None, cap: int, what: str,
                timeout_s: float = BODY_TIMEOUT_S) -> bytes:
    """The body, never reading more than ``cap`` bytes (Content-Length first, then counted)."""
    if length is not None:
        if not (length.isascii() and length.isdigit()):
            raise Problem(400, "bad-request", "Bad request", "Content-Length must be a number")
        if int(length) > cap:
            raise _too_large(what, cap)
    chunks: list[bytes] = []
    n = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] != "http.request":  # http.disconnect
                    raise Problem(400, "bad-request", "Bad request", "the client went away")
                chunk = message.get("body", b"")
                n += len(chunk)
                if n > cap:
                    raise _too_large(what, cap)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise Problem(408, "timeout", "Request timeout",
                      f"the body did not arrive within {timeout_s:g} s; send it at once "
                      "(a statement is small)") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _lines(body: bytes, max_entries: int) -> list[bytes]:
    from ..service.intake import TooManyEntries, split_batch

    try:
        return split_batch(body, max_entries)
    except TooManyEntries as exc:
        raise Problem(413, "too-many-entries", "Batch too large", exc.message) from None
