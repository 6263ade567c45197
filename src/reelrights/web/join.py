"""Join with a key made in this browser (docs/web.md, "A key made in the browser").

The page makes the party's signing key (WebCrypto, non-extractable, kept in IndexedDB) and then
its offline recovery key (saved by the person as a key file, forgotten by the browser), and signs
the two statements this module prepares (:func:`~reelrights.identity.browser_join.
join_statements`): ``party.registered`` and ``key.recovery.set``, submitted as one batch to
``POST /v1/statements``. The server sees public keys and a possession proof, never a private key.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import BadInput, ReelrightsError
from ..identity.browser_join import join_statements, new_party_id
from ..registry.types import PARTY_KINDS
from .forms import form
from .pages import PAGE_HEADERS, call, page, render, state

__all__ = ["join_form", "join_prepare"]

#: Who joins from a browser (a fund is set up by its operator, with the CLI).
KINDS = tuple(k for k in PARTY_KINDS if k != "fund")


@page
async def join_form(request: Request) -> Response:
    ledger = state(request).ledger
    assert ledger is not None
    return render(request, "join.html", {"party": new_party_id(), "registry": ledger.registry,
                                         "kinds": KINDS})


@page
async def join_prepare(request: Request) -> Response:
    """The unsigned statements to sign (JSON, for static/join.js)."""
    try:
        f = await form(request)
        kind = f.get("kind", "")
        if kind not in KINDS:
            raise BadInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        statements = await call(request, join_statements, state(request).ledger,
                                f.get("party", ""), kind, f.get("name", ""),
                                f.get("public_key", ""), f.get("recovery_key", ""),
                                f.get("recovery_proof", ""))
    except ReelrightsError as exc:  # the page shows the line (JSON, like /v1's problems)
        return JSONResponse({"detail": str(exc)}, status_code=400, headers=PAGE_HEADERS)
    return JSONResponse(statements, headers=PAGE_HEADERS)
