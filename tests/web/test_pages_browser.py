"""Every page in Chromium: it renders, its script runs under the Content-Security-Policy, axe-core
finds no serious or critical accessibility violation, and a screenshot is kept."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from web_kit import AXE, Site, screenshot, session_cookie

from reelrights.web.session import COOKIE


def _party_ids(site: Site) -> dict[str, str]:
    html = httpx.get(site.url + "/parties").text
    out = {}
    for pid, name in re.findall(r'href="/parties/(pty_[a-z2-7]{16})">([^<]+)<', html):
        out[name] = pid
    return out


def _pages(site: Site) -> dict[str, str]:
    parties = _party_ids(site)
    pages = {"explorer": "/", "parties": "/parties", "entry": "/log/6", "log": "/log?before=40"}
    for label, name in (("performer", "Ada Okafor"), ("performer-2", "Bruno Lindqvist"),
                        ("guild", "Screen Performers Guild"), ("studio", "Northlight Pictures"),
                        ("developer", "Orbit AI"), ("auditor", "Fair Audit LLP"),
                        ("writer", "Mara Ellison")):
        pages[label] = f"/parties/{parties[name]}"
    performer = httpx.get(site.url + pages["performer"]).text
    m = re.search(r'href="(/royalty-statements/fst_[a-z2-7]{16})"', performer)
    assert m, "the performer's page links her royalty statement"
    pages["royalty-statement"] = m.group(1)
    studio = httpx.get(site.url + pages["studio"]).text
    for kind in ("licenses", "runs", "certificates", "outputs", "bundles", "works"):
        m = re.search(rf'href="(/{kind}/[a-z]{{3}}_[a-z2-7]{{16}})"', studio)
        if m:
            pages[kind[:-1]] = m.group(1)
    auditor = httpx.get(site.url + pages["auditor"]).text
    m = re.search(r'href="(/challenges/chl_[a-z2-7]{16})"', auditor)
    assert m, "the auditor's page links its challenges"
    pages["challenge"] = m.group(1)
    pages["join"] = "/join"
    # the form, filled in (an answer is the signed-in licensee's alone: the walk signs in as a
    # performer; the answers are checked in tests/web/test_check_and_audits_browser.py)
    pages["check"] = (f"/check?licensee={parties['Orbit AI']}&bundle="
                      f"{site.ids['bundle']}&model_family=orbit-video&territory=US&on=2027-03-01")
    return pages


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_every_page_renders_accessibly(web_site: Site, browser: Any) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is missing: make test installs it (npm) into build/axe")
    # bypass_csp only so the test can inject axe-core; the pages' own CSP is checked below.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    problems = {}
    ada = _party_ids(web_site)["Ada Okafor"]  # her royalty statement is hers to read
    context.add_cookies([{"name": COOKIE, "value": session_cookie(web_site, ada),
                          "url": web_site.url}])
    for name, path in _pages(web_site).items():
        response = page.goto(web_site.url + path)
        assert response is not None and response.status == 200, (name, path)
        page.wait_for_load_state("networkidle")
        screenshot(page, name)
        bad = _axe(page)
        if bad:
            problems[name] = [(v["id"], v["impact"], v["help"],
                               [n["target"] for n in v["nodes"][:3]]) for v in bad]
    assert not errors, errors
    assert not problems, problems
    context.close()


def test_pages_carry_the_security_headers(web_site: Site) -> None:
    for path in ("/", "/log/1", "/static/site.css", "/static/proof.js", "/parties"):
        r = httpx.get(web_site.url + path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_no_inline_script_or_style_in_any_page(web_site: Site) -> None:
    ada = _party_ids(web_site)["Ada Okafor"]
    cookies = {COOKIE: session_cookie(web_site, ada)}
    for path in _pages(web_site).values():
        html = httpx.get(web_site.url + path, cookies=cookies).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        if path.startswith("/royalty-statements/"):  # the statement file's own style block,
            continue  # allowed by its hash only (test_the_statement_page_allows_only_its_style)
        assert " style=" not in html and "<style" not in html, path
        assert " on" + "click=" not in html, path


def test_the_explorer_verifies_an_inclusion_proof_in_the_page(web_site: Site,
                                                               browser: Any) -> None:
    context = browser.new_context()  # the page's own CSP applies: the script must run under it
    page = context.new_page()
    page.goto(web_site.url + "/")
    page.get_by_label("Find").fill("6")
    page.get_by_role("button", name="Go").click()
    page.wait_for_selector("#proof[data-verified]")
    assert page.locator("#proof").get_attribute("data-verified") == "true", \
        page.locator("#proof-result").inner_text() + page.locator("#proof-steps").inner_text()
    assert "Verified in your browser" in page.locator("#proof-result").inner_text()
    screenshot(page, "entry-verified")
    context.close()


def test_a_tampered_proof_is_refused_in_the_page(web_site: Site, browser: Any) -> None:
    """The check is real: a proof altered in transit makes the page say 'Not verified'."""
    context = browser.new_context()
    page = context.new_page()

    def tamper(route: Any) -> None:
        body = route.fetch().json()
        body["proof"][0] = "00" * 32
        route.fulfill(json=body)

    page.route("**/v1/proofs/inclusion*", tamper)
    page.goto(web_site.url + "/log/6")
    page.wait_for_selector("#proof[data-verified]")
    assert page.locator("#proof").get_attribute("data-verified") == "false"
    assert "Not verified" in page.locator("#proof-result").inner_text()
    context.close()


def test_unknown_pages_and_bad_ids_are_error_pages(web_site: Site) -> None:
    r = httpx.get(web_site.url + "/parties/pty_aaaaaaaaaaaaaaaa")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert "no party" in r.text
    r = httpx.get(web_site.url + "/log/999999")
    assert r.status_code == 404 and "does not exist" in r.text
    r = httpx.get(web_site.url + "/find?q=<script>")
    assert r.status_code == 400 and "<script>" not in r.text
    r = httpx.get(web_site.url + "/static/../pages.py")
    assert r.status_code == 404


def test_the_statement_page_allows_only_its_style(web_site: Site) -> None:
    import base64
    import hashlib

    path = _pages(web_site)["royalty-statement"]
    ada = _party_ids(web_site)["Ada Okafor"]
    r = httpx.get(web_site.url + path, cookies={COOKIE: session_cookie(web_site, ada)})
    style = re.search(r"<style>(.*?)</style>", r.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = r.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in csp and "unsafe-inline" not in csp
    assert "<script" not in r.text
