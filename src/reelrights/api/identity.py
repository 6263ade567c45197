"""Identity over HTTP (docs/identity.md): a nonce for a domain proof, and an admission request.

- ``POST /v1/identity/nonces`` ``{"party", "domain", "time", "signature"}`` (signed by the
  party): a single-use nonce, the document to publish at
  ``https://DOMAIN/.well-known/reelrights.json`` and the TXT record.
- ``POST /v1/identity/admissions``: the party's signed ``admission.requested`` (one
  statement, ``application/json``); the service checks its signature, the nonce and the proof
  it names (fetched with :mod:`reelrights.identity.domain_proof`'s limits) or the guild's
  membership statement, then logs the request with the operator's ``party.admitted``. Answer:
  both receipts and a published checkpoint covering them, like ``POST /v1/statements``.

Each parses, calls one library function in a thread and renders; refusals are problems.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import RateLimited
from .problems import Problem
from .statements import _body, write_path

__all__ = ["routes"]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limit(request: Request) -> None:
    wait = write_path(request.app.state.service).addresses.take(_address(request))
    if wait:
        raise RateLimited(f"too many requests from {_address(request)}; retry after {wait} s",
                          wait)


async def _json_body(request: Request, cap: int) -> Any:
    cfg = request.app.state.service.config
    raw = await _body(request.receive, request.headers.get("content-length"), cap,
                      "an identity request", cfg.body_timeout_s)
    try:
        return json.loads(raw)
    except ValueError:
        raise Problem(400, "bad-request", "Bad request", "the body is not JSON") from None


async def nonces(request: Request) -> Response:
    from ..identity.admit import issue_signed_nonce

    _limit(request)
    body = await _json_body(request, 4096)
    if not isinstance(body, dict):
        raise Problem(400, "bad-request", "Bad request",
                      'send {"party", "domain", "time", "signature"} (signed by the party)')
    state = request.app.state.service
    return JSONResponse(await state.call(issue_signed_nonce, state.ledger, body))


async def admissions(request: Request) -> Response:
    from ..identity.admit import admit_request
    from ..identity.domain_proof import FetchPolicy

    _limit(request)
    state = request.app.state.service
    cfg = state.config
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != \
            "application/json":
        raise Problem(415, "unsupported-media-type", "Unsupported media type",
                      "send the signed admission.requested as application/json")
    entry = await _body(request.receive, request.headers.get("content-length"),
                        cfg.max_single_bytes, "an admission request", cfg.body_timeout_s)
    policy = FetchPolicy.from_config(cfg.extra.get("identity_fetch"))
    receipts = await state.call(admit_request, state.home, state.ledger, entry, policy)
    checkpoint = await state.call(write_path(state).checkpoint_covering, receipts[-1].index + 1)
    return JSONResponse({"receipts": [r.to_json() for r in receipts], "checkpoint": checkpoint})


def routes() -> list[BaseRoute]:
    return [Route("/v1/identity/nonces", nonces, methods=["POST"]),
            Route("/v1/identity/admissions", admissions, methods=["POST"])]
