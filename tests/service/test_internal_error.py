"""A fault no handler expected is answered as RFC 9457 problem details (500, slug internal) that
say nothing of it: no message, no path, no traceback. A real app from create_app, with one extra
route that fails, served over real HTTP."""

from __future__ import annotations

import httpx
from starlette.routing import Route

from reelrights.api import ServiceConfig, create_app


def test_an_unexpected_fault_is_a_problem_that_leaks_nothing(tmp_path, caplog) -> None:
    app = create_app(ServiceConfig(tmp_path))

    async def boom(request):  # noqa: ARG001
        raise RuntimeError("secret-detail /srv/private/path SELECT * FROM keys")

    app.router.routes.append(Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/boom")

    import asyncio
    with caplog.at_level("ERROR", logger="reelrights.service"):
        r = asyncio.run(call())
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/internal") and body["status"] == 500
    for leak in ("secret-detail", "/srv/private", "SELECT", "Traceback", "RuntimeError"):
        assert leak not in r.text
    assert any("secret-detail" in (rec.exc_text or "") or rec.exc_info for rec in caplog.records)
