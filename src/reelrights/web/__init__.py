"""The web app: server-rendered pages for every role, served by ``reelrights serve``.

A thin front door like ``cli/`` and ``api/``: each page parses its request, calls the capability
packages' read models (or one write function), and renders a Jinja2 template. Assets (one style
sheet, a few small scripts) are served from the package; no inline script or style, so the
Content-Security-Policy allows none. docs/web.md describes the pages.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    """The pages' routes (``include_in_schema=False``: they are not part of the HTTP API)."""
    from . import actions, audit_pages, check_page, explorer, join, party_pages
    from .static_files import asset

    def get(path: str, endpoint: object) -> Route:
        return Route(path, endpoint, methods=["GET"], include_in_schema=False)  # type: ignore[arg-type]

    def post(path: str, endpoint: object) -> Route:
        return Route(path, endpoint, methods=["POST"], include_in_schema=False)  # type: ignore[arg-type]

    return [
        get("/", explorer.home),
        get("/find", explorer.find),
        get("/log", explorer.log_list),
        get("/log/{index}", explorer.entry),
        *(get(f"/{collection}/{{id}}", explorer.facts) for collection in explorer.FACTS),
        get("/challenges/{id}", audit_pages.challenge),
        get("/parties", party_pages.directory),
        get("/parties/{id}", party_pages.party),
        get("/royalty-statements/{id}", party_pages.royalty_statement),
        get("/static/{name}", asset),
        get("/sign-in", actions.sign_in_form),
        post("/sign-in/challenge", actions.sign_in_challenge),
        post("/sign-in", actions.sign_in),
        post("/sign-out", actions.sign_out),
        get("/requests/{id}/approve", actions.approve),
        get("/requests/{id}/decline", actions.decline),
        get("/licenses/{id}/cosign", actions.cosign),
        get("/check", check_page.check_form),
        post("/check", check_page.check_form),
        get("/join", join.join_form),
        post("/join/statements", join.join_prepare),
    ]
