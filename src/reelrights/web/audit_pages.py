"""An audit challenge's page: the run it samples, who challenged it, how it ended (certificate
and result, withdrawal, or open), and where the response is: sent to the auditor only, or logged
sealed (``audit.opened``: its entry is public, its items only for the run's developer, its auditor
and the operator; docs/audits.md, docs/sealed.md)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from ..core.ids import ID_PATTERNS
from ..errors import NotFound
from .pages import call, db, page, render

__all__ = ["challenge"]

_CHALLENGE = re.compile(ID_PATTERNS["challenge"])


@page
async def challenge(request: Request) -> Response:
    from ..evidence.audit_list import challenge_detail
    from ..evidence.audit_opened import logged_response
    from ..registry.labels import display_names

    ref = request.path_params["id"]
    if not _CHALLENGE.fullmatch(ref):
        raise NotFound(f"{ref[:60]!r} is not a challenge id (chl_…)")
    a = await call(request, challenge_detail, db(request), ref)
    names = await call(request, display_names, db(request), [a.developer, a.auditor])
    logged = await call(request, logged_response, db(request), ref)
    return render(request, "challenge.html", {"a": a, "names": names, "logged": logged})
