"""Fund statements through the CLI on both backends: issue (signed, logged, byte-identical on a
rerun), JSON/CSV/HTML renderings, `fund verify` accepting each and naming an edit, and the
applier refusing a statement its facts do not give."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fund_story import build, csv_report
from reelrights.cli import cli
from reelrights.core.statements import decode_entry, sign_statement
from reelrights.errors import Conflict, NotFound
from reelrights.fund import revenue_import
from reelrights.store.fund_tables import fund_statements
from reelrights.store.tables import log_entries


@pytest.fixture
def issued(home, ledger, tmp_path):
    ids = build(home, ledger, tmp_path)
    p = ids["production"]
    revenue_import.import_report(home, ledger, csv_report(
        tmp_path / "q1.csv", [(p, "2027-Q1", "US", "USD", "12345.67", "1234.56")]), ids["studio"])
    revenue_import.import_report(home, ledger, csv_report(
        tmp_path / "q2.csv", [(p, "2027-Q2", "US", "USD", "900.00", "0")]), ids["studio"])
    ledger.close()
    return ids


def _run(home, *args):
    return CliRunner().invoke(cli, ["--home", str(home.path), *args], catch_exceptions=False)


def test_issue_render_and_verify_each_format(home, issued, tmp_path):
    files = {}
    for fmt in ("json", "csv", "html"):
        out = tmp_path / f"perf.{fmt}"
        r = _run(home, "fund", "statement", "--party", issued["performer"], "--period",
                 "2027-Q2", "--format", fmt, "-o", str(out))
        assert r.exit_code == 0, r.output
        files[fmt] = out
        v = _run(home, "fund", "verify", str(out))
        assert v.exit_code == 0 and v.output.startswith("ok: fst_"), v.output
    doc = json.loads(files["json"].read_text())
    d = doc["document"]
    assert d["header"]["period"] == "2027-Q2" and d["header"]["fund"] == issued["fund"]
    assert d["footer"]["number_of_lines"] == len(d["lines"]) == 1
    assert [h["period"] for h in d["history"]] == ["2027-Q1", "2027-Q2"]
    html = files["html"].read_text()
    assert "<svg" in html and "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    csv_lines = files["csv"].read_text().splitlines()
    assert csv_lines[0].startswith("HEAD,") and csv_lines[-1].startswith("FOOT,1,1,1,0,USD=")
    # Issued once, signed by the fund operator: the three formats name the same log entry.
    with home_db(home) as conn:
        rows = conn.execute(select(fund_statements)).all()
        entry = decode_entry(bytes(conn.scalar(select(log_entries.c.entry).where(
            log_entries.c.idx == rows[0].log_index))))
    assert len(rows) == 1 and entry.actor == issued["fund"] and entry.type == "fund.statement"
    # A rerun on the same inputs is byte-identical.
    again = tmp_path / "again.json"
    _run(home, "fund", "statement", "--party", issued["performer"], "--period", "2027-Q2",
         "-o", str(again))
    assert again.read_bytes() == files["json"].read_bytes()


class home_db:  # noqa: N801 - a tiny context manager over the home's database
    def __init__(self, home):
        from reelrights.store.db import Database

        self.db = Database(home.database_url)

    def __enter__(self):
        self.cm = self.db.read()
        return self.cm.__enter__()

    def __exit__(self, *exc):
        self.cm.__exit__(*exc)
        self.db.dispose()


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_verify_names_an_edited_amount(home, issued, tmp_path, fmt):
    out = tmp_path / f"s.{fmt}"
    assert _run(home, "fund", "statement", "--party", issued["writer"], "--period", "2027-Q1",
                "--format", fmt, "-o", str(out)).exit_code == 0
    text = out.read_text()
    assert "104.17" in text
    out.write_text(text.replace("104.17", "1104.17", 1))
    r = _run(home, "fund", "verify", str(out))
    assert r.exit_code == 1
    assert "differs from the log" in r.output and "1104.17" in r.output
    if fmt == "json":
        assert "/document/" in r.output


def test_unknown_statement_fails_verification(home, issued, tmp_path):
    out = tmp_path / "s.json"
    _run(home, "fund", "statement", "--party", issued["guild"], "--period", "2027-Q1",
         "-o", str(out))
    data = json.loads(out.read_text())
    data["statement_id"] = "fst_aaaaaaaaaaaaaaaa"
    out.write_text(json.dumps(data))
    r = _run(home, "fund", "verify", str(out))
    assert r.exit_code == 1 and "not in the log" in r.output


def test_applier_refuses_a_statement_the_log_does_not_give(home, issued, ledger, tmp_path):
    out = tmp_path / "s.json"
    _run(home, "fund", "statement", "--party", issued["studio"], "--period", "2027-Q1",
         "-o", str(out))
    data = json.loads(out.read_text())
    with home_db(home) as conn:
        entry = decode_entry(bytes(conn.scalar(select(log_entries.c.entry).where(
            log_entries.c.idx == data["log_index"]))))
    body = dict(entry.body, totals=[dict(entry.body["totals"][0], paid="9999.99")],
                id="fst_bbbbbbbbbbbbbbbb")
    forged = sign_statement(ledger.new_statement("fund.statement", issued["fund"], body),
                            home.party_key(issued["fund"]))
    with pytest.raises(Conflict, match="does not match the document recomputed"):
        ledger.submit([forged])


def test_statement_needs_a_fund_operator_and_a_quarter(home, issued):
    r = _run(home, "fund", "statement", "--party", issued["writer"], "--period", "2027-03")
    assert r.exit_code == 2 and "statements are quarterly" in r.output
    r = _run(home, "fund", "statement", "--party", issued["writer"], "--period", "2027-Q1",
             "--as", issued["studio"])
    assert r.exit_code == 2 and "kind fund" in r.output


def test_cli_production_and_import(home, issued, tmp_path):
    r = _run(home, "production", "add", "--studio", issued["studio"], "--title", "Episode 2",
             "--kind", "episode", "--currency", "EUR")
    assert r.exit_code == 0 and r.output.startswith("prd_"), r.output
    prd = r.output.strip()
    r = _run(home, "production", "use", prd, "--output", f"out_aaaaaaaaaaaaaaaa={issued['run']}",
             "--weight", f"out_aaaaaaaaaaaaaaaa:{issued['bundle']}=0.6")
    assert r.exit_code == 0, r.output
    shown = json.loads(_run(home, "production", "show", prd).output)
    assert shown["outputs"][0]["weights"] == [{"bundle": issued["bundle"], "weight": "0.6"}]
    r = _run(home, "production", "use", prd, "--output", "out_bbbbbbbbbbbbbbbb=run_aaaaaaaaaaaaaaaa")
    assert r.exit_code == 2 and "is not committed" in r.output
    report = csv_report(tmp_path / "ep.csv", [("Episode 2", "2027-03", "DE", "EUR", "100", "0")])
    r = _run(home, "fund", "import", str(report), "--as", issued["studio"], "--json")
    assert r.exit_code == 0 and json.loads(r.output)["pools"][0]["net"] == "100.00", r.output
    r = _run(home, "fund", "import", str(report), "--as", issued["studio"])
    assert r.exit_code == 0 and "already imported" in r.output
    bad = csv_report(tmp_path / "bad.csv", [("Episode 2", "2027-03", "DE", "EUR", "1.5.0", "0")])
    r = _run(home, "fund", "import", str(bad), "--as", issued["studio"])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "bad.csv:2: column gross" in r.output
    r = _run(home, "fund", "import", str(report), "--as", issued["studio2"], "--period", "2027-Q1")
    assert r.exit_code == 2 and "already imported as" in r.output


def test_the_web_pages_read_builds_the_document_once_and_the_same(home, issued, tmp_path):
    """statement_page (the web page's read): the HTML statement_html gives and the record the
    visibility matrix reads, from one build of the document."""
    from reelrights.access.records import LOADERS
    from reelrights.fund.royalty_statement_issue import statement_html, statement_page
    from reelrights.ledger import Ledger

    out = tmp_path / "perf.html"
    r = _run(home, "fund", "statement", "--party", issued["performer"], "--period", "2027-Q2",
             "--format", "html", "-o", str(out))
    assert r.exit_code == 0, r.output
    ledger = Ledger.open(home)
    try:
        with home_db(home) as conn:
            sid = conn.scalar(select(fund_statements.c.id))
        html, record = statement_page(ledger.db, sid)
        assert html == statement_html(ledger.db, sid)[0] == out.read_bytes()
        assert record == LOADERS["royalty_statement"](ledger.db, ledger.log, sid)
        with pytest.raises(NotFound, match="not in the log"):
            statement_page(ledger.db, "fst_aaaaaaaaaaaaaaaa")
    finally:
        ledger.close()
