"""The developer's check form and the auditor's read views, in Chromium: a developer checks a
use of its licensed bundle (allowed, then denied with the reasons in words) and a manifest; the
answers are the CLI's ``check``'s, reason for reason. The auditor's page links each challenge
to a page telling how it ended, with the certificate, and where the (private) response is.
axe-core finds no serious or critical violation on any of them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest
from service_kit import CLI
from web_kit import AXE, Site, screenshot, session_cookie

from reelrights.web.session import COOKIE


def _cli(site: Site, *args: str) -> tuple[int, Any]:
    proc = subprocess.run([sys.executable, "-c", CLI, "--home", str(site.home), *args, "--json"],
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout)


def _axe(page: Any, name: str) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is missing: make test installs it (npm) into build/axe")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]])
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, (name, bad)


def _reasons(page: Any) -> list[str]:
    return [str(t) for t in page.locator("#answer ul li").all_inner_texts()]


def test_a_developer_checks_a_use_of_its_bundle_in_words(web_site: Site, browser: Any) -> None:
    dev, bundle = web_site.ids["developer"], web_site.ids["bundle"]
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(web_site, dev),
                          "url": web_site.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(web_site.url + f"/parties/{dev}")
    page.locator("tr", has=page.get_by_role("link", name=web_site.ids["license"])) \
        .get_by_role("link", name=re.compile("check a use")).click()
    assert page.get_by_label("With this bundle").input_value() == bundle
    assert page.get_by_label("Who would use it").input_value() == dev
    page.get_by_label("To do what").select_option("train")
    page.get_by_text("More about the use").click()
    page.get_by_label("Model family").fill("orbit-video")
    page.get_by_label("Territory (ISO 3166 code, e.g. US)").fill("US")
    page.get_by_label("On (default: today)").fill("2027-03-01")
    page.get_by_role("button", name="Check").click()
    answer = page.locator("#answer")
    assert answer.get_attribute("data-decision") == "allow", answer.inner_text()
    assert f"Allowed: Orbit AI may train on bundle {bundle}" in \
        " ".join(answer.locator("h2").inner_text().split())
    code, cli = _cli(web_site, "check", "--licensee", dev, "--action", "train", "--bundle",
                     bundle, "--model-family", "orbit-video", "--territory", "US", "--date",
                     "2027-03-01")
    assert code == 0 and cli["allowed"] is True and _reasons(page) == cli["reasons"]
    screenshot(page, "check-allowed")
    _axe(page, "check-allowed")
    # the same use in France: denied, with the license's rule in words
    page.get_by_label("Territory (ISO 3166 code, e.g. US)").fill("FR")
    page.get_by_role("button", name="Check").click()
    assert answer.get_attribute("data-decision") == "deny"
    assert "Orbit AI may not train on" in answer.inner_text()
    code, cli = _cli(web_site, "check", "--licensee", dev, "--action", "train", "--bundle",
                     bundle, "--model-family", "orbit-video", "--territory", "FR", "--date",
                     "2027-03-01")
    assert code == 3 and cli["allowed"] is False and _reasons(page) == cli["reasons"]
    assert any("spatial" in r for r in _reasons(page))
    screenshot(page, "check-denied")
    _axe(page, "check-denied")
    # bad input: one line on the form, nothing checked
    page.get_by_label("With this bundle").fill("no-such-bundle")
    page.get_by_role("button", name="Check").click()
    assert "Not checked:" in page.get_by_role("alert").inner_text()
    assert page.locator("#answer").count() == 0
    assert not errors, errors
    context.close()


def test_a_developer_checks_a_manifest(web_site: Site, browser: Any, tmp_path: Any) -> None:
    dev, bundle = web_site.ids["developer"], web_site.ids["bundle"]
    shas = [a["sha256"] for w in httpx.get(web_site.url + f"/v1/bundles/{bundle}").json()["works"]
            for a in httpx.get(web_site.url + f"/v1/works/{w['id']}").json()["assets"]]
    assert shas
    stranger = "e" * 64  # registered nowhere: denied
    manifest = "\n".join([*shas, stranger])
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(web_site, dev),
                          "url": web_site.url}])
    page = context.new_page()
    page.goto(web_site.url + f"/check?licensee={dev}")
    page.get_by_label("Or with every item of a manifest").fill(manifest)
    page.get_by_text("More about the use").click()
    page.get_by_label("Model family").fill("orbit-video")
    page.get_by_label("Territory (ISO 3166 code, e.g. US)").fill("US")
    page.get_by_label("On (default: today)").fill("2027-03-01")
    page.get_by_role("button", name="Check").click()
    heading = page.locator("#answer h2").inner_text()
    n = len(shas) + 1
    assert heading == f"{n} items: {n - 1} allowed, 1 denied", heading
    path = tmp_path / "manifest.txt"
    path.write_text(manifest + "\n")
    code, cli = _cli(web_site, "check", "--licensee", dev, "--action", "train", "--manifest",
                     str(path), "--model-family", "orbit-video", "--territory", "US", "--date",
                     "2027-03-01")
    assert code == 3 and cli == {"items": n, "allow": n - 1, "deny": 1}
    denied = page.locator("#answer .request", has=page.locator(".badge.bad"))
    assert denied.count() == 1 and "1 item" in denied.locator("h3").inner_text()
    denied.get_by_text("The items").click()
    assert stranger in denied.inner_text()
    screenshot(page, "check-manifest")
    _axe(page, "check-manifest")
    context.close()


def test_the_auditor_sees_each_challenge_and_how_it_ended(web_site: Site,
                                                          browser: Any) -> None:
    auditor, cert = web_site.ids["auditor"], web_site.ids["certificate"]
    context = browser.new_context(bypass_csp=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(web_site.url + f"/parties/{auditor}")
    assert "goes to the auditor only, never to this server or the log" in page.content()
    row = page.locator("tr", has=page.get_by_role("link", name=cert))
    challenge = row.get_by_role("link", name=re.compile(r"^chl_")).inner_text()
    row.get_by_role("link", name=challenge).click()
    page.wait_for_url(f"**/challenges/{challenge}")
    outcome = page.locator("#outcome")
    assert outcome.get_attribute("data-status") == "certified"
    assert "pass" in outcome.inner_text() and cert in outcome.inner_text()
    assert f"reelrights audit respond {challenge}" in page.content()
    assert "Fair Audit LLP" in page.content() and "Orbit AI" in page.content()
    # the same facts as the CLI's run audit list
    run = page.get_by_role("link", name=re.compile(r"^run_")).first.inner_text()
    code, shown = _cli(web_site, "audit", "show", run)
    mine = next(a for a in shown["audits"] if a["challenge"] == challenge)
    assert code == 0 and mine["status"] == "certified" and mine["certificate"] == cert
    screenshot(page, "challenge")
    _axe(page, "challenge")
    outcome.get_by_role("link", name=cert).click()
    page.wait_for_url(f"**/certificates/{cert}")
    # the search box knows challenge ids; an unknown one is a 404 page
    page.goto(web_site.url + f"/find?q={challenge}")
    assert page.url.endswith(f"/challenges/{challenge}")
    r = httpx.get(web_site.url + "/challenges/chl_aaaaaaaaaaaaaaaa")
    assert r.status_code == 404 and "no audit challenge" in r.text
    context.close()


def test_only_the_signed_in_licensee_gets_an_answer(web_site: Site) -> None:
    """The verdict and its reasons come from the licence terms (a sealed license hides them):
    anyone else asking, signed in or not, is refused and learns nothing."""
    dev, bundle = web_site.ids["developer"], web_site.ids["bundle"]
    ask = {"licensee": dev, "bundle": bundle, "action": "train", "territory": "FR"}
    anyone = httpx.get(web_site.url + "/check", params=ask)
    assert anyone.status_code == 403 and "sign in as the licensee" in anyone.text
    assert "Allowed" not in anyone.text and "Denied" not in anyone.text
    studio = web_site.ids["studio"]
    other = httpx.get(web_site.url + "/check", params=ask,
                      cookies={COOKIE: session_cookie(web_site, studio)})
    assert other.status_code == 403 and "sign in as the licensee" in other.text
    mine = httpx.get(web_site.url + "/check", params=ask,
                     cookies={COOKIE: session_cookie(web_site, dev)})
    assert mine.status_code == 200 and ("Allowed" in mine.text or "Denied" in mine.text)
