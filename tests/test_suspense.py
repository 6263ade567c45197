"""Unmatched royalties on both backends (issue 16, point 4): money a credit earns before its
contributor has a party is held on a suspense account, exactly; a proved and confirmed claim
pays exactly what was held, with the lines it came from, and later revenue goes to the
claimant directly; a correction after the release pays only the difference; expiry waits for
the holding period. Attacks: confirming someone else's claim, a stranger confirming, shares
over 1, reopening a closed claim."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from fund_story import build, csv_report
from reelrights.core.money import parse_amount
from reelrights.core.statements import sign_statement
from reelrights.errors import Conflict, NotFound, PolicyDenied
from reelrights.fund import revenue_import, suspense
from reelrights.fund.royalty_statement_issue import issue_statement
from reelrights.fund.royalty_statements import build_document
from reelrights.fund.types import quarter_of
from reelrights.ledger import Ledger
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.registry.usage import usage_report
from reelrights.store.fund_tables import fund_lines, fund_postings


@pytest.fixture
def story(home, ledger, tmp_path):
    ids = build(home, ledger, tmp_path)
    r = suspense.credit_unmatched(home, ledger, ids["film"], "Jo Ghostwriter", "writer", "1/4",
                                  ["isni:0000000121032683"])
    ids["claim"] = r.details["claim"]
    ids["jo"] = register_party(home, ledger, "writer", "Jo Ghostwriter").details["id"]
    return ids


def _import(home, ledger, tmp_path, ids, name, period, gross, **kw):
    return revenue_import.import_report(home, ledger, csv_report(
        tmp_path / name, [(ids["production"], period, "US", "USD", gross, "0")]),
        ids["studio"], **kw)


def _total(doc) -> int:
    return sum(parse_amount(j["amount"], j["currency"]) for j in doc["lines"]
               if j["kind"] != "retained")


def test_held_exactly_then_released_exactly(home, ledger, story, tmp_path):
    s = story
    _import(home, ledger, tmp_path, s, "q1.csv", "2027-Q1", "12345.67")
    with ledger.db.read() as conn:
        held = suspense.held(conn, s["claim"])
        net = parse_amount("12345.67", "USD")
        booked = conn.scalar(select(func.sum(fund_lines.c.amount)))
        assert held["USD"] > 0 and booked + held["USD"] == net  # every cent is somewhere
        assert conn.scalar(select(func.count()).select_from(fund_lines)
                           .where(fund_lines.c.payee_id.like("suspense%"))) == 0
    shown = usage_report(ledger.db, s["studio"]).to_json()["suspense"]
    assert [(x["claim"], x["status"], x["held_minor"]) for x in shown] == [
        (s["claim"], "unclaimed", held)]
    with pytest.raises(Conflict, match="nobody has claimed"):
        suspense.confirm_claim(home, ledger, s["claim"])
    suspense.claim_credit(home, ledger, s["claim"], s["jo"], "WGA registration #1234")
    with pytest.raises(PolicyDenied, match="confirms claim"):
        suspense.confirm_claim(home, ledger, s["claim"], by=s["studio2"])  # not the owner
    r = suspense.confirm_claim(home, ledger, s["claim"])
    assert r.details["released"] == {"USD": f"{held['USD'] / 100:.2f}"}
    with ledger.db.read() as conn:
        assert suspense.held(conn, s["claim"]) == {}
        assert conn.scalar(select(func.sum(fund_postings.c.amount)).where(
            fund_postings.c.account == f"payee:{s['jo']}")) == held["USD"]
        q = quarter_of(datetime.now(UTC).strftime("%Y-%m"))
        doc = build_document(conn, s["jo"], q, 10**9, "0", s["fund"])
    released = [j for j in doc["lines"] if j.get("released_from_suspense") == s["claim"]]
    assert released and _total(doc) == held["USD"]  # paid exactly what was held
    # Later revenue goes to Jo directly; the studio's rights-holder share no longer holds it.
    _import(home, ledger, tmp_path, s, "q2.csv", "2027-Q2", "900.00")
    with ledger.db.read() as conn:
        assert suspense.held(conn, s["claim"]) == {}
        q2 = build_document(conn, s["jo"], "2027-Q2", 10**9, "0", s["fund"])
    assert _total(q2) > 0 and not any("released_from_suspense" in j for j in q2["lines"])
    # the fund signs Jo's statement for the quarter of the release; the applier re-derives it
    doc2, _, _, new = issue_statement(home, ledger, s["jo"], q, threshold="0")
    assert new and _total(doc2) == held["USD"]
    assert [c.status for c in suspense.list_claims(ledger.db)] == ["confirmed"]


def test_a_correction_after_the_release_pays_only_the_difference(home, ledger, story, tmp_path):
    s = story
    first = _import(home, ledger, tmp_path, s, "q1.csv", "2027-Q1", "1000.00")
    suspense.claim_credit(home, ledger, s["claim"], s["jo"], "contract")
    released = suspense.confirm_claim(home, ledger, s["claim"]).details["released"]["USD"]
    _import(home, ledger, tmp_path, s, "q1b.csv", "2027-Q1", "1100.00",
            supersedes=first["id"])
    with ledger.db.read() as conn:
        doc = build_document(conn, s["jo"], "2027-Q1", 10**9, "0", s["fund"])
    # 1/4 of the writer role of the film's contributor share: 10 % more revenue, 10 % more money
    adj = _total(doc)
    assert 0 < adj < parse_amount(released, "USD")
    assert any(j["kind"] == "adjustment" for j in doc["lines"])


def test_claims_cannot_be_taken_over_or_reopened(home, ledger, story):
    s = story
    mallory = register_party(home, ledger, "writer", "Jo Ghostwriter").details["id"]
    suspense.claim_credit(home, ledger, s["claim"], mallory, "trust me")
    suspense.claim_credit(home, ledger, s["claim"], s["jo"], "WGA registration #1234")
    suspense.confirm_claim(home, ledger, s["claim"])  # the owner confirms the standing claim
    with pytest.raises(Conflict, match="closed"):
        suspense.claim_credit(home, ledger, s["claim"], mallory, "again")
    with pytest.raises(Conflict, match="closed"):
        suspense.expire_claim(home, ledger, s["claim"], s["studio"], "too late")
    assert [c.confirmed_party for c in suspense.list_claims(ledger.db)] == [s["jo"]]


def test_shares_and_the_holding_period(home, ledger, story):
    s = story
    # writer: Wim holds 1/2 and the unmatched credit 1/4; 1/2 more is over 1 either way
    with pytest.raises(Conflict, match="over 1"):
        suspense.credit_unmatched(home, ledger, s["film"], "Someone", "writer", "1/2")
    with pytest.raises(Conflict, match="over 1"):
        credit_work(home, ledger, s["film"], s["jo"], "writer", "1/2")
    with pytest.raises(PolicyDenied, match="held 0 months"):
        suspense.expire_claim(home, ledger, s["claim"], s["studio"], "unclaimed")
    assert suspense._months_between("2024-01-31T00:00:00Z", "2027-01-30T23:59:59Z") == 35
    assert suspense._months_between("2024-01-31T00:00:00Z", "2027-01-31T00:00:00Z") == 36


def _future(months: int) -> str:
    now = datetime.now(UTC)
    y, m = divmod(now.month - 1 + months, 12)
    return f"{now.year + y:04d}-{m + 1:02d}-01T00:00:00.000000Z"


def expire_later(home, claim: str, owner: str, to: str, months: int = 37):
    """Log ``credit.expired`` with the ledger's clock ``months`` ahead (the ledger's own clock
    seam: log times never go back, so this is the last statement such a home logs)."""
    future = _future(months)
    later = Ledger.open(home, clock=lambda: future)
    try:
        stmt = later.new_statement("credit.expired", owner,
                                   {"claim": claim, "to": to, "reason": "unclaimed"}, future)
        return later.submit([sign_statement(stmt, home.party_key(owner))])[0]
    finally:
        later.close()


def test_after_the_holding_period_the_owner_releases_what_was_held(home, ledger, story,
                                                                   tmp_path):
    s = story
    _import(home, ledger, tmp_path, s, "q1.csv", "2027-Q1", "5000.00")
    with ledger.db.read() as conn:
        held = suspense.held(conn, s["claim"])
    ledger.close()
    with pytest.raises(PolicyDenied, match="neither the work's owner nor a guild"):
        expire_later(home, s["claim"], s["studio"], s["dev"])
    r = expire_later(home, s["claim"], s["studio"], s["studio"])
    assert r.details["released"] == {"USD": f"{held['USD'] / 100:.2f}"}
    again = Ledger.open(home)
    try:
        with again.db.read() as conn:
            assert suspense.held(conn, s["claim"]) == {}
            assert conn.scalar(select(func.sum(fund_postings.c.amount)).where(
                fund_postings.c.journal == f"release:{s['claim']}",
                fund_postings.c.account == f"payee:{s['studio']}")) == held["USD"]
        assert [c.status for c in suspense.list_claims(again.db)] == ["expired"]
    finally:
        again.close()


def test_a_disputed_credit_is_held_until_settled_for_one_of_the_two(home, ledger, story,
                                                                    tmp_path):
    s = story
    with pytest.raises(PolicyDenied, match="own credit"):
        suspense.dispute_credit(home, ledger, s["film"], s["writer"], "writer", s["writer"],
                                "mine")
    with pytest.raises(NotFound):
        suspense.dispute_credit(home, ledger, s["film"], s["jo"], "writer", s["writer"], "x")
    claim = suspense.dispute_credit(home, ledger, s["film"], s["writer"], "writer", s["jo"],
                                    "I wrote the second act").details["claim"]
    with pytest.raises(Conflict, match="already disputed"):
        suspense.dispute_credit(home, ledger, s["film"], s["writer"], "writer", s["jo"], "again")
    _import(home, ledger, tmp_path, s, "q1.csv", "2027-Q1", "2000.00")
    with ledger.db.read() as conn:
        held = suspense.held(conn, claim)
        writer_direct = conn.scalar(select(func.count()).select_from(fund_lines).where(
            fund_lines.c.payee_id == s["writer"]))
    assert held["USD"] > 0 and writer_direct == 0  # the disputed credit's money is held
    with pytest.raises(PolicyDenied, match="not by expiry"):
        suspense.expire_claim(home, ledger, claim, s["studio"], "x")
    with pytest.raises(Conflict, match="has not claimed"):
        suspense.confirm_claim(home, ledger, claim, party=s["studio2"])
    r = suspense.confirm_claim(home, ledger, claim, party=s["writer"])  # settled: the writer's
    assert r.details["released"] == {"USD": f"{held['USD'] / 100:.2f}"}
    _import(home, ledger, tmp_path, s, "q2.csv", "2027-Q2", "2000.00")
    with ledger.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(fund_lines).where(
            fund_lines.c.payee_id == s["writer"])) > 0  # the credit pays the writer again
        assert not conn.scalar(select(func.count()).select_from(fund_lines).where(
            fund_lines.c.payee_id == s["jo"]))
