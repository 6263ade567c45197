"""uvicorn's HTTP protocol with a deadline for a request's headers (slowloris).

uvicorn times out an idle keep-alive connection only after a response: a connection that sends
nothing, or a request line and then headers a byte at a time, is held for as long as the client
likes, and ``limit_concurrency`` such connections make the server answer 503 to everyone.
:class:`HeaderDeadlineProtocol` closes a connection whose request headers are not complete
within ``header_timeout_s`` (``ServiceConfig``, default 10 s) of its opening or of the previous
response, and refuses headers over :data:`MAX_HEADER_BYTES` (431; httptools would buffer any
size). The body has its own deadline (``body_timeout_s``, in the write path). A request
that is not HTTP at all (uvicorn's own 400) is answered as problem details too, like every
other refusal of the service.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HEADER_TIMEOUT_S", "MAX_HEADER_BYTES", "HeaderDeadlineProtocol"]

#: Seconds a client has to send a request's headers (ServiceConfig.header_timeout_s).
HEADER_TIMEOUT_S = 10.0
#: The most bytes read while waiting for a request's headers (httptools buffers them whole).
MAX_HEADER_BYTES = 16 * 1024


def _header_timeout() -> float:
    """The setting ``reelrights serve`` put in the environment for every worker process."""
    from .factory import ENV

    try:
        return float(json.loads(os.environ.get(ENV) or "{}").get("header_timeout_s",
                                                                  HEADER_TIMEOUT_S))
    except (ValueError, TypeError, AttributeError):
        return HEADER_TIMEOUT_S


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """httptools' protocol, closing a connection whose headers are late (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._header_timeout = _header_timeout()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # idle now: the next headers are due
            self._arm()

    def data_received(self, data: bytes) -> None:
        waiting = self._deadline is not None  # for a request's headers
        super().data_received(data)
        if waiting and self._deadline is not None and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._deadline.cancel()
                self._deadline = None
                self._refuse(431, "Request Header Fields Too Large", "too-large",
                             "Request headers too large",
                             f"the request line and headers may be at most "
                             f"{MAX_HEADER_BYTES:,} bytes")

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "Bad Request", "bad-request", "Bad request",
                     f"{msg.rstrip('.')}: the request is not HTTP/1.1 as the service reads it "
                     "(a Content-Length that does not match the body?)")

    def _refuse(self, status: int, reason: str, slug: str, title: str, detail: str) -> None:
        """Answer problem details and close (the request could not be read as HTTP)."""
        from .problems import MEDIA_TYPE, PROBLEM_BASE

        body = json.dumps({"type": PROBLEM_BASE + slug, "title": title, "status": status,
                           "detail": detail}).encode()
        head = [f"HTTP/1.1 {status} {reason}\r\n".encode()]
        head += [name + b": " + value + b"\r\n" for name, value in
                 self.server_state.default_headers]
        head += [f"content-type: {MEDIA_TYPE}\r\ncontent-length: {len(body)}\r\n"
                 "connection: close\r\n\r\n".encode()]
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._header_bytes = 0
        self._deadline = self.loop.call_later(self._header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()
