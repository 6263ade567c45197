"""Admission against real ``reelrights serve --admission`` processes (both backends): a pending
party is refused with a typed problem, is admitted over HTTP by the domain it controls, then
acts; an impostor of the same name is refused and shown apart; a party's own home does it all
with the CLI (``--server``)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from service_kit import Party, Server, new_party, work_entry

from proof_servers import ProofWorld, proof_world
from reelrights.cli import cli
from reelrights.core.statements import make_statement, sign_statement, utc_now
from reelrights.keys import PartyKey

PROBLEM = "application/problem+json"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ProofWorld]:
    with proof_world(tmp_path) as w:
        yield w


@pytest.fixture
def server(service: Any, service_backend: str, world: ProofWorld) -> Server:
    srv: Server = service(open_appends=False, backend=service_backend,
                          config={"admission": True, "extra": {"identity_fetch": world.config()}})
    return srv


def _problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return dict(body)


def _request(srv: Server, party: Party, domain: str, nonce: str) -> bytes:
    return sign_statement(make_statement("admission.requested", party.id, {
        "party": party.id, "method": "domain", "domain": domain, "nonce": nonce,
        "proof": "https"}, registry=srv.registry), party.key)


def _nonce_request(srv: Server, party: Party, domain: str,
                   signer: Any = None) -> dict[str, str]:
    now = utc_now()
    message = "\n".join(["reelrights/nonce-request/v1", srv.registry, party.id, domain, now])
    sig = (signer or party.key).sign(message.encode())
    return {"party": party.id, "domain": domain, "time": now,
            "signature": base64.b64encode(sig).decode()}


def _nonce(srv: Server, party: Party, domain: str) -> dict[str, Any]:
    r = httpx.post(srv.url + "/v1/identity/nonces", json=_nonce_request(srv, party, domain),
                   timeout=30)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _admit(srv: Server, entry: bytes) -> httpx.Response:
    return httpx.post(srv.url + "/v1/identity/admissions", content=entry,
                      headers={"content-type": "application/json"}, timeout=30)


def _accepted(srv: Server, entry: bytes) -> httpx.Response:
    """Posted until the server's gate has seen the admission (its cache: at most 2 s)."""
    deadline = time.monotonic() + 5
    while True:
        r = srv.post(entry)
        if r.status_code != 403 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_a_pending_party_is_refused_then_admitted_by_its_domain_then_acts(
        server: Server, world: ProofWorld) -> None:
    studio = new_party(server.registry)
    assert server.post(studio.entry).status_code == 200  # joining is open
    body = _problem(server.post(work_entry(server.registry, studio)), 403, "not-admitted")
    assert "not admitted" in body["detail"] and "party request-admission" in body["detail"]
    assert body["exit_code"] == 3
    n = _nonce(server, studio, "northlight.example")
    request = _request(server, studio, "northlight.example", n["nonce"])
    # the request does not go through the statements path
    _problem(server.post(request), 403, "not-admitted")
    # the proof is not published yet: refused, nothing logged
    size = httpx.get(server.url + "/v1/log", timeout=30).json()["size"]
    _problem(_admit(server, request), 422, "verification-failed")
    assert httpx.get(server.url + "/v1/log", timeout=30).json()["size"] == size
    world.publish("northlight.example", n["document"])
    r = _admit(server, request)
    assert r.status_code == 200, r.text
    receipts = r.json()["receipts"]
    assert [x["type"] for x in receipts] == ["admission.requested", "party.admitted"]
    assert r.json()["checkpoint"].startswith(server.home.origin)
    assert world.https.hosts == ["northlight.example"]
    assert _accepted(server, work_entry(server.registry, studio)).status_code == 200
    shown = httpx.get(f"{server.url}/v1/parties/{studio.id}", timeout=30).json()
    assert shown["shown_as"].endswith("[northlight.example]")
    assert shown["identity"]["method"] == "domain"
    # the same request again: the nonce served its admission (and the party is admitted)
    _problem(_admit(server, request), 409, "conflict")


def test_an_impostor_is_refused_and_shown_apart(server: Server, world: ProofWorld) -> None:
    real, fake = new_party(server.registry), new_party(server.registry)
    for p in (real, fake):
        assert server.post(p.entry).status_code == 200
    n = _nonce(server, real, "northlight.example")
    world.publish("northlight.example", n["document"])
    # the impostor with the real party's nonce: not issued to it
    _problem(_admit(server, _request(server, fake, "northlight.example", n["nonce"])), 404,
             "not-found")
    # with its own nonce: the domain's proof names the real party
    m = _nonce(server, fake, "northlight.example")
    body = _problem(_admit(server, _request(server, fake, "northlight.example", m["nonce"])),
                    422, "verification-failed")
    assert "party" in body["detail"]
    assert _admit(server, _request(server, real, "northlight.example", n["nonce"])) \
        .status_code == 200
    # once the real party holds the domain, no one else gets it
    body = _problem(_admit(server, _request(server, fake, "northlight.example", m["nonce"])),
                    409, "conflict")
    assert "held by" in body["detail"]
    # a request for the real party, signed by the impostor's key
    forged = sign_statement(json.loads(_request(server, real, "impostor.example",
                                                m["nonce"]))["statement"], fake.key)
    _problem(_admit(server, forged), 422, "verification-failed")
    _problem(server.post(work_entry(server.registry, fake)), 403, "not-admitted")
    shown = httpx.get(f"{server.url}/v1/parties/{fake.id}", timeout=30).json()
    assert shown["shown_as"].endswith("[NOT ADMITTED]")


