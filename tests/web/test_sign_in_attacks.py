"""Sign-in and the acting pages under attack, over real HTTP: a forged or replayed challenge
signature, another party's key, a form without its CSRF token, a session past its time, a page
that acts for someone else. The signatures are real Ed25519 signatures."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any

import httpx
import pytest
from web_kit import Site

from reelrights.errors import PolicyDenied
from reelrights.keys import load_key_file
from reelrights.store.db import Database
from reelrights.web.session import COOKIE, SESSION_S, Sessions, challenge_text


def _party(site: Site, name: str) -> str:
    html = httpx.get(site.url + "/parties").text
    m = re.search(r'href="/parties/(pty_[a-z2-7]{16})">' + re.escape(name) + "<", html)
    assert m, name
    return m.group(1)


def _challenge(client: httpx.Client, party: str) -> dict:
    r = client.post("/sign-in/challenge", data={"party": party})
    assert r.status_code == 200, r.text
    return r.json()


def _signed(site: Site, signer: str, text: str) -> str:
    key = load_key_file(site.home / "keys" / f"{signer}.pem")
    return base64.b64encode(key.sign(text.encode())).decode()


def _sign_in(client: httpx.Client, site: Site, party: str,
             signer: str | None = None) -> httpx.Response:
    c = _challenge(client, party)
    return client.post("/sign-in", data={"party": party, "nonce": c["nonce"],
                                         "signature": _signed(site, signer or party, c["text"])})


def test_the_challenge_names_this_registry_and_party(web_site: Site) -> None:
    bruno = _party(web_site, "Bruno Lindqvist")
    with httpx.Client(base_url=web_site.url) as client:
        c = _challenge(client, bruno)
    registry = httpx.get(web_site.url + "/v1/log").json()["registry"]
    assert c["text"] == challenge_text(registry, bruno, c["nonce"])
    assert c["text"].startswith("reelrights/sign-in/v1\n")  # never a statement's signing context


def test_a_good_signature_opens_a_session_with_a_strict_cookie(web_site: Site) -> None:
    bruno = _party(web_site, "Bruno Lindqvist")
    with httpx.Client(base_url=web_site.url) as client:
        r = _sign_in(client, web_site, bruno)
        assert r.status_code == 303 and r.headers["location"] == f"/parties/{bruno}"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=1800" in cookie
        assert "Sign out Bruno Lindqvist" in client.get(f"/parties/{bruno}").text


def test_another_partys_key_is_refused(web_site: Site) -> None:
    """Impersonation: Orbit AI signs Bruno's challenge with its own key."""
    bruno, orbit = _party(web_site, "Bruno Lindqvist"), _party(web_site, "Orbit AI")
    with httpx.Client(base_url=web_site.url) as client:
        r = _sign_in(client, web_site, bruno, signer=orbit)
        assert r.status_code == 403 and "does not match" in r.text
        assert "set-cookie" not in r.headers


def test_a_challenge_is_good_once_and_for_its_party_only(web_site: Site) -> None:
    bruno, ada = _party(web_site, "Bruno Lindqvist"), _party(web_site, "Ada Okafor")
    with httpx.Client(base_url=web_site.url) as client:
        c = _challenge(client, bruno)
        sig = _signed(web_site, bruno, c["text"])
        ok = client.post("/sign-in", data={"party": bruno, "nonce": c["nonce"], "signature": sig})
        assert ok.status_code == 303
        replay = client.post("/sign-in", data={"party": bruno, "nonce": c["nonce"],
                                               "signature": sig})
        assert replay.status_code == 403 and "unknown, used or expired" in replay.text
        # a challenge issued for Ada cannot sign in Bruno
        c2 = _challenge(client, ada)
        swap = client.post("/sign-in", data={"party": bruno, "nonce": c2["nonce"],
                                             "signature": _signed(web_site, bruno, c2["text"])})
        assert swap.status_code == 403


def test_forms_need_their_csrf_token(web_site: Site) -> None:
    bruno = _party(web_site, "Bruno Lindqvist")
    with httpx.Client(base_url=web_site.url) as client:
        _sign_in(client, web_site, bruno)
        bad = client.post("/sign-out", data={"csrf": "forged"})
        assert bad.status_code == 400 and "CSRF" in bad.text
        page = client.get(f"/parties/{bruno}").text
        assert "Sign out" in page  # still signed in
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        out = client.post("/sign-out", data={"csrf": token})
        assert out.status_code == 303
        assert "Sign out" not in client.get(f"/parties/{bruno}").text


