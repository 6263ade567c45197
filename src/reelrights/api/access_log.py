"""Structured access logs and the request counter: one small ASGI middleware.

One JSON line per HTTP request on the ``reelrights.access`` logger:
``{"time", "method", "path", "route", "status", "duration_ms", "client"}``. Never a body, a
query string, a header or a key. ``route`` is the route's template (``/v1/parties/{id}``), also
the ``route`` label of :data:`~.metrics.REQUESTS`, so label values stay few whatever is asked.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import REQUESTS

__all__ = ["ACCESS_LOGGER", "AccessLog", "install_handler"]

ACCESS_LOGGER = "reelrights.access"
_log = logging.getLogger(ACCESS_LOGGER)


def install_handler(stream: Any = None) -> None:
    """Write the access log as bare JSON lines to ``stream`` (default standard error), unless a
    handler is installed already (a deployment's own logging configuration wins)."""
    if _log.handlers:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    _log.addHandler(handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False


class AccessLog:
    """Times each HTTP request, counts it in REQUESTS{route, status} and logs one line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        install_handler()
        self._counters: dict[tuple[str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the server error middleware answers if the app raises

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._done(scope, status, time.perf_counter() - start)

    def _done(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        counter = self._counters.get((template, status))
        if counter is None:
            counter = self._counters[(template, status)] = REQUESTS.labels(template, str(status))
        counter.inc()
        if _log.isEnabledFor(logging.INFO):
            client = scope.get("client")
            _log.info(json.dumps({
                "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "method": scope["method"], "path": scope["path"], "route": template,
                "status": status, "duration_ms": round(seconds * 1000, 3),
                "client": client[0] if client else None}, ensure_ascii=False))