def test_bad_identity_requests_are_problems(server: Server) -> None:
    nonces = server.url + "/v1/identity/nonces"
    for body in ({"party": "x"}, {"party": 1, "domain": "a.example", "time": "t",
                                  "signature": "s"}):
        _problem(httpx.post(nonces, json=body, timeout=30), 422, "invalid-statement")
    _problem(httpx.post(nonces, content=b"[", timeout=30), 400, "bad-request")
    ghost = Party("pty_aaaaaaaaaaaaaaaa", PartyKey.generate(), b"")
    _problem(httpx.post(nonces, json=_nonce_request(server, ghost, "a.example"), timeout=30),
             404, "not-found")
    studio = new_party(server.registry)
    assert server.post(studio.entry).status_code == 200
    r = httpx.post(nonces, json=_nonce_request(server, studio, "http://a.example/x"),
                   timeout=30)
    _problem(r, 422, "invalid-statement")
    # a stranger cannot take the party's nonces (it would use them up): the party signs
    stranger = _nonce_request(server, studio, "a.example", signer=PartyKey.generate())
    _problem(httpx.post(nonces, json=stranger, timeout=30), 422, "verification-failed")
    stale = {**_nonce_request(server, studio, "a.example"), "time": "2026-01-01T00:00:00Z"}
    _problem(httpx.post(nonces, json=stale, timeout=30), 422, "invalid-statement")
    _problem(_admit(server, b"not json"), 422, "invalid-statement")
    _problem(_admit(server, work_entry(server.registry, studio)), 422, "invalid-statement")


def test_a_party_home_is_admitted_with_the_cli(server: Server, world: ProofWorld,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME", "REELRIGHTS_SERVER"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()
    mine = ["--home", str(tmp_path / "mine"), "--server", server.url]

    def run(*args: str) -> Any:
        r = runner.invoke(cli, [*mine, *args], catch_exceptions=False)
        return r

    r = run("party", "add", "--kind", "studio", "--name", "Northlight Pictures", "--json")
    assert r.exit_code == 0, r.output
    pid = json.loads(r.stdout)["id"]
    r = run("party", "list")
    assert "[NOT ADMITTED]" in r.stdout
    r = run("party", "list", "--json")
    assert json.loads(r.stdout)[0]["shown_as"] == "Northlight Pictures [NOT ADMITTED]"
    r = run("party", "nonce", pid, "--domain", "northlight.example", "--json")
    assert r.exit_code == 0, r.output
    n = json.loads(r.stdout)
    world.publish("northlight.example", n["document"])
    r = run("party", "request-admission", pid, "--domain", "northlight.example", "--nonce",
            n["nonce"], "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["type"] == "party.admitted"
    r = run("party", "list")
    assert "northlight.example" in r.stdout
    r = run("party", "show", pid)
    assert "Northlight Pictures [northlight.example]" in r.stdout
    assert "identity    admitted: domain northlight.example" in r.stdout


def test_a_pending_party_cannot_slip_past_the_gate(server: Server) -> None:
    """Registered and acting in one batch, or naming an admitted party's key id: refused, and
    nothing of the batch is logged."""
    size = httpx.get(server.url + "/v1/log", timeout=30).json()["size"]
    newcomer = new_party(server.registry)
    batch = newcomer.entry + b"\n" + work_entry(server.registry, newcomer) + b"\n"
    body = _problem(server.post(batch, "application/jsonl"), 403, "not-admitted")
    assert body["position"] == 1
    assert httpx.get(server.url + "/v1/log", timeout=30).json()["size"] == size
    # the operator's key id on a pending party's statement: passes the gate, fails the signature
    from reelrights.core.statements import key_id_for
    from reelrights.ledger import Ledger

    ledger = Ledger.open(server.home, establish=False)
    try:
        op_kid = key_id_for(ledger.keys.registered["operator"])
    finally:
        ledger.close()
        ledger.db.dispose()
    assert server.post(newcomer.entry).status_code == 200
    doc = json.loads(work_entry(server.registry, newcomer))
    doc["signature"]["keyid"] = op_kid
    from reelrights.core.canonical import canonical_bytes

    _problem(server.post(canonical_bytes(doc)), 422, "verification-failed")

