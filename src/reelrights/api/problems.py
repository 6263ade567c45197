"""RFC 9457 problem details: the one error format of the service.

Every refusal carries the same message the CLI prints for the same error (``detail``), the exit
code the CLI would end with (``exit_code``), and, for a statement in a batch, its position
(``position``, counting from 0). ``type`` is a URI naming the kind of problem; ``title`` is short and
fixed per kind.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse

from ..errors import PROBLEM_TYPES, ReelrightsError, Unauthenticated, Unavailable

__all__ = ["PROBLEM_BASE", "Problem", "problem_for", "problem_response"]

#: Problem type URIs are ``PROBLEM_BASE + slug``; docs/service.md lists every slug.
PROBLEM_BASE = "https://reelrights.dev/problems/"
MEDIA_TYPE = "application/problem+json"

#: How the ledger names a statement's place in a batch of several (counting from 1, for people).
_POSITION = re.compile(r"^statement (\d+) of \d+: ")


class Problem(Exception):
    """An HTTP refusal that is not one of the ledger's errors (a bad content type, a body too
    large, a rate limit): raise it from a route and it is rendered as problem details."""

    def __init__(self, status: int, slug: str, title: str, detail: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> JSONResponse:
        return problem_response(self.status, self.slug, self.title, self.detail,
                                headers=self.headers, **self.extra)


def problem_response(status: int, slug: str, title: str, detail: str, *,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail,
            **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def problem_for(exc: ReelrightsError, *, position: int | None = None) -> Problem:
    """The problem for one of the ledger's errors: status by kind, the CLI's message as detail.
    ``position`` defaults to the one the ledger's message names ("statement N of M: ...")."""
    message = str(exc)
    if position is None and (m := _POSITION.match(message)):
        position = int(m.group(1)) - 1
    headers = None
    if isinstance(exc, Unavailable):
        headers = {"Retry-After": str(max(1, exc.retry_after))}
    elif isinstance(exc, Unauthenticated):
        from ..access.http_signing import accept_signature

        # RFC 9110 (a 401 names its scheme) and RFC 9421 section 5.1 (what to sign).
        headers = {"WWW-Authenticate": 'Signature realm="reelrights"',
                   "Accept-Signature": accept_signature()}
    status, slug, title = next(((status, slug, title) for cls, status, slug, title in PROBLEM_TYPES
                                if isinstance(exc, cls)), (500, "internal", "Internal error"))
    return Problem(status, slug, title, message, headers=headers, position=position,
                   exit_code=exc.exit_code)

