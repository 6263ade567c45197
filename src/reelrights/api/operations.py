"""Operating the service: liveness, readiness, metrics, the OpenAPI document, the access log.

- ``GET /healthz``: the process answers (no I/O).
- ``GET /readyz``: the database answers and its log head is not behind, nor different from, the
  checkpoint published in the home's ``log/`` folder (503 problem ``not-ready`` otherwise; a
  load balancer stops sending traffic, an operator reads ``detail``).
- ``GET /metrics``: Prometheus text format (:mod:`.metrics`), every worker's samples when
  ``PROMETHEUS_MULTIPROC_DIR`` is set; the checkpoint age and disk use are read at scrape time.
- ``GET /openapi.json``: the OpenAPI 3.1 document (:mod:`.openapi`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .access_log import AccessLog
from .problems import Problem

if TYPE_CHECKING:
    from .state import ServiceState

__all__ = ["middleware", "routes"]

_NO_STORE = {"cache-control": "no-store"}


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


async def readyz(request: Request) -> Response:
    from .reads import reader

    state: ServiceState = request.app.state.service
    assert state.home is not None
    report = await state.call(reader(request).server.readiness, state.home.log_dir)
    if not report["ready"]:
        raise Problem(503, "not-ready", "Not ready", report["reason"],
                      headers={"retry-after": "5", **_NO_STORE}, size=report["size"],
                      published=report["published"])
    return JSONResponse({"status": "ready", "size": report["size"],
                         "published": report["published"]}, headers=_NO_STORE)


async def metrics(request: Request) -> Response:
    from .metrics import exposition, observe_home

    state: ServiceState = request.app.state.service
    assert state.home is not None
    observe_home(state.home.path, state.home.log_dir)
    body, content_type = exposition()
    return Response(body, media_type=content_type, headers=_NO_STORE)


async def openapi(request: Request) -> Response:
    from .openapi import document_bytes

    return Response(document_bytes(), media_type="application/json")


def middleware() -> list[Middleware]:
    """Outermost first: the access log sees every answer, problems and 500s included."""
    return [Middleware(AccessLog)]


#: The service's own read routes: matrix kind ``service``, public whole (docs/visibility.md).
SERVICE_ROUTES = ("/healthz", "/readyz", "/metrics", "/openapi.json")


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
