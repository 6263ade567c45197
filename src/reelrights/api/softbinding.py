"""The C2PA Soft Binding Resolution API (its ``/v1`` subset) and the developers' publication.

* ``GET|POST /v1/matches/byBinding``: ``alg``, ``value`` (base64), ``maxResults`` (query
  parameters, or a JSON body for POST) → ``{"matches": [{manifestId, similarityScore, …}]}``.
  Public: the client computed the binding; the content never reaches the service.
* ``POST /v1/matches/byContent``: the media file as the body (at most 20 MB and 60 s),
  ``maxResults`` and optionally ``alg`` (``io.iscc.v0``: match an image by its ISCC
  Image-Code) as query parameters. Rate-limited per client address.
* ``GET /v1/manifests/{manifestId}``: the manifest store, ``application/c2pa``.
* ``GET /v1/services/supportedAlgorithms``.
* ``POST /v1/outputs/{id}/binding``: a developer's signed publication (a DSSE envelope,
  :mod:`reelrights.outputs.resolution`).

Each route parses, calls one function of :mod:`reelrights.outputs.resolution` in the thread
pool and renders; errors are problem details.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import BadInput
from ..outputs import resolution
from ..service.limits import Buckets
from .problems import Problem

__all__ = ["routes"]

#: byContent fingerprints media on the server: a client address gets one request every 2 s,
#: with a burst of 5 (per server process).
CONTENT_RATE, CONTENT_BURST = 0.5, 5


#: A publication carries an output's prints and its manifest store.
MAX_PUBLICATION_BYTES = 64 * 2**20


async def _bounded_body(request: Request, limit: int, detail: str) -> bytes:
    """The request body, refused (413) as soon as it passes ``limit`` bytes: by its declared
    length before reading, else while it streams (never read whole into memory first)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() \
            and int(declared) > limit:
        raise Problem(413, "too-large", "Content too large", detail)
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "too-large", "Content too large", detail)
        parts.append(chunk)
    return b"".join(parts)


def _state(request: Request) -> Any:
    state = request.app.state.service
    assert state.home is not None and state.ledger is not None
    return state


def _max_results(raw: Any) -> int:
    if raw is None:
        return 10
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise BadInput(f"maxResults {raw!r}: give a whole number from 1 to "
                       f"{resolution.MAX_RESULTS}") from None


def _matches(found: list[resolution.Match]) -> Response:
    return JSONResponse({"matches": [m.to_json() for m in found]})


async def by_binding(request: Request) -> Response:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        try:
            body = await request.json()
        except ValueError:
            raise BadInput("the body must be JSON: {\"alg\": …, \"value\": …}") from None
        if type(body) is not dict:
            raise BadInput("the body must be a JSON object with alg and value")
        params.update(body)
    alg, value = params.get("alg"), params.get("value")
    if type(alg) is not str or type(value) is not str:
        raise BadInput("give alg (a soft-binding algorithm id) and value (base64)")
    state = _state(request)
    found = await state.call(resolution.by_binding, state.home, state.ledger.db, alg, value,
                             _max_results(params.get("maxResults")))
    return _matches(found)


async def by_content(request: Request) -> Response:
    state = _state(request)
    buckets: Buckets = state.parts.setdefault("content-buckets",
                                              Buckets(CONTENT_RATE, CONTENT_BURST))
    client = request.client
    wait = buckets.take(client[0] if client else "unknown")
    if wait:
        raise Problem(429, "rate-limited", "Too many requests",
                      f"byContent fingerprints media here and is rate-limited; retry in "
                      f"{wait} s, or compute the binding and use byBinding",
                      headers={"Retry-After": str(wait)})
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() \
            and int(declared) > resolution.MAX_CONTENT_BYTES:
        raise Problem(413, "too-large", "Content too large",
                      f"byContent takes at most {resolution.MAX_CONTENT_BYTES // 2**20} MB")
    max_results = _max_results(request.query_params.get("maxResults"))
    alg = request.query_params.get("alg")
    if alg is not None and alg not in resolution.SUPPORTED:  # before the upload is read
        raise BadInput(f"alg {alg!r} is not supported here; /services/supportedAlgorithms "
                       "lists " + ", ".join(resolution.SUPPORTED))
    fd, name = tempfile.mkstemp(prefix="rr-bycontent-")
    try:
        size = 0
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > resolution.MAX_CONTENT_BYTES:
                    raise Problem(413, "too-large", "Content too large",
                                  f"byContent takes at most "
                                  f"{resolution.MAX_CONTENT_BYTES // 2**20} MB")
                f.write(chunk)
        if size == 0:
            raise BadInput("the body is empty: send the media file as the request body")
        found = await state.call(resolution.by_content, state.home, state.ledger.db, name,
                                 max_results, alg)
    finally:
        os.unlink(name)
    return _matches(found)


async def manifest(request: Request) -> Response:
    state = _state(request)
    data, label = await state.call(resolution.manifest, state.ledger.db,
                                   request.path_params["manifest_id"])
    return Response(data, media_type="application/c2pa",
                    headers={"content-disposition": f'attachment; filename="{label}.c2pa"'})


async def supported(request: Request) -> Response:
    return JSONResponse(resolution.supported_algorithms())


async def publish(request: Request) -> Response:
    state = _state(request)
    body = await _bounded_body(request, MAX_PUBLICATION_BYTES, "a publication is at most 64 MB")
    out = await state.call(resolution.publish, state.home, state.ledger.db, body,
                           request.path_params["id"])
    return JSONResponse(out, status_code=201)


#: Its read routes: kind ``provenance`` of the visibility matrix, public whole
#: (docs/visibility.md): output records are public, and a manifest is here because its
#: developer published it for anyone resolving a stripped copy.
READ_ROUTES = ("/v1/matches/byBinding", "/v1/manifests/{manifest_id}",
               "/v1/services/supportedAlgorithms")


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/matches/byBinding", by_binding, methods=["GET", "POST"]),
        Route("/v1/matches/byContent", by_content, methods=["POST"]),
        Route("/v1/manifests/{manifest_id}", manifest, methods=["GET"]),
        Route("/v1/services/supportedAlgorithms", supported, methods=["GET"]),
        Route("/v1/outputs/{id}/binding", publish, methods=["POST"]),
    ]
