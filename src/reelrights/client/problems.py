"""RFC 9457 problem details back into the library's errors.

The service words every refusal as the CLI would (``detail``) and says the exit code the CLI
would end with (``exit_code``) and, for a statement in a batch, its position (``position``, from
0). :func:`error_from_problem` rebuilds the error the library raises locally for the same
refusal: the class by the problem's type (its slug), else by its HTTP status; the message
exactly the detail; the exit code the problem's. So the CLI prints the same line and exits with
the same code, local or remote.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import (
    PROBLEM_TYPES,
    BadInput,
    Conflict,
    KeyNotAllowed,
    NotFound,
    PolicyDenied,
    ReelrightsError,
)

__all__ = ["ServiceError", "error_from_problem", "problem_of"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_KEY = re.compile(r"ed25519:[A-Za-z0-9+/=_-]+")


class ServiceError(ReelrightsError):
    """The service failed (a 5xx that is not ``unavailable``, or an answer that is not the
    service's): exit 1. Still unavailable or rate limited after every retry is
    :class:`~reelrights.errors.Unavailable` / :class:`~reelrights.errors.RateLimited`."""

    exit_code = 1


#: Problem type slug -> the error class the library raises for it: the service's own table
#: (errors.PROBLEM_TYPES), plus the HTTP layer's refusals, and the server's faults as ServiceError
#: (its full disk is not the client's).
_BY_SLUG: dict[str, type[ReelrightsError]] = {
    **{slug: cls for cls, _status, slug, _title in PROBLEM_TYPES},
    "bad-request": BadInput,
    "too-large": BadInput,
    "unsupported-media-type": BadInput,
    "method-not-allowed": BadInput,
    "insufficient-storage": ServiceError,
    "internal": ServiceError,
}


def problem_of(content_type: str, body: bytes) -> dict[str, Any] | None:
    """The problem object of a response, or None when the body is not one."""
    if not body or "json" not in content_type:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("detail", data.get("title")), str):
        return None
    return data


def _class_for(slug: str, status: int) -> type[ReelrightsError]:
    if slug in _BY_SLUG:
        return _BY_SLUG[slug]
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status == 403:
        return PolicyDenied
    return BadInput if 400 <= status < 500 else ServiceError


def error_from_problem(status: int, problem: dict[str, Any] | None, url: str,
                       fallback: str = "") -> ReelrightsError:
    """The error a response with ``status`` and ``problem`` (None: not problem details) stands
    for; ``url`` and ``fallback`` (the body's text) word it when the service gave no detail."""
    if problem is None:  # not the service speaking: a static mirror, a proxy, another server
        text = " ".join(fallback.split())[:160]
        message = f"{url}: HTTP {status}" + (f" ({text})" if text else "")
        if status in (405, 501):
            return BadInput(f"{message}; this server takes no statements (a static mirror of "
                            "the log?): submit to the reelrights service itself (--server)")
        if status < 500:
            return (NotFound if status == 404 else BadInput)(
                f"{message}; check the server's address (--server)")
        return ServiceError(f"{message}; the service failed, try again later")
    slug = str(problem.get("type", "")).rstrip("/").rsplit("/", 1)[-1]
    detail = problem.get("detail") or problem.get("title") or f"HTTP {status}"
    detail = " ".join(str(detail).splitlines())
    cls = _class_for(slug, status)
    exc: ReelrightsError
    if cls is KeyNotAllowed:
        found = _KEY.search(detail)
        exc = KeyNotAllowed(detail, problem.get("key") or (found.group(0) if found else None))
    else:
        exc = cls(detail)
    code = problem.get("exit_code")
    if isinstance(code, int) and not isinstance(code, bool) and 0 < code < 126:
        exc.exit_code = code
    position = problem.get("position")
    if isinstance(position, int) and not isinstance(position, bool):
        exc.position = position
    return exc
