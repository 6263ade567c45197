"""Fixtures for the web app's tests in a real browser.

``web_site`` (module scope): the demo story's home (``run_demo``) plus two consent requests, served
by a real ``reelrights serve`` on 127.0.0.1 port 0 (tests/service/service_kit.py).
``browser``: Debian's Chromium driven by Playwright, launched by its executable path
(``REELRIGHTS_CHROMIUM``, default /usr/bin/chromium; the Makefile installs it with apt-get).
Skipped when Chromium or Playwright is missing, except under CI, where that fails the test.
Screenshots go to build/screenshots (gitignored).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from service_kit import start_server  # noqa: E402
from web_kit import CHROMIUM, Site  # noqa: E402


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required under CI: `make test` installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def web_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from reelrights.demo import run_demo
    from reelrights.home import Home
    from reelrights.ledger import Ledger
    from reelrights.rights.consent_requests import request_consent

    mp = pytest.MonkeyPatch()
    mp.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    mp.delenv("REELRIGHTS_HOME", raising=False)
    directory = tmp_path_factory.mktemp("web") / "story"
    ids = run_demo(directory, echo=lambda _: None)
    home = Home.open(directory / "home")
    ledger = Ledger.open(home)
    requests = {}
    try:
        requests["voice"] = request_consent(
            home, ledger, requester="Orbit AI", performer="Bruno Lindqvist", kinds=["voice"],
            description="Voice for the harbour master in the Harbour Lights trailer, English "
                        "lines only", production="Harbour Lights trailer", media=["audio"],
            territory=["US", "CA"], start=date(2027, 1, 1), end=date(2027, 12, 31),
            compensation_ref="ORB-2027-014").details["id"]
        requests["likeness"] = request_consent(
            home, ledger, requester="Orbit AI", performer="Ada Okafor", kinds=["likeness"],
            description="Likeness for a de-aged flashback scene in the Harbour Lights sequel",
            model_family="orbit-video", media=["video"], territory=["US"],
            start=date(2027, 1, 1), end=date(2027, 6, 30),
            compensation_ref="ORB-2027-015").details["id"]
        from reelrights.core.license_terms import training_agreement
        from reelrights.rights.licensing import grant_license

        policy = training_agreement(
            uid=f"urn:reelrights:policy:{ids['bundle']}-orbit-ca", licensor=ids["studio"],
            licensee=ids["developer"], bundle=ids["bundle"], model_family="orbit-video",
            territories=["CA"], until="2027-12-31", fund_share="2.5")
        requests["license"] = grant_license(home, ledger, ids["bundle"], ids["developer"],
                                            policy).details["id"]
    finally:
        ledger.close()
    server = start_server(home)
    try:
        yield Site(server, ids, requests)
    finally:
        server.stop()
        mp.undo()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium is missing at {CHROMIUM}; apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is missing; pip install -e '.[test]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()
