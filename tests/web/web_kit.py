"""Shared helpers of the web app's tests (a module of its own name: ``conftest`` is taken by
tests/service when both folders run together)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service_kit import Server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("REELRIGHTS_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Site:
    server: Server
    ids: dict[str, str]
    requests: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def home(self) -> Path:
        return Path(self.server.home.path)


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def session_cookie(site: Site, party: str) -> str:
    """Sign in as ``party`` over HTTP (a real challenge signed with its key file) and return
    the session cookie's value, for a browser context or a client to read its private pages."""
    import base64

    import httpx

    from reelrights.keys import load_key_file
    from reelrights.web.session import COOKIE

    with httpx.Client(base_url=site.url) as client:
        c = client.post("/sign-in/challenge", data={"party": party}).json()
        key = load_key_file(site.home / "keys" / f"{party}.pem")
        sig = base64.b64encode(key.sign(c["text"].encode())).decode()
        r = client.post("/sign-in", data={"party": party, "nonce": c["nonce"],
                                          "signature": sig})
        assert r.status_code == 303, r.text
        return str(client.cookies[COOKIE])
