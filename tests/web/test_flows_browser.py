"""End to end in Chromium, as the people who use it: a performer signs in with her key file and
approves a consent request; a guild signs in and co-signs a license; a studio sees the run that
used its bundle and its earnings chart. Keys never leave the browser; what the browser signs is
byte for byte what the CLI signs."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
from web_kit import Site, screenshot, session_cookie

from reelrights.core.canonical import canonical_bytes
from reelrights.web.session import COOKIE


def _party(site: Site, name: str) -> str:
    html = httpx.get(site.url + "/parties").text
    m = re.search(r'href="/parties/(pty_[a-z2-7]{16})">' + re.escape(name) + "<", html)
    assert m, name
    return m.group(1)


def _sign_in(page: Any, site: Site, party: str) -> None:
    page.goto(site.url + "/sign-in")
    page.get_by_label("Who are you?").select_option(party)
    page.get_by_label("Your key file").set_input_files(str(site.home / "keys" / f"{party}.pem"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/parties/{party}")


def _watch_keys(page: Any, seen: list[bytes]) -> None:
    """Every request body the page sends (to prove no private key is in any)."""
    page.on("request", lambda r: seen.append(r.post_data_buffer or b""))


def _key_material(site: Site, party: str) -> list[bytes]:
    """The private key as it could leak: the PEM, its base64 body, the raw DER."""
    pem = (site.home / "keys" / f"{party}.pem").read_bytes()
    body = b"".join(pem.strip().splitlines()[1:-1])
    der = base64.b64decode(body)
    return [pem, body, der, der[-32:], base64.b64encode(der[-32:])]


def test_a_performer_approves_a_consent_request(web_site: Site, browser: Any) -> None:
    bruno = _party(web_site, "Bruno Lindqvist")
    request_id = web_site.requests["voice"]
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    sent: list[bytes] = []
    _watch_keys(page, sent)
    _sign_in(page, web_site, bruno)
    screenshot(page, "flow-performer-signed-in")
    page.get_by_role("link", name="Review and approve").click()
    page.wait_for_selector("#sign-form")  # the signing page, not the one clicked from
    assert "I, Bruno Lindqvist, consent to Orbit AI using my voice" in page.content()
    screenshot(page, "flow-performer-approve")
    page.get_by_role("button", name="Sign and send").click()
    page.wait_for_selector("#sign-form[data-done]")
    assert page.locator("#sign-form").get_attribute("data-done") == "true", \
        page.locator("#sign-status").inner_text()
    screenshot(page, "flow-performer-approved")
    # both sides see it: the performer's page, the developer's page, the guild's page, the CLI's read
    page.goto(web_site.url + f"/parties/{bruno}")
    assert "Nothing is waiting for her." in page.content()
    orbit = _party(web_site, "Orbit AI")  # the requester, signed in, sees the decision
    r = httpx.get(web_site.url + f"/parties/{orbit}",
                  cookies={COOKIE: session_cookie(web_site, orbit)}).text
    assert request_id in r and "approved" in r
    assert request_id not in httpx.get(web_site.url + f"/parties/{orbit}").text  # not anyone
    from reelrights.home import Home
    from reelrights.ledger import Ledger
    from reelrights.rights.consent_requests import request_detail

    ledger = Ledger.open(Home.open(web_site.home))
    try:
        req = request_detail(ledger.db, request_id)
    finally:
        ledger.close()
    assert req.status == "approved" and req.decided_by == bruno and req.consent
    # no private key in anything the browser sent
    for leak in _key_material(web_site, bruno):
        assert not any(leak in body for body in sent)
    context.close()


def test_a_performer_declines_with_a_reason(web_site: Site, browser: Any) -> None:
    ada = _party(web_site, "Ada Okafor")
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, web_site, ada)
    page.get_by_role("link", name="Decline").click()
    page.get_by_label(re.compile("Why")).fill("I do not allow de-ageing of my face")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_selector("#sign-form")
    assert "I, Ada Okafor, decline the request" in page.content()
    page.get_by_role("button", name="Sign and send").click()
    page.wait_for_selector("#sign-form[data-done]")
    assert page.locator("#sign-form").get_attribute("data-done") == "true"
    html = httpx.get(web_site.url + f"/parties/{ada}",
                     cookies={COOKIE: session_cookie(web_site, ada)}).text
    assert "I do not allow de-ageing of my face" in html and "declined" in html
    context.close()


def test_a_guild_cosigns_a_license(web_site: Site, browser: Any) -> None:
    guild = _party(web_site, "Screen Performers Guild")
    license_id = web_site.requests["license"]
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    sent: list[bytes] = []
    _watch_keys(page, sent)
    _sign_in(page, web_site, guild)
    assert license_id in page.content() and "Members covered" in page.content()
    screenshot(page, "flow-guild-queue")
    page.locator(f"#lic-{license_id}").get_by_role("link", name="Review and co-sign").click()
    page.get_by_role("button", name="Sign and send").click()
    page.wait_for_selector("#sign-form[data-done]")
    assert page.locator("#sign-form").get_attribute("data-done") == "true", \
        page.locator("#sign-status").inner_text()
    lic = httpx.get(web_site.url + f"/v1/licenses/{license_id}").json()
    assert lic["in_force"] is True and guild in lic["cosigned_by"]
    for leak in _key_material(web_site, guild):
        assert not any(leak in body for body in sent)
    context.close()


def test_a_studio_sees_the_run_using_its_bundle_and_its_earnings(web_site: Site,
                                                                  browser: Any) -> None:
    studio = _party(web_site, "Northlight Pictures")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(web_site.url + f"/parties/{studio}")
    assert page.locator("svg.chart").count() == 0  # its money is the studio's, not anyone's
    _sign_in(page, web_site, studio)  # signed in (a real challenge signed in the page)
    page.goto(web_site.url + f"/parties/{studio}")
    usage = page.locator("section", has=page.get_by_role("heading", name=re.compile("Usage map")))
    assert re.search(r"run run_[a-z2-7]{16} by Orbit AI", usage.inner_text())
    chart = page.locator("svg.chart")
    assert chart.count() == 1 and "USD" in chart.get_attribute("aria-label")
    assert "2027-Q1" in chart.inner_html() and "2027-Q2" in chart.inner_html()
    assert chart.bounding_box()["width"] <= 1200
    screenshot(page, "flow-studio")
    page.close()


def test_the_browser_signs_the_same_bytes_as_the_cli(web_site: Site, browser: Any) -> None:
    """The page's JCS and signature (static/keys.js) against core/statements.py: the same
    statement and key give the same envelope, byte for byte; both are accepted by the log."""
    from reelrights.core.statements import make_statement, sign_statement
    from reelrights.keys import load_key_file

    performer = _party(web_site, "Bruno Lindqvist")
    key_path = web_site.home / "keys" / f"{performer}.pem"
    registry = httpx.get(web_site.url + "/v1/log").json()["registry"]
    consent = {"id": "cns_" + "b" * 16, "performer": performer, "kinds": ["voice"],
               "description": "Voice for a radio advert for Harbour Lights, 30 seconds, English",
               "production": "Harbour Lights radio", "media": ["audio"], "territory": ["US"],
               "start": "2030-01-01", "end": "2030-12-31", "compensation_ref": "NL-2030-1",
               "represented_by": "none"}
    cli_statements = [make_statement("work.credited", performer, {"x": "é ü \u2028 😀 \"q\"",
                                                                  "a": [1, 2], "n": None,
                                                                  "B": True},
                                     registry=registry),
                      make_statement("consent.granted", performer, consent, registry=registry)]
    page = browser.new_page()
    page.goto(web_site.url + "/sign-in")
    page.wait_for_function("window.rrKeys !== undefined")
    page.evaluate("async ([p, pem]) => { await rrKeys.importPem(p, pem); }",
                  [performer + "-test", key_path.read_text()])
    public = httpx.get(web_site.url + f"/v1/parties/{performer}").json()["public_key"]
    key = load_key_file(key_path)
    for statement in cli_statements:
        from_browser = page.evaluate(
            "async ([p, s, pub]) => { const k = await rrKeys.get(p); "
            "return await rrKeys.signStatement(k, s, pub); }",
            [performer + "-test", statement, public])
        assert from_browser.encode("utf-8") == sign_statement(statement, key)
        assert canonical_bytes(json.loads(from_browser)) == from_browser.encode("utf-8")
    # submitted: the log takes the browser's envelope; the CLI's is then the same statement
    r = httpx.post(web_site.url + "/v1/statements", content=from_browser.encode("utf-8"),
                   headers={"content-type": "application/json"})
    assert r.status_code in (200, 201), r.text
    again = httpx.post(web_site.url + "/v1/statements", content=sign_statement(statement, key),
                       headers={"content-type": "application/json"})
    assert again.headers.get("reelrights-duplicate") == "true", again.text
    page.close()
