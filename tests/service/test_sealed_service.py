"""Sealed statements over HTTP (real `reelrights serve`, both backends): a sealed submission
travels as {sealed_body, signed}; a body that does not match its root is a 422 and nothing is
logged; GET /v1/sealed/{id} answers a verifiable disclosure only to the entitled: the licensee
sees the terms, a payee only her rows, anyone else nothing."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from service_kit import make_home

from fund_story import build, csv_report
from reelrights.client.http import Client
from reelrights.core.sealed import Leaf, SealedEntry
from reelrights.core.sealed_disclosure import verify_disclosure
from reelrights.errors import PolicyDenied, VerificationError
from reelrights.fund import productions as fund
from reelrights.fund import revenue_import
from reelrights.ledger import Ledger
from reelrights.registry.submit import sign_sealed
from reelrights.rights import licensing
from reelrights.sealed.reads import HEADER, reader_header


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
        ids["policy"] = licensing.license_detail(ledger.db, ids["lic"]).policy
        with ledger.db.read() as conn:
            ids["need"] = licensing.required_cosigners(conn, ids["bundle"])
    finally:
        ledger.close()
        ledger.db.dispose()
    server = service(home=home)
    return server, home, ids


def test_only_the_entitled_read_a_sealed_body(sealed_server) -> None:
    server, home, ids = sealed_server
    vkey = home.log_vkey()
    with Client(server.url, retries=0) as client:
        doc = client.sealed(ids["lic"], ids["registry"], ids["dev"], home.party_key(ids["dev"]))
        report = verify_disclosure(doc, vkey)  # the licensee checks it from the log's key
        assert report.fields == {"/body/policy": ids["policy"]}
        # a payee (the performer earns from the first production only) sees only her row
        rows = verify_disclosure(client.sealed(ids["report"], ids["registry"],
                                               ids["performer"],
                                               home.party_key(ids["performer"])), vkey)
        assert [v["production"] for v in rows.fields.values()] == [ids["production"]]
        assert "999.99" not in str(rows.fields)
        # the writer is named in neither: nothing
        with pytest.raises(PolicyDenied):
            client.sealed(ids["lic"], ids["registry"], ids["writer"],
                          home.party_key(ids["writer"]))
        # impersonation: the developer's id, the writer's key
        with pytest.raises(VerificationError, match="does not verify"):
            client.sealed(ids["lic"], ids["registry"], ids["dev"], home.party_key(ids["writer"]))
    path = f"/v1/sealed/{ids['lic']}"
    r = httpx.get(server.url + path)  # no signature
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem")
    stale = reader_header(ids["registry"], ids["dev"], path, home.party_key(ids["dev"]),
                          now=time.time() - 600)
    r = httpx.get(server.url + path, headers={HEADER: stale})
    assert r.status_code == 422 and "stale" in r.json()["detail"]
    other_path = f"/v1/sealed/{ids['report']}"  # a signature for another path is no key
    signed = reader_header(ids["registry"], ids["dev"], path, home.party_key(ids["dev"]))
    assert httpx.get(server.url + other_path, headers={HEADER: signed}).status_code == 422
    # the public lookup never shows the terms
    public = httpx.get(f"{server.url}/v1/licenses/{ids['lic']}").json()
    assert public.get("policy") is None and public["sealed"] == "sealed"


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
