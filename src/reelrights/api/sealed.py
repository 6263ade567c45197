"""``GET /v1/sealed/{id}``: a sealed statement's private fields, to the parties entitled to them,
``POST /v1/sealed/{id}/grants``: a party discloses some of them to another party, and
``DELETE /v1/sealed/{id}/grants/{grant}``: it withdraws that disclosure.

All are signed requests (RFC 9421) checked by the service's one authenticator
(:func:`.reads._viewer`, :class:`reelrights.access.request_signatures.ReadAuthenticator`); who
reads what is :mod:`reelrights.sealed.reads`'s (the visibility matrix's ``sealed_body`` row).
The answer to a read is a disclosure the reader checks with ``reelrights sealed verify``."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import BadInput
from .problems import Problem
from .reads import _authenticator, _call, _request_url

__all__ = ["routes"]

_PRIVATE = "private, no-store"
_MAX_GRANT_BYTES = 64 * 1024


def _read(state: Any, ref: str, viewer: Any, wanted: list[str] | None) -> Any:
    from ..sealed.reads import entitled_disclosure

    ledger = state.ledger
    with ledger.db.read() as conn:
        return entitled_disclosure(conn, ledger.log, ref, viewer, wanted)


def _signer(request: Request, body: bytes) -> Any:
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
    return _authenticator(request).viewer(request.method, _request_url(request), headers, body)


async def sealed_body(request: Request) -> Response:
    viewer = await _call(request, _signer, request, b"")
    fields = request.query_params.getlist("fields")
    wanted = [p for f in fields for p in f.split(",") if p] if fields else None
    doc, roles = await _call(request, _read, request.app.state.service,
                             request.path_params["id"], viewer, wanted)
    return JSONResponse(doc, headers={"cache-control": _PRIVATE,
                                      "reelrights-roles": ",".join(sorted(roles))})


def _grant(state: Any, ref: str, viewer: Any, body: bytes) -> Any:
    from ..sealed.reads import grant_disclosure

    try:
        doc = json.loads(body) if body else None
    except (ValueError, RecursionError):
        doc = None
    if type(doc) is not dict:
        raise BadInput('a grant is a JSON object {"to": <party id>, "fields": [<leaf path>]}')
    with state.ledger.db.write() as conn:
        return grant_disclosure(conn, ref, viewer, doc)


async def sealed_grant(request: Request) -> Response:
    body = await request.body()
    if len(body) > _MAX_GRANT_BYTES:
        raise Problem(413, "too-large", "Body too large",
                      f"a grant is at most {_MAX_GRANT_BYTES} bytes of JSON")
    viewer = await _call(request, _signer, request, body)
    out = await _call(request, _grant, request.app.state.service, request.path_params["id"],
                      viewer, body)
    return JSONResponse(out, status_code=201, headers={"cache-control": _PRIVATE})


def _withdraw(state: Any, ref: str, viewer: Any, grant: str) -> Any:
    from ..sealed.reads import withdraw_disclosure

    if not (grant.isascii() and grant.isdigit()) or len(grant) > 18:
        raise BadInput(f"{grant[:40]!r} is not a grant number (the `grant` a grant answered)")
    with state.ledger.db.write() as conn:
        return withdraw_disclosure(conn, ref, viewer, int(grant))


async def sealed_withdraw(request: Request) -> Response:
    viewer = await _call(request, _signer, request, b"")
    out = await _call(request, _withdraw, request.app.state.service, request.path_params["id"],
                      viewer, request.path_params["grant"])
    return JSONResponse(out, headers={"cache-control": _PRIVATE})


def routes() -> list[BaseRoute]:
    return [Route("/v1/sealed/{id}", sealed_body, methods=["GET"]),
            Route("/v1/sealed/{id}/grants", sealed_grant, methods=["POST"]),
            Route("/v1/sealed/{id}/grants/{grant}", sealed_withdraw, methods=["DELETE"])]
