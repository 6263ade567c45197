#!/usr/bin/env python
"""The README's screenshots, made again from the demo story (``make screenshots``).

    python scripts/screenshots.py                  # docs/screenshots/*.png
    python scripts/screenshots.py --out build/shots --all

Runs the demo story (``run_demo``) into a temporary home, adds what the web tests add (two
consent requests from Orbit AI and a license waiting for the guild), serves the home with
``reelrights serve`` on 127.0.0.1 port 0, signs in with the party's own key (the challenge
sign-in the tests use), and captures pages with Playwright driving Debian's Chromium
(``REELRIGHTS_CHROMIUM``, default /usr/bin/chromium). Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("REELRIGHTS_CHROMIUM", "/usr/bin/chromium")
CLI = "import sys; from reelrights.cli import main; sys.argv[0] = 'reelrights'; main()"
#: name -> (the party the page is seen as, or None; the page; width, height of the picture)
SHOTS = {
    "performer": ("lead", "/parties/{lead}", 1200, 1460),
}
MORE = {
    "studio": ("studio", "/parties/{studio}", 1200, 1500),
    "guild": ("guild", "/parties/{guild}", 1200, 1500),
    "explorer": (None, "/", 1200, 1100),
    "entry": (None, "/log/6", 1200, 1100),
}


def story(directory: Path) -> dict[str, str]:
    from reelrights.core.license_terms import training_agreement
    from reelrights.demo import run_demo
    from reelrights.home import Home
    from reelrights.ledger import Ledger
    from reelrights.rights.consent_requests import request_consent
    from reelrights.rights.licensing import grant_license

    ids = run_demo(directory, echo=lambda _: None)
    home = Home.open(directory / "home")
    ledger = Ledger.open(home)
    try:
        request_consent(
            home, ledger, requester="Orbit AI", performer="Ada Okafor", kinds=["likeness"],
            description="Likeness for a de-aged flashback scene in the Harbour Lights sequel",
            model_family="orbit-video", media=["video"], territory=["US"],
            start=date(2027, 1, 1), end=date(2027, 6, 30), compensation_ref="ORB-2027-015")
        request_consent(
            home, ledger, requester="Orbit AI", performer="Bruno Lindqvist", kinds=["voice"],
            description="Voice for the harbour master in the Harbour Lights trailer, English "
                        "lines only", production="Harbour Lights trailer", media=["audio"],
            territory=["US", "CA"], start=date(2027, 1, 1), end=date(2027, 12, 31),
            compensation_ref="ORB-2027-014")
        policy = training_agreement(
            uid=f"urn:reelrights:policy:{ids['bundle']}-orbit-ca", licensor=ids["studio"],
            licensee=ids["developer"], bundle=ids["bundle"], model_family="orbit-video",
            territories=["CA"], until="2027-12-31", fund_share="2.5")
        grant_license(home, ledger, ids["bundle"], ids["developer"], policy)
    finally:
        ledger.close()
    return ids


def serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME")}
    proc = subprocess.Popen([sys.executable, "-c", CLI, "--home", str(home), "serve", "--port",
                             "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace")
        if line.startswith("reelrights serving "):
            return proc, line.split(" at ", 1)[1].split(" ", 1)[0]
    raise SystemExit("error: reelrights serve ended before serving")


def session(url: str, home: Path, party: str) -> str:
    from reelrights.client.web_session import sign_in
    from reelrights.errors import PolicyDenied
    from reelrights.keys import load_key_file

    try:
        return sign_in(url, party, load_key_file(home / "keys" / f"{party}.pem"))
    except PolicyDenied as exc:
        raise SystemExit(f"error: {exc}") from None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--all", action="store_true", help="also the studio, guild, explorer and "
                                                       "entry pages (to choose from)")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"error: Chromium is missing at {CHROMIUM}; `make chromium` installs it "
              "(apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    from reelrights.web.session import COOKIE

    shots = {**SHOTS, **(MORE if args.all else {})}
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rr-screenshots-") as tmp:
        directory = Path(tmp) / "story"
        ids = story(directory)
        home = directory / "home"
        proc, url = serve(home)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                for name, (who, path, width, height) in shots.items():
                    context = browser.new_context(viewport={"width": width, "height": height},
                                                  device_scale_factor=1)
                    if who:
                        context.add_cookies([{"name": COOKIE, "value": session(url, home, ids[who]),
                                              "url": url}])
                    page = context.new_page()
                    page.goto(url + path.format(**ids))
                    page.wait_for_load_state("networkidle")
                    target = args.out / f"{name}.png"
                    page.screenshot(path=str(target))
                    print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
                          f"  {target.stat().st_size // 1024} KiB  ({path.format(**ids)})")
                    context.close()
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
