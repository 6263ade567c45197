"""The creative fund on both backends: a worked example to the cent (two quarters, one corrected
report, a currency conversion, threshold carry-forward), idempotent import, bad rows, the
double-entry ledger, and allocation properties with hypothesis."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fund_story import build, csv_report
from hypothesis_profiles import examples
from reelrights.core.fund_rules import (
    BundleFacts,
    Credit,
    GuildRule,
    LicenseTerms,
    PoolFacts,
    Usage,
    pool_tree,
)
from reelrights.core.money import parse_amount
from reelrights.core.royalty import allocate, flatten
from reelrights.errors import BadInput, Conflict
from reelrights.fund import revenue_import
from reelrights.fund import royalty_statement_issue as statement_issue
from reelrights.store.fund_tables import fund_lines, fund_postings
from reelrights.store.tables import log_entries


def _size(ledger) -> int:
    with ledger.db.read() as conn:
        return conn.scalar(select(func.count()).select_from(log_entries))


def _amounts(doc) -> list[tuple[str, str, str, str]]:
    return [(li["kind"], li["revenue_period"], li["role"], li["amount"]) for li in doc["lines"]]


@pytest.fixture
def fund(home, ledger, tmp_path):
    ids = build(home, ledger, tmp_path)
    p = ids["production"]
    q1 = csv_report(tmp_path / "q1.csv", [(p, "2027-Q1", "US", "USD", "12345.67", "1234.56")])
    ids["r1"] = revenue_import.import_report(home, ledger, q1, ids["studio"])["id"]
    return ids


def test_worked_example_reconciles_to_the_cent(home, ledger, fund, tmp_path):
    ids, p = fund, fund["production"]
    q1 = {who: statement_issue.issue_statement(home, ledger, ids[who], "2027-Q1",
                                               threshold="200")[0]
          for who in ("studio", "studio2", "performer", "writer", "guild")}
    # Net 11,111.11 USD. Usage 3 film items : 1 script item; fund shares 10 % and 5 %, so the
    # pool shares are film 3/40, script 1/80, retained 73/80. Film: holder 1/2; contributors
    # 1/2 split over performer and writer; the writer holds 1/2 of the writer role (the rest
    # returns to the holder); the performer's guild takes 25 %.
    assert _amounts(q1["studio"]) == [("retained", "2027-Q1", "retained", "10138.89"),
                                      ("earning", "2027-Q1", "rights-holder", "416.66"),
                                      ("earning", "2027-Q1", "rights-holder", "104.17")]
    assert _amounts(q1["performer"]) == [("earning", "2027-Q1", "performer", "156.25")]
    assert _amounts(q1["writer"]) == [("earning", "2027-Q1", "writer", "104.17")]
    assert _amounts(q1["guild"]) == [("earning", "2027-Q1", "guild-fund", "52.08")]
    assert _amounts(q1["studio2"]) == [("earning", "2027-Q1", "rights-holder", "138.89")]
    total = sum(parse_amount(li["amount"], "USD") for d in q1.values() for li in d["lines"])
    assert total == 1111111  # the pool, exactly
    # Threshold 200.00: the performer's 156.25 carries forward; the studio's 520.83 is paid.
    assert q1["performer"]["summary"][0]["carried_forward"] == "156.25"
    assert q1["performer"]["summary"][0]["paid"] == "0.00"
    assert q1["studio"]["summary"][0]["paid"] == "520.83"
    assert q1["studio"]["rounding"][0]["rounding_minor"] == "-37/320"

    # Q2: USD and EUR revenue (EUR converted once, 1,800.00 x 1.0842 = 1,951.56 USD), and the
    # Q1 report corrected (net 10,000.00): adjustment lines, the original left as it was.
    q2 = csv_report(tmp_path / "q2.csv", [(p, "2027-Q2", "US", "USD", "5000.00", "0"),
                                          (p, "2027-Q2", "FR", "EUR", "2000.00", "200.00")])
    with pytest.raises(BadInput, match="no exchange rate from EUR to USD"):
        revenue_import.import_report(home, ledger, q2, ids["studio"])
    out = revenue_import.import_report(home, ledger, q2, ids["studio"],
                                       rates=("EUR:USD=1.0842",), rate_source="ECB",
                                       rate_date="2027-06-30")
    assert out["pools"][0]["net"] == "6951.56"
    fix = csv_report(tmp_path / "q1b.csv", [(p, "2027-Q1", "US", "USD", "12345.67", "2345.67")])
    corr = revenue_import.import_report(home, ledger, fix, ids["studio"], period="2027-Q2",
                                        supersedes=ids["r1"])
    with pytest.raises(Conflict, match="already superseded"):
        revenue_import.import_report(home, ledger, csv_report(tmp_path / "q1c.csv", [
            (p, "2027-Q1", "US", "USD", "12345.67", "2000.00")]), ids["studio"],
            supersedes=ids["r1"])
    q2s = {who: statement_issue.issue_statement(home, ledger, ids[who], "2027-Q2",
                                                threshold="200")[0]
           for who in ("studio", "studio2", "performer", "writer", "guild")}
    # The corrected pool (1,000,000 cents) gives the performer 14,062.5 and the guild 4,687.5:
    # equal remainders, one cent left, so it goes to the smaller payee id (never input order).
    perf_wins = ids["performer"] < ids["guild"]
    adj = "-15.62" if perf_wins else "-15.63"
    assert _amounts(q2s["performer"]) == [("earning", "2027-Q2", "performer", "97.76"),
                                          ("adjustment", "2027-Q1", "performer", adj)]
    assert _amounts(q2s["guild"])[1][3] == ("-5.21" if perf_wins else "-5.20")
    perf = q2s["performer"]["summary"][0]
    assert (perf["carried_in"], perf["paid"], perf["carried_forward"]) == \
        ("156.25", "238.39" if perf_wins else "238.38", "0.00")
    writer = q2s["writer"]["summary"][0]
    assert (writer["earned"], writer["adjustments"], writer["carried_in"], writer["paid"],
            writer["carried_forward"]) == ("65.17", "-10.42", "104.17", "0.00", "158.92")
    assert q2s["guild"]["lines"][1]["supersedes"] == ids["r1"]
    # Everything booked in Q2 sums to the new pool plus the correction's difference.
    total = sum(parse_amount(li["amount"], "USD") for d in q2s.values() for li in d["lines"])
    assert total == 695156 + (1000000 - 1111111)
    # The correction never rewrote Q1: re-issuing Q1 gives the same statement.
    again = statement_issue.issue_statement(home, ledger, ids["performer"], "2027-Q1",
                                            threshold="200")
    assert again[0] == q1["performer"] and again[3] is False
    assert corr["new"] is True


def test_import_is_idempotent_and_keyed_by_canonical_rows(home, ledger, fund, tmp_path):
    ids, p = fund, fund["production"]
    size = _size(ledger)
    same = csv_report(tmp_path / "again.csv", [(p, "2027-Q1", "US", "USD", "12345.670", "1234.56")])
    out = revenue_import.import_report(home, ledger, same, ids["studio"])
    assert out == {**out, "id": ids["r1"], "new": False}
    assert _size(ledger) == size
    rows = [(p, "2027-04", "US", "USD", "10", "1"), (p, "2027-05", "CA", "CAD", "7.5", "0")]
    a = revenue_import.import_report(home, ledger, csv_report(tmp_path / "a.csv", rows),
                                     ids["studio"], rates=("CAD:USD=0.73",), rate_source="BoC",
                                     rate_date="2027-06-30")
    b = revenue_import.import_report(home, ledger, csv_report(tmp_path / "b.csv", rows[::-1]),
                                     ids["studio"], rates=("CAD:USD=0.73",), rate_source="BoC",
                                     rate_date="2027-06-30")
    assert a["id"] == b["id"] and a["new"] and not b["new"]
    assert a["period"] == "2027-Q2"


@pytest.mark.parametrize("row, column", [
    (("{p}", "2027-Q5", "US", "USD", "1.00", "0"), "period"),
    (("{p}", "2027-Q1", "USA", "USD", "1.00", "0"), "territory"),
    (("{p}", "2027-Q1", "US", "USD", "1.001", "0"), "gross"),
    (("{p}", "2027-Q1", "US", "JPY", "100", "0.5"), "deductions"),
    (("{p}", "2027-Q1", "US", "XXX", "1", "0"), "currency"),
    (("prd_aaaaaaaaaaaaaaaa", "2027-Q1", "US", "USD", "1", "0"), "production"),
])
def test_bad_row_names_file_line_column_and_writes_nothing(home, ledger, fund, tmp_path, row,
                                                           column):
    size = _size(ledger)
    good = (fund["production"], "2027-Q1", "GB", "USD", "5", "0")
    path = csv_report(tmp_path / "bad.csv",
                      [good, tuple(c.format(p=fund["production"]) for c in row)])
    with pytest.raises(BadInput) as exc:
        revenue_import.import_report(home, ledger, path, fund["studio"])
    assert f"bad.csv:3: column {column}" in exc.value.message
    assert _size(ledger) == size


def test_ledger_postings_balance(home, ledger, fund):
    with ledger.db.read() as conn:
        journals = conn.execute(select(fund_postings.c.journal, func.sum(fund_postings.c.amount))
                                .group_by(fund_postings.c.journal)).all()
        lines = conn.scalar(select(func.sum(fund_lines.c.amount)))
    assert journals and all(int(total) == 0 for _, total in journals)
    assert int(lines) == 1111111


# -- properties (pure) ---------------------------------------------------------------------------
_ROLES = ("performer", "writer", "director")


@st.composite
def _pools(draw):
    n_bundles = draw(st.integers(1, 4))
    usages, terms, bundles, guilds, credits_all = [], {}, {}, {}, []
    for b in range(n_bundles):
        bid, lic = f"bnd_{b}", f"lic_{b}"
        usages.append(Usage(bid, lic, {"items": draw(st.integers(0, 50)),
                                       "seconds": draw(st.integers(0, 10**6))}))
        terms[lic] = LicenseTerms(lic, Fraction(draw(st.integers(1, 1000)), 1000),
                                  contributors_share=Fraction(draw(st.integers(0, 100)), 100))
        works = tuple(f"wrk_{b}_{w}" for w in range(draw(st.integers(1, 3))))
        creds = []
        for w in works:
            for role in draw(st.lists(st.sampled_from(_ROLES), max_size=3, unique=True)):
                left = Fraction(1)
                for p in range(draw(st.integers(1, 3))):
                    share = min(left, Fraction(draw(st.integers(1, 7)), 7))
                    if share <= 0:
                        break
                    left -= share
                    creds.append(Credit(w, f"pty_{p}", role, share, 10 + p))
        for c in creds:
            if draw(st.booleans()):
                guilds[(c.party, c.role)] = GuildRule("pty_guild", "agr_1", Fraction(1, 4), 5)
        bundles[bid] = BundleFacts(bid, f"pty_owner{b % 2}", works, tuple(creds))
        credits_all += creds
    if sum(u.units["items"] for u in usages) == 0:
        usages[0] = Usage(usages[0].bundle, usages[0].license, {"items": 1, "seconds": 0})
    net = draw(st.integers(-10**9, 10**12))
    return net, PoolFacts("pty_producer", tuple(usages), terms, bundles, guilds)


def _allocation(net: int, facts: PoolFacts) -> dict:
    tree, _ = pool_tree(facts)
    return allocate(net, flatten(tree))


@settings(max_examples=examples(150), deadline=None)
@given(_pools(), st.randoms(use_true_random=False))
def test_every_pool_sums_exactly_and_order_never_changes_a_payout(pool, rnd):
    net, facts = pool
    first = _allocation(net, facts)
    assert sum(first.values()) == net
    assert sum(flatten(pool_tree(facts)[0]).values()) == 1
    usages = list(facts.usages)
    rnd.shuffle(usages)
    shuffled_bundles = {}
    for bid in rnd.sample(sorted(facts.bundles), len(facts.bundles)):
        b = facts.bundles[bid]
        shuffled_bundles[bid] = BundleFacts(b.bundle, b.owner,
                                            tuple(rnd.sample(b.works, len(b.works))),
                                            tuple(rnd.sample(b.credits, len(b.credits))))
    shuffled = PoolFacts(facts.producer, tuple(usages), dict(reversed(facts.terms.items())),
                         shuffled_bundles, dict(reversed(facts.guilds.items())))
    assert _allocation(net, shuffled) == first


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["US", "GB", "FR"]), st.integers(0, 10**9),
                          st.integers(0, 10**6)), min_size=1, max_size=12),
       st.randoms(use_true_random=False))
def test_canonical_rows_hash_ignores_order(rows, rnd):
    def canon(items):
        return revenue_import.canonical_rows([
            {"production": "prd_aaaaaaaaaaaaaaaa", "period": "2027-Q1", "territory": t,
             "currency": "USD", "gross": f"{g // 100}.{g % 100:02d}",
             "deductions": f"{d // 100}.{d % 100:02d}"} for t, g, d in items])
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert revenue_import.rows_sha256(canon(rows)) == revenue_import.rows_sha256(canon(shuffled))


def test_ties_go_to_the_smaller_payee_id():
    facts = PoolFacts("pty_producer", (Usage("bnd_a", "lic_a", {"items": 1}),),
                      {"lic_a": LicenseTerms("lic_a", Fraction(1), contributors_share=Fraction(1))},
                      {"bnd_a": BundleFacts("bnd_a", "pty_owner", ("wrk_1",), (
                          Credit("wrk_1", "pty_b", "writer", Fraction(1, 3), 1),
                          Credit("wrk_1", "pty_a", "writer", Fraction(1, 3), 2),
                          Credit("wrk_1", "pty_c", "writer", Fraction(1, 3), 3)))})
    out = {k.payee: v for k, v in _allocation(100, facts).items()}
    assert out == {"pty_a": 34, "pty_b": 33, "pty_c": 33}


def _two_bundles(basis_a: str, basis_b: str, weights: dict) -> PoolFacts:
    return PoolFacts(
        "pty_producer",
        (Usage("bnd_a", "lic_a", {"items": 3}), Usage("bnd_b", "lic_b", {"items": 1})),
        {"lic_a": LicenseTerms("lic_a", Fraction(1, 10), basis=basis_a,
                               contributors_share=Fraction(0), rule="fund.terms@42"),
         "lic_b": LicenseTerms("lic_b", Fraction(1, 10), basis=basis_b)},
        {"bnd_a": BundleFacts("bnd_a", "pty_a", ("wrk_a",)),
         "bnd_b": BundleFacts("bnd_b", "pty_b", ("wrk_b",))}, {}, weights)


def test_attribution_weights_apply_only_when_every_license_asks_and_weights_exist():
    w = {"bnd_a": Fraction(1, 4), "bnd_b": Fraction(3, 4)}
    tree, basis = pool_tree(_two_bundles("attribution", "attribution", w))
    shares = {k.payee: v for k, v in flatten(tree).items()}
    assert basis["basis"] == "attribution"
    assert shares == {"pty_a": Fraction(1, 40), "pty_b": Fraction(3, 40),
                      "pty_producer": Fraction(9, 10)}
    for mixed in (_two_bundles("attribution", "units", w),
                  _two_bundles("attribution", "attribution", {"bnd_a": Fraction(1)})):
        tree, basis = pool_tree(mixed)
        shares = {k.payee: v for k, v in flatten(tree).items()}
        assert basis["basis"] == "units:items"
        assert shares["pty_a"] == Fraction(3, 40) and shares["pty_b"] == Fraction(1, 40)
    # fund.terms with contributors_share 0: the holder keeps it all, and the line says why.
    keys = {k.payee: k.rule for k in flatten(pool_tree(_two_bundles("units", "units", {}))[0])}
    assert keys["pty_a"] == "R-HOLDER/fund.terms@42" and keys["pty_b"] == "R-HOLDER/default"


# -- re-submitted reports: nothing dropped silently (issue 9, point 6) ------------------------
def _rated(home, ledger, path, studio, rate="1.0842", source="ECB", date="2027-06-30",
           **kw):
    return revenue_import.import_report(home, ledger, path, studio, rates=(f"EUR:USD={rate}",),
                                        rate_source=source, rate_date=date, **kw)


@pytest.mark.parametrize("change, named", [
    ({"rate": "1.0900"}, ["EUR:USD rate 1.0900 here, 1.0842 booked"]),
    ({"source": "Fed"}, ["rate source Fed here, ECB booked"]),
    ({"date": "2027-06-29"}, ["rate date 2027-06-29 here, 2027-06-30 booked"]),
    ({"period": "2027-Q3"}, ["booking period 2027-Q3 here, 2027-Q2 booked"]),
])
def test_reimport_with_another_rate_or_period_is_refused_not_dropped(home, ledger, fund,
                                                                       tmp_path, change, named):
    p = fund["production"]
    report = csv_report(tmp_path / "eu.csv", [(p, "2027-Q2", "FR", "EUR", "2000.00", "200.00")])
    first = _rated(home, ledger, report, fund["studio"])
    size = _size(ledger)
    # byte-identical: idempotent
    again = _rated(home, ledger, report, fund["studio"])
    assert (again["id"], again["new"]) == (first["id"], False)
    with pytest.raises(Conflict) as exc:
        _rated(home, ledger, report, fund["studio"], **change)
    message = exc.value.message
    assert "eu.csv" in message and f"--supersedes {first['id']}" in message
    for text in named:
        assert text in message, message
    assert _size(ledger) == size
    # the pointer works: the correction with the new rate or period is booked
    fixed = _rated(home, ledger, report, fund["studio"], supersedes=first["id"], **change)
    assert fixed["new"] and fixed["id"] != first["id"]
    with ledger.db.read() as conn:
        from reelrights.fund.allocation import report_body
        from reelrights.store.fund_tables import revenue_reports
        body = report_body(conn, fixed["log_index"])
        old = conn.execute(select(revenue_reports).where(
            revenue_reports.c.id == first["id"])).one()
    assert old.superseded_by == fixed["id"]
    assert body["supersedes"] == first["id"]


def test_reimport_with_changed_rows_is_refused_naming_them(home, ledger, fund, tmp_path):
    p = fund["production"]
    size = _size(ledger)
    changed = csv_report(tmp_path / "q1-again.csv",
                         [(p, "2027-Q1", "US", "USD", "12000.00", "1234.56")])
    with pytest.raises(Conflict) as exc:
        revenue_import.import_report(home, ledger, changed, fund["studio"])
    message = exc.value.message
    assert "q1-again.csv" in message and f"--supersedes {fund['r1']}" in message
    assert "gross 12000.00 here, 12345.67 booked" in message
    assert _size(ledger) == size


def test_superseding_with_nothing_changed_is_refused(home, ledger, fund, tmp_path):
    p = fund["production"]
    same = csv_report(tmp_path / "same.csv", [(p, "2027-Q1", "US", "USD", "12345.67", "1234.56")])
    with pytest.raises(Conflict, match="a correction must change them"):
        revenue_import.import_report(home, ledger, same, fund["studio"], supersedes=fund["r1"])


@pytest.mark.parametrize("territory", ["ZZ", "QQ", "XK", "EU", "USA"])
def test_report_territory_must_be_iso_3166_alpha_2(home, ledger, fund, tmp_path, territory):
    path = csv_report(tmp_path / "terr.csv",
                      [(fund["production"], "2027-Q3", territory, "USD", "1.00", "0")])
    with pytest.raises(BadInput, match=rf"terr.csv:2: column territory \('{territory}'\)"):
        revenue_import.import_report(home, ledger, path, fund["studio"])


def test_a_report_signed_elsewhere_with_a_made_up_territory_is_refused(home, ledger, fund):
    from reelrights.errors import InvalidStatement
    from reelrights.registry.submit import submit_as

    rows = [{"production": fund["production"], "period": "2027-Q3", "territory": "ZZ",
             "currency": "USD", "gross": "1.00", "deductions": "0.00"}]
    sha = revenue_import.rows_sha256(rows)
    from reelrights.fund.types import derived_id
    body = {"id": derived_id("rev", fund["studio"], sha, ""), "reporter": fund["studio"],
            "period": "2027-Q3", "rows_sha256": sha, "rows": rows, "rates": []}
    size = _size(ledger)
    with pytest.raises(InvalidStatement, match="/statement/body/rows/0/territory"):
        submit_as(home, ledger, "revenue.reported", fund["studio"], body)
    assert _size(ledger) == size


def test_the_row_limit_names_the_file_and_says_to_split_it(home, ledger, fund, tmp_path):
    rows = [(fund["production"], "2027-Q3", code, "USD", "1.00", "0")
            for code in sorted(revenue_import.parse_territory.__wrapped__.__globals__[
                "_tables"]()[0])[:401]]
    path = csv_report(tmp_path / "huge.csv", rows[:249] * 2)
    with pytest.raises(BadInput) as exc:
        revenue_import.import_report(home, ledger, path, fund["studio"])
    assert "huge.csv" in exc.value.message and "498 rows" in exc.value.message
    assert "split it" in exc.value.message