def test_acting_pages_refuse_anyone_but_the_party(web_site: Site) -> None:
    """Orbit AI (the requester) cannot approve for Ada, nor co-sign as a guild."""
    orbit, ada = _party(web_site, "Orbit AI"), _party(web_site, "Ada Okafor")
    html = httpx.get(web_site.url + f"/parties/{ada}").text
    # her pending requests are hers to see (docs/visibility.md): anyone sees no action on them
    assert "Review and approve" not in html and "ORB-2027-015" not in html
    rid = web_site.requests["likeness"]
    r = httpx.get(web_site.url + f"/requests/{rid}/approve")
    assert r.status_code == 403 and "sign in first" in r.text
    with httpx.Client(base_url=web_site.url) as client:
        _sign_in(client, web_site, orbit)
        r = client.get(f"/requests/{rid}/approve")
        assert r.status_code == 403 and "only" in r.text
        r = client.get(f"/licenses/{web_site.requests['license']}/cosign")
        assert r.status_code == 400 and "only a guild" in r.text


def test_a_non_form_post_is_refused(web_site: Site) -> None:
    r = httpx.post(web_site.url + "/sign-in", content=b'{"party": "x"}',
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and "x-www-form-urlencoded" in r.text
    r = httpx.post(web_site.url + "/sign-in/challenge", data={"party": "x" * 20_000})
    assert r.status_code == 400 and "over" in r.text


def test_sessions_expire_and_challenges_too(home: Any) -> None:
    """On both backends: a session ends after SESSION_S, a challenge after two minutes."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    now = [time.time()]
    sessions = Sessions(Database(home.database_url), clock=lambda: now[0])
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    nonce = sessions.challenge("pty_a")
    sig = base64.b64encode(key.sign(challenge_text("reg", "pty_a", nonce).encode())).decode()
    token, _ = sessions.open("pty_a", nonce, sig, public, "reg", "A", "performer")
    assert sessions.get(token) is not None
    now[0] += SESSION_S + 1
    assert sessions.get(token) is None
    late = sessions.challenge("pty_a")
    now[0] += 121
    sig = base64.b64encode(key.sign(challenge_text("reg", "pty_a", late).encode())).decode()
    with pytest.raises(PolicyDenied, match="expired"):
        sessions.open("pty_a", late, sig, public, "reg", "A", "performer")


def test_challenges_and_sessions_are_shared_by_every_process(home: Any) -> None:
    """Two server processes (two Sessions on one database, SQLite and PostgreSQL): a challenge
    issued by one is good once in either; a session opened in one is seen and closed in both;
    the database holds no usable token."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from sqlalchemy import select

    from reelrights.store.access_tables import web_sessions

    one, two = Sessions(Database(home.database_url)), Sessions(Database(home.database_url))
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    nonce = one.challenge("pty_a")
    sig = base64.b64encode(key.sign(challenge_text("reg", "pty_a", nonce).encode())).decode()
    token, session = two.open("pty_a", nonce, sig, public, "reg", "A", "performer")
    with pytest.raises(PolicyDenied, match="unknown"):  # longer than any nonce issued
        one.open("pty_a", nonce + "x" * 64, sig, public, "reg", "A", "performer")
    for replay in (one, two):  # the challenge is used up everywhere
        with pytest.raises(PolicyDenied, match="used"):
            replay.open("pty_a", nonce, sig, public, "reg", "A", "performer")
    seen = one.get(token)
    assert seen is not None and (seen.party, seen.csrf) == ("pty_a", session.csrf)
    with Database(home.database_url).read() as conn:
        stored = [r.token_sha256 for r in conn.execute(select(web_sessions))]
    assert stored == [hashlib.sha256(token.encode()).hexdigest()] and token not in stored
    assert one.get(stored[0]) is None  # the stored digest is not a token
    two.close(token)
    assert one.get(token) is None and two.get(token) is None


def test_a_session_opened_by_one_server_is_seen_and_closed_by_another(web_site: Site) -> None:
    """A second `reelrights serve` on the same home (as `--workers N` runs several): the
    challenge from one, the sign-in at the other, the session good at both, signed out at one,
    gone at both."""
    from service_kit import start_server

    from reelrights.home import Home

    other = start_server(Home.open(web_site.home))
    try:
        bruno = _party(web_site, "Bruno Lindqvist")
        c = _challenge(httpx.Client(base_url=web_site.url), bruno)
        with httpx.Client(base_url=other.url) as client:
            r = client.post("/sign-in", data={"party": bruno, "nonce": c["nonce"],
                                              "signature": _signed(web_site, bruno, c["text"])})
            assert r.status_code == 303, r.text
            cookie = {COOKIE: client.cookies[COOKIE]}
        page = f"/parties/{bruno}"
        for url in (web_site.url, other.url):
            assert "Sign out Bruno Lindqvist" in httpx.get(url + page, cookies=cookie).text
        signed_in = httpx.get(web_site.url + page, cookies=cookie).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', signed_in)
        assert csrf is not None
        r = httpx.post(other.url + "/sign-out", data={"csrf": csrf.group(1)}, cookies=cookie)
        assert r.status_code == 303, r.text
        for url in (web_site.url, other.url):
            assert "Sign out Bruno" not in httpx.get(url + page, cookies=cookie).text
    finally:
        other.stop()


def test_pages_show_private_facts_only_to_their_parties(web_site: Site) -> None:
    """The pages go through the visibility matrix: anyone sees a license without its terms,
    a studio's page without its money and a performer's without her consent requests, and a
    royalty statement not at all; signed in as the party, each is there."""
    studio, developer = web_site.ids["studio"], web_site.ids["developer"]
    lic = web_site.requests["license"]
    anyone = httpx.get(f"{web_site.url}/licenses/{lic}")
    assert anyone.status_code == 200 and "orbit-video" not in anyone.text  # no terms
    page = httpx.get(f"{web_site.url}/parties/{studio}").text
    with httpx.Client(base_url=web_site.url) as client:
        assert _sign_in(client, web_site, developer).status_code == 303
        assert "orbit-video" in client.get(f"/licenses/{lic}").text  # its licensee sees them
    with httpx.Client(base_url=web_site.url) as client:
        assert _sign_in(client, web_site, studio).status_code == 303
        own = client.get(f"/parties/{studio}").text
    assert own.count("<svg") >= page.count("<svg") and len(own) > len(page)
    bruno = _party(web_site, "Bruno Lindqvist")
    assert "ORB-2027-014" not in httpx.get(f"{web_site.url}/parties/{bruno}").text
    statements = re.findall(r'href="/royalty-statements/(fst_[a-z2-7]{16})"',
                            httpx.get(f"{web_site.url}/parties/{studio}").text + own)
    for st in set(statements):
        r = httpx.get(f"{web_site.url}/royalty-statements/{st}")
        assert r.status_code == 403 and "sign in" in r.text


def test_a_revoked_key_signs_no_one_in(tmp_path) -> None:
    """Sign-in checks the party's signing key in force (docs/keys.md), not the key it first
    registered: once that key is revoked, a thief holding it cannot open a session."""
    from service_kit import start_server

    from reelrights.home import Home
    from reelrights.identity import keys as idkeys
    from reelrights.ledger import Ledger
    from reelrights.registry.parties import register_party

    home, _ = Home.init(tmp_path / "home")
    ledger = Ledger.open(home)
    try:
        studio = register_party(home, ledger, "studio", "Northlight Pictures").details["id"]
        thief_copy = load_key_file(home.keys_dir / f"{studio}.pem")
        idkeys.revoke_key(home, ledger, studio, "key stolen")
    finally:
        ledger.close()
    server = start_server(home)
    try:
        site = Site(server, {}, {})
        with httpx.Client(base_url=site.url) as client:
            c = _challenge(client, studio)
            sig = base64.b64encode(thief_copy.sign(c["text"].encode())).decode()
            r = client.post("/sign-in", data={"party": studio, "nonce": c["nonce"],
                                              "signature": sig})
            assert r.status_code == 403 and "no signing key in force" in r.text
            assert "Sign out" not in client.get(f"/parties/{studio}").text
    finally:
        server.stop()
