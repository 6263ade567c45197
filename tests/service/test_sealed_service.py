"""Sealed statements over HTTP (real `reelrights serve`, both backends): a sealed submission
travels as {sealed_body, signed}; a body that does not match its root is a 422 and nothing is
logged; GET /v1/sealed/{id} (an RFC 9421 signed read, like every non-public read) answers a
verifiable disclosure only to the entitled: the licensee sees the terms, a payee only her rows,
a regulator exactly the fields granted to it, anyone else nothing. Replayed, stale, forged and
misdirected signatures are refused."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import httpx
import pytest
from service_kit import make_home

from fund_story import build, csv_report
from reelrights.access.http_signing import sign_request
from reelrights.client.http import Client
from reelrights.core.sealed import Leaf, SealedEntry
from reelrights.core.sealed_disclosure import verify_disclosure
from reelrights.core.statements import key_id_for
from reelrights.errors import BadInput, NotFound, NotVisible, VerificationError
from reelrights.fund import productions as fund
from reelrights.fund import revenue_import
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.registry.parties import register_party
from reelrights.registry.submit import sign_sealed
from reelrights.rights import licensing


@pytest.fixture
def sealed_server(service, service_backend: str, tmp_path: Path):
    home = make_home(tmp_path / "operator", service_backend)
    ledger = Ledger.open(home)
    try:
        ids = build(home, ledger, tmp_path, sealed=True)
        other = fund.add_production(home, ledger, ids["studio"], "Other Film", "film",
                                    "USD").details["id"]
        report = csv_report(tmp_path / "q1.csv", [
            (ids["production"], "2027-Q1", "US", "USD", "1000.00", "0"),
            (other, "2027-Q1", "US", "USD", "999.99", "0")])
        ids["report"] = revenue_import.import_report(home, ledger, report, ids["studio"],
                                                     sealed=True)["id"]
        ids["registry"] = ledger.registry
        for label in ("regulator", "outsider"):
            ids[label] = register_party(home, ledger, "studio",
                                        f"The {label.title()}").details["id"]
        ids["policy"] = licensing.license_detail(ledger.db, ids["lic"]).policy
        with ledger.db.read() as conn:
            ids["need"] = licensing.required_cosigners(conn, ids["bundle"])
    finally:
        ledger.close()
        ledger.db.dispose()
    server = service(home=home)
    return server, home, ids


def _problem(r: httpx.Response, status: int, slug: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


def _signed(server, registry: str, key: PartyKey, path: str, *, created: int | None = None,
            key_id: str | None = None) -> dict[str, str]:
    host = server.url.split("://", 1)[1]
    return {"host": host, **sign_request(
        "GET", server.url + path, [("host", host)], b"", sign=key.sign, created=created,
        key_id=key_id or key_id_for(key.public_key_bytes), registry=registry)}


def test_only_the_entitled_read_a_sealed_body(sealed_server) -> None:
    server, home, ids = sealed_server
    vkey = home.log_vkey()
    with Client(server.url, retries=0) as client:
        doc = client.sealed(ids["lic"], home.party_key(ids["dev"]))  # RFC 9421, like any read
        report = verify_disclosure(doc, vkey)  # the licensee checks it from the log's key
        assert report.fields == {"/body/policy": ids["policy"]}
        # a payee (the performer earns from the first production only) sees only her row
        rows = verify_disclosure(client.sealed(ids["report"], home.party_key(ids["performer"]),
                                               ids["registry"]), vkey)
        assert [v["production"] for v in rows.fields.values()] == [ids["production"]]
        assert "999.99" not in str(rows.fields)
        # the fund reads the license's terms and the report's rows, as their records show them
        fund = home.party_key(ids["fund"])
        assert verify_disclosure(client.sealed(ids["lic"], fund), vkey).fields == {
            "/body/policy": ids["policy"]}
        assert len(verify_disclosure(client.sealed(ids["report"], fund), vkey).fields) >= 3
        # the writer is named in neither: nothing
        with pytest.raises(NotVisible):
            client.sealed(ids["lic"], home.party_key(ids["writer"]))
        # the payee asking for the whole report, beyond her row: refused
        with pytest.raises(NotVisible, match="may not read /body/rows"):
            client.sealed(ids["report"], home.party_key(ids["performer"]),
                          fields=["/body/rows"])
    path = f"/v1/sealed/{ids['lic']}"
    r = httpx.get(server.url + path)  # no signature
    _problem(r, 401, "signature-missing")
    assert r.headers["www-authenticate"].startswith("Signature")
    # the old header path is gone: a Reelrights-Reader header alone is an unsigned read
    _problem(httpx.get(server.url + path, headers={"Reelrights-Reader": "x 1 AAAA"}), 401,
             "signature-missing")
    # the public lookup never shows the terms
    public = httpx.get(f"{server.url}/v1/licenses/{ids['lic']}").json()
    assert public.get("policy") is None and public["sealed"] == "sealed"


def test_sealed_reads_refuse_replayed_stale_and_forged_signatures(sealed_server) -> None:
    server, home, ids = sealed_server
    registry, dev = ids["registry"], home.party_key(ids["dev"])
    path = f"/v1/sealed/{ids['lic']}"
    headers = _signed(server, registry, dev, path)
    first = httpx.get(server.url + path, headers=headers)
    assert first.status_code == 200 and first.json()["leaves"][0]["path"] == "/body/policy"
    assert first.headers["cache-control"] == "private, no-store"
    assert "named_party" in first.headers["reelrights-roles"]
    body = _problem(httpx.get(server.url + path, headers=headers), 401, "signature-replayed")
    assert "already used" in body["detail"]
    for created in (int(time.time()) - 600, int(time.time()) + 600):
        stale = _signed(server, registry, dev, path, created=created)
        _problem(httpx.get(server.url + path, headers=stale), 401, "signature-stale")
    # a signature made for another sealed statement's path does not open this one
    other = _signed(server, registry, dev, f"/v1/sealed/{ids['report']}")
    _problem(httpx.get(server.url + path, headers=other), 401, "signature-invalid")
    # impersonation: the developer's key id, the writer's key
    forged = _signed(server, registry, home.party_key(ids["writer"]), path,
                     key_id=key_id_for(dev.public_key_bytes))
    _problem(httpx.get(server.url + path, headers=forged), 401, "signature-invalid")
    # signed for another registry
    _problem(httpx.get(server.url + path, headers=_signed(server, "rr_another0registry", dev,
                                                           path)), 401, "signature-invalid")
    # a key no party holds
    _problem(httpx.get(server.url + path, headers=_signed(server, registry,
                                                           PartyKey.generate(), path)),
             401, "signature-unknown-key")
    # a registered party with no role: 403
    _problem(httpx.get(server.url + path, headers=_signed(
        server, registry, home.party_key(ids["writer"]), path)), 403, "not-visible")


def test_a_grant_lets_the_regulator_read_exactly_the_granted_fields(sealed_server) -> None:
    server, home, ids = sealed_server
    vkey = home.log_vkey()
    studio, regulator = home.party_key(ids["studio"]), home.party_key(ids["regulator"])
    with Client(server.url, retries=0) as client:
        with pytest.raises(NotVisible):  # before the grant: nothing
            client.sealed(ids["report"], regulator)
        # a party that does not read the whole body cannot grant it (the writer; the payee,
        # who reads one row)
        for who in ("outsider", "performer"):
            with pytest.raises(NotVisible, match="only a party that reads its whole body"):
                client.sealed_grant(ids["report"], ids["regulator"], ["/body/rows"],
                                    home.party_key(ids[who]))
        with pytest.raises(BadInput, match="no field of"):
            client.sealed_grant(ids["report"], ids["regulator"], ["/body/nothing"], studio)
        out = client.sealed_grant(ids["report"], ids["regulator"], ["/body/rows/1"], studio)
        assert out["to"] == ids["regulator"] and out["fields"] == ["/body/rows/1"]
        shown = verify_disclosure(client.sealed(ids["report"], regulator), vkey)
        assert list(shown.fields) == ["/body/rows/1"]  # exactly the granted leaf
        # asking for more than was granted: refused
        with pytest.raises(NotVisible, match="may not read /body/rows"):
            client.sealed(ids["report"], regulator, fields=["/body/rows"])
        with pytest.raises(NotVisible):
            client.sealed(ids["report"], regulator, fields=["/body/rates"])
        # nobody else gains anything from it, and it grants nothing on another statement
        with pytest.raises(NotVisible):
            client.sealed(ids["report"], home.party_key(ids["outsider"]))
        with pytest.raises(NotVisible):
            client.sealed(ids["lic"], regulator)
    # an unsigned grant, or one whose body was changed after signing: refused
    path = f"/v1/sealed/{ids['report']}/grants"
    grab = b'{"fields":["/body/rows"],"to":"%s"}' % ids["regulator"].encode()
    _problem(httpx.post(server.url + path, content=grab,
                        headers={"content-type": "application/json"}), 401, "signature-missing")
    host = server.url.split("://", 1)[1]
    honest = b'{"fields":["/body/rows/0"],"to":"%s"}' % ids["regulator"].encode()
    signed = {"host": host, "content-type": "application/json", **sign_request(
        "POST", server.url + path, [("host", host)], honest, sign=studio.sign,
        key_id=key_id_for(studio.public_key_bytes), registry=ids["registry"])}
    _problem(httpx.post(server.url + path, content=grab, headers=signed), 401,
             "signature-invalid")
    with Client(server.url, retries=0) as client:
        assert list(verify_disclosure(client.sealed(ids["report"], regulator),
                                      vkey).fields) == ["/body/rows/1"]


def test_a_grant_is_withdrawn_by_its_granter_only(sealed_server) -> None:
    """The regulator, a stranger and an unsigned request cannot withdraw a grant; the granter
    can, once; after it the regulator reads nothing of that grant."""
    server, home, ids = sealed_server
    vkey = home.log_vkey()
    studio, regulator = home.party_key(ids["studio"]), home.party_key(ids["regulator"])
    with Client(server.url, retries=0) as client:
        out = client.sealed_grant(ids["lic"], ids["regulator"], ["/body/policy"], studio)
        number = out["grant"]
        assert list(verify_disclosure(client.sealed(ids["lic"], regulator),
                                      vkey).fields) == ["/body/policy"]
        for who in ("regulator", "outsider"):  # neither granted it nor signed the license
            with pytest.raises(NotVisible, match="may not withdraw"):
                client.sealed_withdraw(ids["lic"], number, home.party_key(ids[who]))
        with pytest.raises(NotFound):  # a grant number of another statement
            client.sealed_withdraw(ids["report"], number, studio)
        path = f"/v1/sealed/{ids['lic']}/grants/{number}"
        _problem(httpx.delete(server.url + path), 401, "signature-missing")
        # a grant "number" that is a digit to Python but no number (a superscript two): 400
        odd = f"/v1/sealed/{ids['lic']}/grants/%C2%B2"
        host = server.url.split("://", 1)[1]
        headers = {"host": host, **sign_request(
            "DELETE", server.url + odd, [("host", host)], b"", sign=studio.sign,
            key_id=key_id_for(studio.public_key_bytes), registry=ids["registry"])}
        _problem(httpx.delete(server.url + odd, headers=headers), 400, "bad-request")
        done = client.sealed_withdraw(ids["lic"], number, studio)
        assert done["grant"] == number and done["to"] == ids["regulator"]
        with pytest.raises(NotVisible):  # withdrawn: nothing more for the regulator
            client.sealed(ids["lic"], regulator)
        with pytest.raises(NotFound):  # once
            client.sealed_withdraw(ids["lic"], number, studio)


def test_the_server_refuses_a_body_that_does_not_match_its_root(sealed_server) -> None:
    server, home, ids = sealed_server
    ledger = Ledger.open(home, publish=False, establish=False)
    try:
        good = sign_sealed(ledger, home.party_key(ids["studio"]), "license.granted",
                           ids["studio"], {"id": "lic_" + "e" * 16, "bundle": ids["bundle"],
                                           "licensor": ids["studio"], "licensee": ids["dev"],
                                           "policy": ids["policy"],
                                           "required_cosigners": ids["need"]})
    finally:
        ledger.close()
        ledger.db.dispose()
    leaf = good.leaves[0]
    cheaper = {**leaf.value, "uid": "urn:reelrights:policy:cheaper"}
    with Client(server.url, retries=0) as client:
        size = client.log_info().size
        with pytest.raises(VerificationError, match="does not match the signed root"):
            client.submit([SealedEntry(bytes(good), [Leaf(leaf.path, cheaper, leaf.salt)])])
        assert client.log_info().size == size  # nothing logged
        receipt = client.submit([good])[0]
        assert receipt.details["id"] == "lic_" + "e" * 16
        entry = client.lookup("licenses", "lic_" + "e" * 16)
        assert entry.get("policy") is None


def test_the_cli_grants_and_fetches_over_the_server(sealed_server, tmp_path, monkeypatch) -> None:
    """`sealed grant` and `sealed fetch` against the server, signed with the home's keys."""
    from click.testing import CliRunner

    from reelrights.cli import cli

    for var in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME", "REELRIGHTS_SERVER"):
        monkeypatch.delenv(var, raising=False)
    server, home, ids = sealed_server
    party_home = tmp_path / "party-home"  # a party's home that follows the server

    def run(*args: str, want: int = 0) -> str:
        r = CliRunner().invoke(cli, ["--home", str(party_home), "--server", server.url, *args])
        assert r.exit_code == want, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.output
        return r.stdout + r.stderr

    run("party", "show", ids["studio"])  # joins the server
    for label in ("studio", "regulator", "outsider"):  # the parties' keys, in this home
        shutil.copy(home.party_key_path(ids[label]), party_home / "keys")
    run("sealed", "grant", ids["lic"], "--as", ids["studio"], "--to", ids["regulator"],
        "--fields", "/body/policy")
    out = tmp_path / "regulator.json"
    run("sealed", "fetch", ids["lic"], "--as", ids["regulator"], "--out", str(out))
    assert list(verify_disclosure(json.loads(out.read_text()),
                                  home.log_vkey()).fields) == ["/body/policy"]
    text = run("sealed", "fetch", ids["lic"], "--as", ids["outsider"], "--out",
               str(tmp_path / "no.json"), want=3)
    assert "may not read" in text and not (tmp_path / "no.json").exists()
    r = CliRunner().invoke(cli, ["verify", str(out), "--log-key", home.log_vkey()])
    assert r.exit_code == 0, r.output
    # the grant's number is in the answer; the studio withdraws it, the regulator cannot
    granted = json.loads(run("sealed", "grant", ids["lic"], "--as", ids["studio"], "--to",
                             ids["regulator"], "--fields", "/body/policy", "--json"))
    text = run("sealed", "withdraw", ids["lic"], str(granted["grant"]), "--as",
               ids["regulator"], want=3)
    assert "may not withdraw" in text
    run("sealed", "withdraw", ids["lic"], str(granted["grant"]), "--as", ids["studio"])
