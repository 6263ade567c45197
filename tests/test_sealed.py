"""Sealed statements end to end on both backends: the log holds roots, the registry the bodies;
business rules run on the full body; a body that does not match its root is refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from fund_story import build, csv_report
from reelrights.core.sealed import Leaf, SealedEntry, seal_body
from reelrights.core.statements import decode_entry, sign_statement
from reelrights.errors import InvalidStatement, VerificationError
from reelrights.fund import revenue_import
from reelrights.fund import royalty_statement_issue as statement_issue
from reelrights.registry.submit import sign_sealed
from reelrights.rights import licensing
from reelrights.sealed.store import AVAILABLE, body_state, stored_leaves
from reelrights.store.tables import log_entries


def _logged(ledger, index: int):
    with ledger.db.read() as conn:
        entry = conn.scalar(select(log_entries.c.entry).where(log_entries.c.idx == index))
    return decode_entry(bytes(entry))


@pytest.fixture
def story(home, ledger, tmp_path):
    ids = build(home, ledger, tmp_path, sealed=True)
    p = ids["production"]
    q1 = csv_report(tmp_path / "q1.csv", [(p, "2027-Q1", "US", "USD", "12345.67", "1234.56")])
    out = revenue_import.import_report(home, ledger, q1, ids["studio"], sealed=True)
    ids["r1"], ids["r1_index"] = out["id"], out["log_index"]
    return ids


def test_a_sealed_license_logs_its_root_and_the_registry_runs_on_the_full_body(
        home, ledger, story):
    lic = licensing.license_detail(ledger.db, story["lic"])
    s = _logged(ledger, lic.log_index)
    # The log: who licensed which bundle to whom, and a root; never the terms.
    assert s.sealed is not None and s.sealed["alg"] == "reelrights/sealed/v1"
    assert "policy" not in s.body and s.body["licensee"] == story["dev"]
    assert b"fund_share" not in bytes(s.entry) and b"compensate" not in bytes(s.entry)
    # The registry: the full terms (the policy engine and the fund split by them) ...
    assert lic.policy is not None and lic.sealed == "sealed"
    # ... shown to anyone only without them.
    public = licensing.license_detail(ledger.db, story["lic"], public=True)
    assert public.policy is None and public.to_json()["sealed"] == "sealed"
    with ledger.db.read() as conn:
        assert body_state(conn, s.id) == AVAILABLE
        assert [leaf.path for leaf in stored_leaves(conn, s.id)] == ["/body/policy"]
    # The signer's home keeps its own copy (0600).
    copy = home.path / "sealed" / f"{s.id}.json"
    assert copy.stat().st_mode & 0o777 == 0o600


def test_sealed_reports_split_money_exactly_as_clear_ones(home, ledger, story):
    s = _logged(ledger, story["r1_index"])
    assert "rows" not in s.body and b"12345.67" not in bytes(s.entry)
    assert s.body["period"] == "2027-Q1" and s.body["reporter"] == story["studio"]
    docs = {who: statement_issue.issue_statement(home, ledger, story[who], "2027-Q1",
                                                 threshold="200")[0]
            for who in ("studio", "performer", "guild")}
    # the same figures as tests/test_fund.py's worked example, in clear
    assert [li["amount"] for li in docs["performer"]["lines"]] == ["156.25"]
    assert [li["amount"] for li in docs["guild"]["lines"]] == ["52.08"]


def test_the_registry_refuses_a_body_that_does_not_match_the_root(home, ledger, story):
    body = licensing.license_detail(ledger.db, story["lic"])
    key = home.party_key(story["studio"])
    policy = dict(body.policy)
    policy["uid"] = "urn:reelrights:policy:other"
    with ledger.db.read() as conn:
        need = licensing.required_cosigners(conn, story["bundle"])
    good = sign_sealed(ledger, key, "license.granted", story["studio"], {
        "id": "lic_" + "c" * 16, "bundle": story["bundle"], "licensor": story["studio"],
        "licensee": story["dev"], "policy": policy, "required_cosigners": need})
    leaf = good.leaves[0]
    other = {**leaf.value, "uid": "urn:reelrights:policy:tampered"}
    bad = SealedEntry(bytes(good), [Leaf(leaf.path, other, leaf.salt)])
    with pytest.raises(VerificationError, match="does not match the signed root"):
        ledger.submit([bad])
    with pytest.raises(VerificationError, match="does not match the signed root"):
        ledger.submit([SealedEntry(bytes(good), [Leaf(leaf.path, leaf.value, bytes(32))])])
    with pytest.raises(InvalidStatement, match="submit its private fields and salts"):
        ledger.submit([bytes(good)])  # the signed statement alone
    with pytest.raises(VerificationError, match="does not match the signed root"):
        ledger.submit([SealedEntry(bytes(good), [Leaf("/body/licensee", story["dev"],
                                                      leaf.salt)])])  # moved to another field
    assert ledger.submit([good])[0].details["id"] == "lic_" + "c" * 16


def test_a_private_field_in_clear_or_a_sealed_type_without_private_fields_is_refused(
        home, ledger, story):
    key = home.party_key(story["studio"])
    body = {"id": "lic_" + "d" * 16, "bundle": story["bundle"], "licensor": story["studio"],
            "licensee": story["dev"], "policy": licensing.license_detail(
                ledger.db, story["lic"]).policy, "required_cosigners": []}
    sealing = seal_body(body, ["policy"])
    st = ledger.new_statement("license.granted", story["studio"], body, sealed=sealing.sealed)
    with pytest.raises(InvalidStatement, match="policy is a private field"):
        ledger.submit([SealedEntry(sign_statement(st, key), sealing.leaves)])
    wb = {"name": "x"}
    sealing = seal_body(wb, ["name"])
    st = ledger.new_statement("guild.member", story["guild"], {"guild": story["guild"],
                              "member": story["writer"]}, sealed=sealing.sealed)
    with pytest.raises(InvalidStatement, match="has no private fields"):
        ledger.submit([SealedEntry(sign_statement(st, home.party_key(story["guild"])),
                                   sealing.leaves)])
    json.dumps(body)


# ---------------------------------------------------------------------------------------------
# Disclosures: the licensee and a regulator check a sealed license from the log's key alone
# ---------------------------------------------------------------------------------------------

def _disclose(home, ledger, ref: str, paths: list[str]) -> dict:
    from reelrights.sealed.copies import home_source
    from reelrights.sealed.disclose import make_disclosure
    from reelrights.sealed.store import database_source

    with ledger.db.read() as conn:
        return make_disclosure(conn, ledger.log, ref, paths,
                               [home_source(home), database_source(conn)])


def test_a_regulator_checks_the_disclosed_terms_and_any_tampering_is_named(home, ledger,
                                                                           story):
    from reelrights.core.sealed_disclosure import verify_disclosure
    from reelrights.errors import SignatureError

    vkey = home.log_vkey()
    doc = _disclose(home, ledger, story["lic"], ["/body/policy"])
    report = verify_disclosure(json.loads(json.dumps(doc)), vkey)
    policy = licensing.license_detail(ledger.db, story["lic"]).policy
    assert report.fields == {"/body/policy": policy} and report.actor == story["studio"]
    assert report.type == "license.granted"
    # a changed price
    bad = json.loads(json.dumps(doc))
    bad["leaves"][0]["value"]["uid"] = "urn:reelrights:policy:cheaper"
    with pytest.raises(VerificationError, match="/body/policy"):
        verify_disclosure(bad, vkey)
    # another log's key, or a forged checkpoint
    other = json.loads(json.dumps(doc))
    other["checkpoint"] = other["checkpoint"].replace("\n\n", "\n\n", 1)[:-5] + "AAAA\n"
    with pytest.raises((SignatureError, InvalidStatement, Exception)):
        verify_disclosure(other, vkey)
    # a statement that is not the logged one
    swapped = json.loads(json.dumps(doc))
    swapped["statement"]["leaf"] = swapped["statement"]["leaf"].replace(story["dev"],
                                                                        story["studio2"])
    with pytest.raises(VerificationError, match="not in the log"):
        verify_disclosure(swapped, vkey)
    # a signer who is not the actor
    forged = json.loads(json.dumps(doc))
    forged["signer"] = _disclose(home, ledger, story["lic2"], ["/body/policy"])["signer"]
    with pytest.raises(VerificationError):
        verify_disclosure(forged, vkey)


def test_one_row_of_a_sealed_report_is_disclosed_alone(home, ledger, story, tmp_path):
    from reelrights.core.sealed_disclosure import verify_disclosure

    p = story["production"]
    q2 = csv_report(tmp_path / "q2.csv", [(p, "2027-Q2", "US", "USD", "5000.00", "0"),
                                          (p, "2027-Q2", "GB", "USD", "700.00", "0")])
    rid = revenue_import.import_report(home, ledger, q2, story["studio"], sealed=True)["id"]
    doc = _disclose(home, ledger, rid, ["/body/rows/1"])
    report = verify_disclosure(doc, home.log_vkey())
    assert list(report.fields) == ["/body/rows/1"]
    assert report.fields["/body/rows/1"]["gross"] in ("5000.00", "700.00")
    text = json.dumps(doc)
    other = "700.00" if report.fields["/body/rows/1"]["gross"] == "5000.00" else "5000.00"
    assert other not in text  # the other row is not in the file at all


def test_the_cli_verifies_a_disclosure_and_exits_1_on_a_tampered_one(home, ledger, story,
                                                                      tmp_path):
    from click.testing import CliRunner

    from reelrights.cli import cli as main

    out = tmp_path / "terms.json"
    runner = CliRunner()
    r = runner.invoke(main, ["--home", str(home.path), "sealed", "disclose", story["lic"],
                             "--fields", "/body/policy", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.stat().st_mode & 0o777 == 0o600
    r = runner.invoke(main, ["sealed", "verify", str(out), "--log-key", home.log_vkey()])
    assert r.exit_code == 0 and r.output.startswith("ok: license.granted"), r.output
    doc = json.loads(out.read_text())
    doc["leaves"][0]["salt"] = "A" * 43
    out.write_text(json.dumps(doc))
    r = runner.invoke(main, ["sealed", "verify", str(out), "--log-key", home.log_vkey()])
    assert r.exit_code == 1 and "/body/policy" in r.output and "Traceback" not in r.output


def test_a_sealed_royalty_statement_recomputes_and_is_issued_once(home, ledger, story):
    doc, sid, index, new = statement_issue.issue_statement(home, ledger, story["performer"],
                                                           "2027-Q1", threshold="200",
                                                           sealed=True)
    s = _logged(ledger, index)
    assert new and "totals" not in s.body and b"156.25" not in bytes(s.entry)
    assert s.body["party"] == story["performer"]
    again = statement_issue.issue_statement(home, ledger, story["performer"], "2027-Q1",
                                            threshold="200", sealed=True)
    assert again[1] == sid and again[3] is False  # found by its kept hash, not by its id
    with ledger.db.read() as conn:
        assert [leaf.path for leaf in stored_leaves(conn, s.id)] == [
            "/body/sha256", "/body/inputs_sha256", "/body/threshold", "/body/totals/0"]


def test_a_large_batch_cannot_slip_a_sealed_statement_in_without_its_body(home, ledger, story):
    import base64

    from reelrights.core.ids import new_id
    from reelrights.keys import PartyKey
    from reelrights.log.workers import PROCESS_MIN

    with ledger.db.read() as conn:
        need = licensing.required_cosigners(conn, story["bundle"])
    sealed = sign_sealed(ledger, home.party_key(story["studio"]), "license.granted",
                         story["studio"], {
                             "id": "lic_" + "f" * 16, "bundle": story["bundle"],
                             "licensor": story["studio"], "licensee": story["dev"],
                             "policy": licensing.license_detail(ledger.db, story["lic"]).policy,
                             "required_cosigners": need})
    entries = []
    for i in range(PROCESS_MIN):  # large enough for the quick road
        key = PartyKey.generate()
        body = {"id": new_id("party"), "kind": "performer", "name": f"Extra {i}",
                "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
        entries.append(sign_statement(ledger.new_statement("party.registered", body["id"],
                                                           body), key))
    entries.append(bytes(sealed))  # the signed sealed form, its body withheld
    with pytest.raises(InvalidStatement, match="submit its private fields and salts"):
        ledger.submit(entries)
    assert licensing.list_licenses(ledger.db, bundle=story["bundle"])[-1].id != "lic_" + "f" * 16


def test_a_body_sent_to_the_licensee_opens_only_with_her_key(home, ledger, story, tmp_path):
    from click.testing import CliRunner

    from reelrights.cli import cli
    from reelrights.sealed.copies import copy_for, decrypt_with, forget_own_copy

    sid, pid, box = copy_for(home, ledger.db, story["lic"], story["dev"])
    assert pid == story["dev"] and b"policy" not in box
    with pytest.raises(VerificationError, match="not for this key"):
        decrypt_with(home.party_key(story["writer"]).seed, box)
    out = tmp_path / "for-dev.box"
    r = CliRunner().invoke(cli, ["--home", str(home.path), "sealed", "send", story["lic"],
                                 "--to", story["dev"], "--out", str(out)])
    assert r.exit_code == 0, r.output
    forget_own_copy(home, sid)  # as if the licensee's home had none
    r = CliRunner().invoke(cli, ["--home", str(home.path), "sealed", "receive", str(out),
                                 "--as", story["dev"]])
    assert r.exit_code == 0 and r.output.strip() == sid, r.output
    assert (home.path / "sealed" / f"{sid}.json").exists()
    r = CliRunner().invoke(cli, ["--home", str(home.path), "sealed", "receive", str(out),
                                 "--as", story["writer"]])
    assert r.exit_code == 1 and "not for this key" in r.output


def test_reelrights_verify_checks_a_sealed_disclosure_too(home, ledger, story, tmp_path):
    from click.testing import CliRunner

    from reelrights.cli import cli

    out = tmp_path / "terms.json"
    out.write_text(json.dumps(_disclose(home, ledger, story["lic"], ["/body/policy"])))
    r = CliRunner().invoke(cli, ["verify", str(out), "--log-key", home.log_vkey()])
    assert r.exit_code == 0 and "sealed disclosure license.granted" in r.output, r.output
    doc = json.loads(out.read_text())
    doc["leaves"][0]["value"] = {"uid": "forged"}
    out.write_text(json.dumps(doc))
    r = CliRunner().invoke(cli, ["verify", str(out), "--log-key", home.log_vkey()])
    assert r.exit_code == 1 and "/body/policy" in r.output
