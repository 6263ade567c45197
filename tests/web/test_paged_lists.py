"""Long lists come a page at a time: a studio's catalogue, a performer's credits, the party
directory, each with Previous/Next links, its total, a 404 page past the end and a 400 for a
page that is not a number; the home page counts each kind of party instead of listing them all.
Over real HTTP on the demo story plus 130 works, 60 credits and 110 parties; one page in
Chromium under axe-core."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from service_kit import start_server
from web_kit import AXE, Site, screenshot


@pytest.fixture(scope="module")
def paged_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from reelrights.core.ids import new_id
    from reelrights.core.statements import sign_statement
    from reelrights.demo import run_demo
    from reelrights.home import Home
    from reelrights.keys import PartyKey
    from reelrights.ledger import Ledger

    mp = pytest.MonkeyPatch()
    mp.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    mp.delenv("REELRIGHTS_HOME", raising=False)
    directory = tmp_path_factory.mktemp("paged") / "story"
    ids = run_demo(directory, echo=lambda _: None)
    home = Home.open(directory / "home")
    ledger = Ledger.open(home)
    try:
        signed = []
        for i in range(110):
            key, pid = PartyKey.generate(), new_id("party")
            body = {"id": pid, "kind": "performer", "name": f"Extra Performer {i:03d}",
                    "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
            signed.append(sign_statement(ledger.new_statement("party.registered", pid, body),
                                         key))
        studio_key = home.party_key(ids["studio"])
        for i in range(130):
            wid = new_id("work")
            body = {"id": wid, "kind": "film", "owner": ids["studio"], "title": f"Reel {i:03d}",
                    "assets": [{"sha256": f"{i:064x}", "size": 1000, "media_type": "video/mp4",
                                "category": "video", "name": "reel.mp4"}]}
            signed.append(sign_statement(ledger.new_statement("work.registered", ids["studio"],
                                                              body), studio_key))
            if i < 60:
                credit = {"work": wid, "party": ids["lead"], "role": "performer", "share": "0.5"}
                signed.append(sign_statement(ledger.new_statement(
                    "work.credited", ids["studio"], credit), studio_key))
        ledger.submit(signed)
    finally:
        ledger.close()
    server = start_server(home)
    try:
        yield Site(server, ids)
    finally:
        server.stop()
        mp.undo()


def _rows(html: str, section: str) -> list[str]:
    """The link texts of the table rows in the section with id ``section``."""
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a>', part)


def test_the_studio_catalogue_pages_through_every_work(paged_site: Site) -> None:
    studio = paged_site.ids["studio"]
    first = httpx.get(paged_site.url + f"/parties/{studio}")
    assert first.status_code == 200
    assert re.search(r"Catalogue \(13[0-9] works\)", first.text)  # the demo's works and 130
    total = int(re.search(r"Catalogue \((\d+) works\)", first.text).group(1))
    seen = _rows(first.text, "catalogue")
    assert len(seen) == 50 and f"1–50 of {total}" in first.text
    assert f'href="/parties/{studio}?page=2#catalogue"' in first.text and 'rel="prev"' not in first.text
    number = 1
    while 'rel="next"' in (html := httpx.get(paged_site.url + f"/parties/{studio}?page={number}").text):
        number += 1
        html = httpx.get(paged_site.url + f"/parties/{studio}?page={number}").text
        seen += _rows(html, "catalogue")
        assert f'href="/parties/{studio}?page={number - 1}#catalogue"' in html
    assert number == 3 and len(seen) == total == len(set(seen))
    assert "Reel 000" in seen and "Reel 129" in seen
    past = httpx.get(paged_site.url + f"/parties/{studio}?page=4")
    assert past.status_code == 404 and "page 4 does not exist" in past.text
    for raw in ("two", "\u00b2", "\u0663"):  # a word, a superscript two, an Arabic-Indic 3
        bad = httpx.get(paged_site.url + f"/parties/{studio}", params={"page": raw})
        assert bad.status_code == 400 and "not a page number" in bad.text, raw


def test_a_performers_credits_page_through(paged_site: Site) -> None:
    lead = paged_site.ids["lead"]
    first = httpx.get(paged_site.url + f"/parties/{lead}").text
    total = int(re.search(r"Her credits \((\d+)\)", first).group(1))
    assert total >= 60 and len(_rows(first, "credits")) == 50
    second = httpx.get(paged_site.url + f"/parties/{lead}?page=2").text
    rest = _rows(second, "credits")
    assert len(rest) == total - 50 and not set(rest) & set(_rows(first, "credits"))
    assert f"51–{total} of {total}" in second and 'rel="next"' not in second


def test_the_directory_pages_and_the_home_counts(paged_site: Site) -> None:
    first = httpx.get(paged_site.url + "/parties?kind=performer").text
    names = re.findall(r'<td><a href="/parties/pty_[a-z2-7]{16}">([^<]+)</a>', first)
    assert len(names) == 100 and 'href="/parties?kind=performer&amp;page=2"' in first
    second = httpx.get(paged_site.url + "/parties?kind=performer&page=2").text
    more = re.findall(r'<td><a href="/parties/pty_[a-z2-7]{16}">([^<]+)</a>', second)
    assert len(names) + len(more) == 112 and not set(names) & set(more)  # 2 demo performers
    home = httpx.get(paged_site.url + "/").text
    assert "Performers (112)" in home and 'href="/parties?kind=performer">all 112' in home
    assert home.count("Extra Performer") == 10  # the first 12 performers: the demo's two, ten


def test_a_paged_page_is_accessible(paged_site: Site, browser: Any) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is missing: make test installs it (npm) into build/axe")
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(paged_site.url + f"/parties/{paged_site.ids['studio']}?page=2")
    page.get_by_role("link", name="Next 50").click()
    assert page.url.endswith("?page=3#catalogue")
    screenshot(page, "studio-catalogue-page-3")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    context.close()


def _entries(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr><td><a href="/log/(\d+)">#', html)]


def test_the_log_pages_back_by_index(paged_site: Site) -> None:
    size = httpx.get(paged_site.url + "/v1/log").json()["size"]
    first = httpx.get(paged_site.url + "/log")
    assert first.status_code == 200
    seen = _entries(first.text)
    assert seen == list(range(size - 1, size - 51, -1))  # the newest 50
    while m := re.search(r'href="/log\?before=(\d+)">Older', html := first.text):
        first = httpx.get(paged_site.url + f"/log?before={m.group(1)}")
        assert 'href="/log">Newest' in first.text
        seen += _entries(first.text)
    assert seen == list(range(size - 1, -1, -1)) and "Older" not in html  # every entry once
    home = httpx.get(paged_site.url + "/").text
    assert 'href="/log">Every entry' in home
    for bad in ("before=x", "by=nobody"):
        assert httpx.get(paged_site.url + f"/log?{bad}").status_code == 400


def test_a_partys_older_statements_are_on_the_log_page(paged_site: Site) -> None:
    studio = paged_site.ids["studio"]
    page = httpx.get(paged_site.url + f"/parties/{studio}").text
    part = page.split('id="stm-h"', 1)[1]
    shown = _entries(part)
    assert len(shown) == 30
    m = re.search(rf'href="/log\?by={studio}&amp;before=(\d+)">Older statements', part)
    assert m and int(m.group(1)) == shown[-1]
    older = httpx.get(paged_site.url + f"/log?by={studio}&before={m.group(1)}").text
    rows = _entries(older)
    assert rows and max(rows) < shown[-1] and "Statements signed by" in older
    entry = httpx.get(paged_site.url + f"/log/{rows[0]}").text
    assert studio in entry  # signed by the studio
    writer = paged_site.ids["writer"]  # a party with few statements: no link
    assert "Older statements" not in httpx.get(paged_site.url + f"/parties/{writer}").text
