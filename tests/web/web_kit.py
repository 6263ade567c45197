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
    from reelrights.client.web_session import sign_in
    from reelrights.keys import load_key_file

    return sign_in(site.url, party, load_key_file(site.home / "keys" / f"{party}.pem"))
