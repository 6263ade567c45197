"""The HTTP service: ``reelrights serve``.

One ASGI application (Starlette on uvicorn) over the same :class:`~reelrights.ledger.Ledger` the
CLI uses. It is a front door like ``cli/``: it parses a request, calls one function, renders the
answer and maps the error tree of :mod:`reelrights.errors` to RFC 9457 problem details
(:mod:`.problems`). The routes live by concern:

- :mod:`.statements`: the write path, ``POST /v1/statements`` (group commit, deduplication,
  receipts);
- :mod:`.reads`: the static log (C2SP tlog-tiles), proofs and lookups by id;
- :mod:`.operations`: health, readiness and ``/metrics`` (:mod:`.metrics`).

:func:`~.app.create_app` assembles them; docs/service.md describes the whole.
"""

from __future__ import annotations

from .app import ServiceConfig, create_app

__all__ = ["ServiceConfig", "create_app"]
