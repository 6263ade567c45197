"""A key made in the browser, in Chromium: a performer joins at /join, her key is made
non-extractable in the page, the page refuses to sign with it before she has made and saved her
recovery key (and the log refuses what a script signs around the page), she saves the recovery
key file (the CLI reads it), joins, signs in with the key the browser kept, and approves a
consent request. No private key, neither hers nor the recovery key, is in any request."""

from __future__ import annotations

import base64
import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_kit import AXE, Site, screenshot

from reelrights.core.statements import sign_statement
from reelrights.keys import PartyKey, load_key_file

#: A script that signs around the page's rule: the registration alone, straight to the log.
_SIGN_AROUND = """async ([party, fields]) => {
  const r = await rrKeys.getRecord(party);
  const prep = await fetch("/join/statements", {method: "POST",
                                                body: new URLSearchParams(fields)});
  const [s] = await prep.json();
  const msg = rrKeys.enc.encode("reelrights/statement/v2\\n" + s.registry + "\\n" + rrKeys.jcs(s));
  const sig = new Uint8Array(await crypto.subtle.sign({name: "Ed25519"}, r.key, msg));
  const raw = Uint8Array.from(atob(r.publicKey), (c) => c.charCodeAt(0));
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  const keyid = Array.from(d.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  const env = rrKeys.jcs({signature: {alg: "Ed25519", keyid, sig: rrKeys.b64(sig)},
                          statement: s});
  const resp = await fetch("/v1/statements", {method: "POST",
                           headers: {"content-type": "application/json"}, body: env});
  return [resp.status, (await resp.json()).detail || ""];
}"""


def _material(pem: bytes) -> list[bytes]:
    """A private key as it could leak: the PEM, its base64 body, the DER, the seed."""
    body = b"".join(pem.strip().splitlines()[1:-1])
    der = base64.b64decode(body)
    return [pem, body, der, der[-32:], base64.b64encode(der[-32:]), der[-32:].hex().encode()]


def _status(page: Any) -> str:
    return str(page.locator("#join-status").inner_text())


def _submit_and_wait(page: Any) -> str:
    page.evaluate("() => { delete document.getElementById('join').dataset.done; }")
    page.get_by_role("button", name="Sign and join").click()
    page.wait_for_selector("#join[data-done]")
    return str(page.locator("#join").get_attribute("data-done"))


