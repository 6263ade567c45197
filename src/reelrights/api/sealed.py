"""``GET /v1/sealed/{id}``: a sealed statement's private fields, to the parties entitled to them
(the rule: :mod:`reelrights.sealed.entitled`; the reader's signature: :mod:`reelrights.sealed.
reads`). The answer is a disclosure the reader checks with ``reelrights sealed verify``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .reads import _call

__all__ = ["routes"]


def _answer(state: Any, ref: str, path: str, header: str | None) -> dict[str, Any]:
    from ..sealed.reads import authenticate, entitled_disclosure

    ledger = state.ledger
    with ledger.db.read() as conn:
        requester = authenticate(conn, ledger.registry, path, header)
        return entitled_disclosure(conn, ledger.log, ref, requester)


async def sealed_body(request: Request) -> Response:
    from ..sealed.reads import HEADER

    doc = await _call(request, _answer, request.app.state.service, request.path_params["id"],
                      request.url.path, request.headers.get(HEADER))
    return JSONResponse(doc, headers={"cache-control": "private, no-store"})


def routes() -> list[BaseRoute]:
    return [Route("/v1/sealed/{id}", sealed_body, methods=["GET"])]
