"""Fund terms and audit responses are sealable (docs/sealed.md) on both backends: the log holds
their public fields and a root; the registry runs its rules on the full body (the fund splits by
the sealed share; an audit response's items must verify against the run's committed root); a
rebuild without bodies refuses to split by terms it cannot see; the auditor certifies from a
disclosure of the logged response. Each rule has its attacker."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from fund_story import build, csv_report
from reelrights.core.sealed import Leaf, SealedEntry
from reelrights.core.statements import decode_entry, sign_statement
from reelrights.errors import BadInput, Conflict, PolicyDenied, ProofError, VerificationError
from reelrights.evidence import audit_challenge, certificates
from reelrights.evidence.audit_opened import (
    log_response,
    logged_response,
    response_from_disclosure,
)
from reelrights.fund import productions as fund
from reelrights.fund import revenue_import
from reelrights.fund import royalty_statement_issue as statement_issue
from reelrights.registry.parties import register_party
from reelrights.registry.submit import sign_sealed
from reelrights.sealed.disclose import make_disclosure
from reelrights.sealed.store import database_source, stored_leaves
from reelrights.store.fund_tables import fund_terms
from reelrights.store.tables import log_entries


def _entry(ledger, index: int):
    with ledger.db.read() as conn:
        return decode_entry(bytes(conn.scalar(select(log_entries.c.entry)
                                              .where(log_entries.c.idx == index))))


def _size(ledger) -> int:
    from sqlalchemy import func

    with ledger.db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(log_entries)))


def test_sealed_fund_terms_split_money_and_stay_off_the_log(home, ledger, tmp_path):
    ids = build(home, ledger, tmp_path, sealed=True)
    r = fund.set_terms(home, ledger, ids["lic"], basis="units", contributors_share="40",
                       sealed=True)
    s = _entry(ledger, r.index)
    assert s.sealed is not None and s.body == {"license": ids["lic"],
                                               "licensor": ids["studio"]}
    assert b"contributors_share" not in bytes(s.entry) and b"\"40\"" not in bytes(s.entry)
    with ledger.db.read() as conn:  # the applier ran on the full body
        row = conn.execute(select(fund_terms).where(fund_terms.c.log_index == r.index)).first()
        assert (row.basis, row.contributors_share) == ("units", "40")
        assert [leaf.path for leaf in stored_leaves(conn, s.id)] == [
            "/body/basis", "/body/contributors_share"]
    p = ids["production"]
    q1 = csv_report(tmp_path / "q1.csv", [(p, "2027-Q1", "US", "USD", "12345.67", "1234.56")])
    revenue_import.import_report(home, ledger, q1, ids["studio"], sealed=True)
    doc = statement_issue.issue_statement(home, ledger, ids["performer"], "2027-Q1",
                                          threshold="200")[0]
    # the worked example pays the performer 156.25 at the default 50 % contributors' share;
    # the sealed terms' 40 % pay her four fifths of it
    assert [li["amount"] for li in doc["lines"]] == ["125.00"]
    from reelrights.sealed.erasure import erase_body

    with pytest.raises(PolicyDenied, match="the fund split money by them"):
        erase_body(home, ledger, s.id, ids["studio"], "not erasable")
    with pytest.raises(BadInput, match="nothing to seal"):
        fund.set_terms(home, ledger, ids["lic"], sealed=True)


def test_a_rebuild_without_bodies_refuses_to_split_by_sealed_fund_terms(home, ledger,
                                                                        tmp_path):
    from reelrights.fund.allocation import pool_facts
    from reelrights.home import Home
    from reelrights.log.tiled import DirTileSource
    from reelrights.replica import rebuild
    from reelrights.sealed.copies import body_source_at
    from reelrights.store.db import Database

    ids = build(home, ledger, tmp_path)  # the license in clear: only the terms are sealed
    fund.set_terms(home, ledger, ids["lic"], contributors_share="40", sealed=True)
    vkey, note = home.log_vkey(), (home.log_dir / "checkpoint").read_bytes()
    bare = rebuild(DirTileSource(home.log_dir), note, vkey, tmp_path / "bare")
    db = Database(Home.open(bare.home).database_url)
    try:
        from reelrights.fund.allocation import _terms
        from reelrights.store.tables import licenses

        with db.read() as conn, pytest.raises(VerificationError,
                                              match="fund terms .* are sealed"):
            policy = conn.scalar(select(licenses.c.policy).where(licenses.c.id == ids["lic"]))
            _terms(conn, ids["lic"], policy, 1 << 40)
    finally:
        db.dispose()
    full = rebuild(DirTileSource(home.log_dir), note, vkey, tmp_path / "full",
                   bodies=body_source_at(home.database_url))
    db = Database(Home.open(full.home).database_url)
    try:
        with db.read() as conn:
            assert conn.scalar(select(fund_terms.c.contributors_share)) == "40"
            pool_facts(conn, ids["production"], 1 << 40)
    finally:
        db.dispose()


@pytest.fixture
def challenged(home, ledger, tmp_path):
    ids = build(home, ledger, tmp_path)
    ids["auditor"] = register_party(home, ledger, "auditor", "The Auditor").details["id"]
    ids["challenge"] = audit_challenge.challenge_run(home, ledger, ids["run"], 2,
                                                     ids["auditor"])["challenge"]
    ids["manifest"] = str(tmp_path / "manifest.jsonl")
    return ids


def test_an_audit_response_is_logged_sealed_and_certified_from_its_disclosure(
        home, ledger, challenged, tmp_path):
    ids = challenged
    doc = audit_challenge.respond(ledger, ids["challenge"], tmp_path / "manifest.jsonl")
    assert logged_response(ledger.db, ids["challenge"]) is None  # not logged yet
    receipt = log_response(home, ledger, doc)
    s = _entry(ledger, receipt.index)
    assert s.type == "audit.opened" and s.sealed is not None
    # the challenge's page names where it was logged (web/audit_pages.py)
    assert logged_response(ledger.db, ids["challenge"]) == {"index": receipt.index,
                                                           "statement": s.id}
    assert set(s.body) == {"challenge", "run", "developer", "auditor"}
    for it in doc["items"]:  # no salt, no item of the dataset in the log
        assert it["salt"].encode() not in bytes(s.entry)
    with ledger.db.read() as conn:
        assert [leaf.path for leaf in stored_leaves(conn, s.id)] == ["/body/items/0",
                                                                      "/body/items/1"]
        disclosed = make_disclosure(conn, ledger.log, s.id, ["/body/items"],
                                    [database_source(conn)])
    with pytest.raises(Conflict, match="was answered"):
        log_response(home, ledger, doc)
    from reelrights.sealed.erasure import erase_body

    with pytest.raises(PolicyDenied, match="certificate was judged on them"):
        erase_body(home, ledger, s.id, ids["dev"], "not erasable")
    # the auditor certifies from the disclosure it fetched, as from the file
    path = tmp_path / "opened.json"
    path.write_text(json.dumps(disclosed))
    out = certificates.certify(home, ledger, path, ids["auditor"], scan=False)
    assert out["certificate"].startswith("crt_")
    # a disclosure missing an item is not a response
    short = json.loads(json.dumps(disclosed))
    short["leaves"] = short["leaves"][:1]
    with ledger.db.read() as conn, pytest.raises(BadInput, match="needs every one"):
        response_from_disclosure(short, home.log_vkey(), conn)


def test_an_audit_response_that_does_not_open_the_commitment_is_refused(
        home, ledger, challenged, tmp_path):
    ids = challenged
    doc = audit_challenge.respond(ledger, ids["challenge"], tmp_path / "manifest.jsonl")
    size = _size(ledger)
    bad = json.loads(json.dumps(doc))
    bad["items"][0]["salt"] = "00" * 16  # another salt: not the committed leaf
    with pytest.raises(ProofError):
        log_response(home, ledger, bad)
    short = json.loads(json.dumps(doc))
    short["items"] = short["items"][:1]  # fewer items than the challenge samples
    with pytest.raises(BadInput, match="samples 2"):
        log_response(home, ledger, short)
    # in clear (the items on the public log): refused
    body = {"challenge": doc["challenge"], "run": doc["run"], "developer": ids["dev"],
            "auditor": ids["auditor"], "items": [
                {"index": it["index"], "salt": it["salt"], "proof": it["proof"],
                 "item": json.dumps(it["item"], sort_keys=True, separators=(",", ":"))}
                for it in doc["items"]]}
    clear = sign_statement(ledger.new_statement("audit.opened", ids["dev"], body),
                           home.party_key(ids["dev"]))
    with pytest.raises(PolicyDenied, match="sealed only"):
        ledger.submit([clear])
    # signed by someone else than the run's developer
    sealed = sign_sealed(ledger, home.party_key(ids["studio"]), "audit.opened", ids["studio"],
                         {**body, "developer": ids["studio"]})
    with pytest.raises(PolicyDenied, match="only the developer"):
        ledger.submit([sealed])
    # an opening whose leaves do not match the signed root
    good = sign_sealed(ledger, home.party_key(ids["dev"]), "audit.opened", ids["dev"], body)
    leaf = good.leaves[0]
    forged = {**leaf.value, "index": leaf.value["index"] + 1}
    with pytest.raises(VerificationError, match="does not match the signed root"):
        ledger.submit([SealedEntry(bytes(good), [Leaf(leaf.path, forged, leaf.salt),
                                                 *good.leaves[1:]])])
    assert _size(ledger) == size  # nothing refused was logged
    ledger.submit([good])  # the honest one still goes in


def test_the_cli_logs_a_response_sealed_and_the_auditor_certifies_its_disclosure(
        home, ledger, challenged, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from reelrights.cli import cli

    monkeypatch.chdir(tmp_path)
    ids = challenged
    ledger.close()  # the CLI opens its own

    def run(*args: str, want: int = 0) -> str:
        r = CliRunner().invoke(cli, ["--home", str(home.path), *args])
        assert r.exit_code == want, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.output
        return r.stdout + r.stderr

    text = run("audit", "respond", ids["challenge"], "--manifest", ids["manifest"], "--log",
               "-o", str(tmp_path / "response.json"))
    sid = text.split("logged sealed as ", 1)[1].split()[0]
    run("sealed", "disclose", sid, "--fields", "/body/items", "--out",
        str(tmp_path / "opened.json"))
    out = run("audit", "verify", str(tmp_path / "opened.json"), "--auditor", ids["auditor"],
              "--no-scan", "--territory", "US", "-o", str(tmp_path / "cert.intoto.json"))
    assert "certificate crt_" in out and (tmp_path / "cert.intoto.json").exists()
    # a disclosure of the response that was altered is refused, naming the leaf (exit 1)
    doc = json.loads((tmp_path / "opened.json").read_text())
    doc["leaves"][0]["value"]["salt"] = "00" * 16
    (tmp_path / "altered.json").write_text(json.dumps(doc))
    bad = run("sealed", "verify", str(tmp_path / "altered.json"), "--log-key",
              home.log_vkey(), want=1)
    assert "/body/items/0" in bad