def test_a_performer_joins_with_a_key_made_in_the_browser(web_site: Site, browser: Any,
                                                          tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    sent: list[bytes] = []
    page.on("request", lambda r: sent.append(r.post_data_buffer or b""))
    page.goto(web_site.url + "/join")
    party = page.locator("#join").get_attribute("data-party")
    assert re.fullmatch(r"pty_[a-z2-7]{16}", party)
    page.get_by_label("Your name, as others will read it").fill("Mira Sol")
    page.get_by_label("You are a").select_option("performer")
    page.get_by_role("button", name="Make my key in this browser").click()
    page.wait_for_selector("#join[data-key]")
    record = page.evaluate("async (p) => { const r = await rrKeys.getRecord(p); return "
                           "{origin: r.origin, logged: r.recoveryLogged, "
                           "extractable: r.key.extractable, pub: r.publicKey}; }", party)
    assert record["origin"] == "browser" and record["logged"] is False
    assert record["extractable"] is False  # no script can read the key back
    assert page.evaluate("async (p) => { const r = await rrKeys.getRecord(p); try { await "
                         "crypto.subtle.exportKey('pkcs8', r.key); return 'exported'; } "
                         "catch (e) { return 'refused'; } }", party) == "refused"

    # 1. Before the recovery key: the page's signing code refuses, in words.
    assert _submit_and_wait(page) == "false"
    assert "has no recovery key registered yet, so it signs nothing" in _status(page)
    screenshot(page, "join-refused-before-recovery")
    refused = page.evaluate("async (p) => { const r = await rrKeys.getRecord(p); try { await "
                            "rrKeys.signStatement(r, {type: 'consent.granted', registry: 'x'}, "
                            "r.publicKey); return 'signed'; } catch (e) { return e.message; } }",
                            party)
    assert "no recovery key registered yet" in refused
    # 2. A script signing around the page: the log refuses the registration alone.
    status, detail = page.evaluate(_SIGN_AROUND, [party, {
        "party": party, "kind": "performer", "name": "Mira Sol", "public_key": record["pub"]}])
    assert status == 422 and "recovery key must be set in the same batch" in detail, detail
    assert httpx.get(web_site.url + f"/v1/parties/{party}").status_code == 404

    # 3. The recovery key: shown once, saved as a key file the CLI reads.
    page.get_by_role("button", name="Make my recovery key").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the recovery key file").click()
    saved = tmp_path / "recovery.pem"
    download.value.save_as(saved)
    recovery = load_key_file(saved)
    assert page.locator("#recovery-pem").input_value() == saved.read_text()
    screenshot(page, "join-recovery-key")
    page.get_by_label("I saved my recovery key file offline").check()
    assert _submit_and_wait(page) == "true", _status(page)
    assert re.search(r"Joined: your registration is entry #\d+ and your recovery key's entry "
                     r"#\d+", _status(page))
    screenshot(page, "join-done")
    # The browser forgot the recovery key: the page no longer shows it, IndexedDB holds only
    # the party's own (non-extractable) key, now marked as having its recovery key logged.
    assert page.locator("#recovery-pem").input_value() == ""
    after = page.evaluate("async (p) => { const r = await rrKeys.getRecord(p); return "
                          "{keys: Object.keys(r).sort(), logged: r.recoveryLogged, "
                          "pub: r.publicKey}; }", party)
    assert after == {"keys": ["key", "origin", "publicKey", "recoveryLogged"], "logged": True,
                     "pub": record["pub"]}
    stored = page.evaluate("""async () => new Promise((ok) => {
        const q = indexedDB.open("reelrights-keys", 1);
        q.onsuccess = () => { const all = q.result.transaction("keys").objectStore("keys")
                                .getAllKeys(); all.onsuccess = () => ok(all.result); };
    })""")
    assert stored == [party]

    # The log: registered with key_origin browser, and the recovery key is the saved file's.
    from reelrights.home import Home
    from reelrights.identity.keys import key_history
    from reelrights.ledger import Ledger

    ledger = Ledger.open(Home.open(web_site.home))
    try:
        keys = key_history(ledger.db, party, ledger.registry, 3600)["keys"]
        assert [(k["role"], k["public_key"]) for k in keys] == [
            ("signing", record["pub"]),
            ("recovery", base64.b64encode(recovery.public_key_bytes).decode())]
        # 4. A developer asks her; she signs in with the key the browser kept, and approves.
        from reelrights.rights.consent_requests import request_consent, request_detail

        request_id = request_consent(
            Home.open(web_site.home), ledger, requester="Orbit AI", performer=party,
            kinds=["voice"], description="Voice for the lighthouse keeper in the Harbour Lights "
            "trailer, English lines only", production="Harbour Lights trailer", media=["audio"],
            territory=["US"], start=date(2027, 1, 1), end=date(2027, 12, 31),
            compensation_ref="ORB-2027-031").details["id"]
        page.locator("#join-status").get_by_role("link", name="Sign in now").click()
        page.wait_for_url("**/sign-in?party=*")
        page.get_by_role("button", name="Sign in").click()  # no key file: the browser holds it
        page.wait_for_url(f"**/parties/{party}")
        page.get_by_role("link", name="Review and approve").click()
        page.wait_for_selector("#sign-form")  # the signing page, not the one clicked from
        assert "I, Mira Sol, consent to Orbit AI using my voice" in page.content()
        page.get_by_role("button", name="Sign and send").click()
        page.wait_for_selector("#sign-form[data-done]")
        assert page.locator("#sign-form").get_attribute("data-done") == "true", \
            page.locator("#sign-status").inner_text()
        req = request_detail(ledger.db, request_id)
        assert req.status == "approved" and req.decided_by == party and req.consent
    finally:
        ledger.close()
    # No private key in anything the browser sent: not the recovery key (its file is the only
    # copy), and the party's own key cannot be exported at all (checked above).
    for leak in _material(saved.read_bytes()):
        assert not any(leak in body for body in sent)
    context.close()


def test_the_log_refuses_a_browser_key_without_its_recovery_key_over_http(
        web_site: Site) -> None:
    """The attacker's submissions straight to the API, signed with a real key: the join page's
    statements without the recovery key; the recovery key's with something signed before it."""
    key, recovery = PartyKey.generate(), PartyKey.generate()
    party = "pty_" + "m" * 16
    pub = base64.b64encode(key.public_key_bytes).decode()
    fields = {"party": party, "kind": "writer", "name": "Ivo Brandt", "public_key": pub}
    alone = httpx.post(web_site.url + "/join/statements", data=fields).json()
    assert [s["type"] for s in alone] == ["party.registered"]
    r = httpx.post(web_site.url + "/v1/statements", content=sign_statement(alone[0], key),
                   headers={"content-type": "application/json"})
    assert r.status_code == 422 and "recovery key must be set in the same batch" in \
        r.json()["detail"], r.text
    from reelrights.core.key_history import possession_message

    registry = httpx.get(web_site.url + "/v1/log").json()["registry"]
    rpub = base64.b64encode(recovery.public_key_bytes).decode()
    proof = base64.b64encode(recovery.sign(possession_message(registry, party, 1, "recovery",
                                                              rpub))).decode()
    both = httpx.post(web_site.url + "/join/statements",
                      data={**fields, "recovery_key": rpub, "recovery_proof": proof}).json()
    early = dict(both[1], type="consent.granted", id="stm_" + "q" * 16, body={  # signed
        "id": "cns_" + "q" * 16, "performer": party, "kinds": ["voice"],  # before the recovery
        "description": "Voice for a radio advert for Harbour Lights, 30 seconds, English",
        "production": "Harbour Lights radio", "media": ["audio"], "territory": ["US"],
        "start": "2030-01-01", "end": "2030-12-31", "compensation_ref": "NL-2030-1",
        "represented_by": "none"})  # key's statement, in the same batch
    batch = b"\n".join(sign_statement(s, key) for s in (both[0], early, both[1])) + b"\n"
    r = httpx.post(web_site.url + "/v1/statements", content=batch,
                   headers={"content-type": "application/jsonl"})
    assert r.status_code == 422 and r.json()["position"] == 1, r.text
    assert "has no recovery key yet, so it signs no consent.granted" in r.json()["detail"]
    assert httpx.get(web_site.url + f"/v1/parties/{party}").status_code == 404
    # a bad proof is refused before anything is signed, in one line
    wrong = base64.b64encode(recovery.sign(b"something else")).decode()
    r = httpx.post(web_site.url + "/join/statements",
                   data={**fields, "recovery_key": rpub, "recovery_proof": wrong})
    assert r.status_code == 400 and "recovery_proof" in r.json()["detail"]


def test_the_join_page_is_accessible_with_its_recovery_key_shown(web_site: Site,
                                                                browser: Any) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is missing: make test installs it (npm) into build/axe")
    context = browser.new_context(bypass_csp=True)  # only to inject axe-core
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(web_site.url + "/join")
    page.get_by_role("button", name="Make my key in this browser").click()
    page.wait_for_selector("#join[data-key]")
    page.get_by_role("button", name="Make my recovery key").click()
    page.wait_for_selector("#recovery:not([hidden])")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["help"]) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad and not errors, (bad, errors)
    context.close()
