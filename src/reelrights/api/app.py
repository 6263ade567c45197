"""The service's application: configuration, the routes of each concern, the error mapping."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ReelrightsError
from .problems import Problem, problem_for, problem_response

__all__ = ["ServiceConfig", "create_app"]


@dataclass
class ServiceConfig:
    """What one server process needs; ``reelrights serve`` fills it from its options."""

    #: The operator's home: its database (or REELRIGHTS_DATABASE_URL), log key and static folder.
    home: Path
    #: Largest single-statement body and largest batch (bytes, entries).
    max_single_bytes: int = 64 * 1024
    max_batch_bytes: int = 16 * 1024 * 1024
    max_batch_entries: int = 1000
    #: Group commit: how long a single submission may wait for others to share its batch.
    coalesce_wait_s: float = 0.005
    coalesce_max_entries: int = 1000
    #: Token buckets: per signing key and per client address (requests/s and burst).
    key_rate: float = 200.0
    key_burst: int = 400
    address_rate: float = 2000.0
    address_burst: int = 4000
    #: Seconds a client may take to send a request's headers (``reelrights serve``'s protocol).
    header_timeout_s: float = 10.0
    #: Seconds a client may take to send a request body (a slow sender holds a connection).
    body_timeout_s: float = 30.0
    #: Anyone may append (demos and tests only): no allowlist.
    open_appends: bool = False
    #: Witnesses the log sends its checkpoints to: [submission URL, cosignature vkey] pairs
    #: (docs/witness.md); at most one request per ``witness_interval_s`` per witness, and a
    #: same-size refresh every ``witness_refresh_s``.
    witnesses: list[list[str]] = field(default_factory=list)
    witness_interval_s: float = 1.0
    witness_refresh_s: float = 60.0
    #: Parties act only once admitted (docs/identity.md); the allowlist stays an override.
    #: False: a closed deployment, only allowlisted keys (``serve --allowlist-only``).
    admission: bool = True
    #: Test-only switches and anything a concern adds later.
    extra: dict[str, Any] = field(default_factory=dict)


def create_app(config: ServiceConfig) -> Starlette:
    """The ASGI application of one server process (uvicorn runs one per worker)."""
    from ..web import routes as web_routes
    from . import identity, operations, reads, sealed, softbinding, statements
    from .state import ServiceState

    state = ServiceState(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.start()
        try:
            yield
        finally:
            await state.stop()

    # The web app's pages (reelrights.web) beside the API: HTML for people, same read models.
    routes = [*statements.routes(), *identity.routes(), *reads.routes(), *softbinding.routes(),
              *sealed.routes(), *operations.routes(), *web_routes()]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=operations.middleware(),
                    exception_handlers={Problem: _problem, ReelrightsError: _ledger_error,
                                        404: _not_found, 405: _not_allowed,
                                        Exception: _internal})
    # No redirect to the path with or without a trailing slash: its Location would be built
    # from the request's Host header (an open redirect a cache could keep), and an API's paths
    # are exact anyway.
    app.router.redirect_slashes = False
    app.state.service = state
    return app


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


async def _ledger_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ReelrightsError)
    return problem_for(exc).response()


async def _internal(request: Request, exc: Exception) -> Response:
    """A fault no handler expected: problem details that say nothing of it (no message, path or
    traceback reaches the client); the traceback goes to the server's log."""
    logging.getLogger("reelrights.service").error(
        "unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal", "Internal error",
                            "the service failed on this request; nothing was answered for it. "
                            "Try again later; the operator's log has the details")


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem_response(404, "not-found", "Not found",
                            f"{request.url.path} is not a resource of this service; see "
                            "/openapi.json for the endpoints")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return problem_response(405, "method-not-allowed", "Method not allowed",
                            f"{request.method} is not allowed on {request.url.path}; see "
                            "/openapi.json")
