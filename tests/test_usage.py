"""`reelrights usage` on both backends: a studio, a guild (through its members) and a performer
each see the licenses, runs, productions and earnings on their works, with log indexes."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from fund_story import build, csv_report
from reelrights.cli import cli
from reelrights.fund import revenue_import
from reelrights.registry.usage import usage_report
from reelrights.store.evidence_tables import training_runs
from reelrights.store.tables import licenses, log_entries


def test_usage_follows_works_to_licenses_runs_productions_and_earnings(home, ledger, tmp_path):
    ids = build(home, ledger, tmp_path)
    p = ids["production"]
    rep = revenue_import.import_report(home, ledger, csv_report(
        tmp_path / "q1.csv", [(p, "2027-Q1", "US", "USD", "12345.67", "1234.56")]), ids["studio"])
    with ledger.db.read() as conn:
        run_index = conn.scalar(select(training_runs.c.log_index)
                                .where(training_runs.c.id == ids["run"]))
        lic_index = conn.scalar(select(licenses.c.log_index).where(licenses.c.id == ids["lic"]))
        types = dict(conn.execute(select(log_entries.c.idx, log_entries.c.type)).all())

    studio = usage_report(ledger.db, ids["studio"]).to_json()
    assert [w["work"] for w in studio["works"]] == [ids["film"]]
    assert [x["license"] for x in studio["licenses"]] == [ids["lic"]]  # not the other studio's
    assert studio["licenses"][0]["log_index"] == lic_index
    assert [(r["run"], r["bundle"], r["items"], r["seconds"], r["log_index"])
            for r in studio["runs"]] == [(ids["run"], ids["bundle"], 3, 180, run_index)]
    assert [(o["production"], o["output"]) for o in studio["productions"]] == [
        (p, ids["output"])]
    assert types[studio["productions"][0]["log_index"]] == "production.uses"
    # The studio's fund earnings (416.66 + 104.17); the retained share is not fund money.
    assert sum(e["amount_minor"] for e in studio["earnings"]) == 52083
    assert {e["log_index"] for e in studio["earnings"]} == {rep["log_index"]}

    guild = usage_report(ledger.db, ids["guild"]).to_json()
    assert [m["party"] for m in guild["members"]] == [ids["performer"]]
    assert [w["work"] for w in guild["works"]] == [ids["film"]]
    assert guild["works"][0]["relations"][0]["role"] == "performer"
    assert [e["amount_minor"] for e in guild["earnings"]] == [5208]

    other = usage_report(ledger.db, ids["studio2"]).to_json()
    assert [x["license"] for x in other["licenses"]] == [ids["lic2"]]
    assert [r["items"] for r in other["runs"]] == [1]

    ledger.close()
    r = CliRunner().invoke(cli, ["--home", str(home.path), "usage", "--party", ids["performer"],
                                 "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["runs"][0]["run"] == ids["run"] and out["earnings"][0]["amount_minor"] == 15625
    r = CliRunner().invoke(cli, ["--home", str(home.path), "usage", "--party", "nobody"])
    assert r.exit_code == 2 and r.output.startswith("error: no party")


def test_usage_without_the_works_follows_them_all_the_same(home, ledger, tmp_path):
    """The party pages' read (works_too=False): the same bundles, licenses, runs, outputs and
    earnings as the whole report, followed in the database from every work, none listed."""
    ids = build(home, ledger, tmp_path)
    for party in (ids["studio"], ids["performer"], ids["writer"], ids["guild"]):
        whole = usage_report(ledger.db, party).to_json()
        light = usage_report(ledger.db, party, works_too=False).to_json()
        assert whole["works"] and light["works"] == []
        assert {**whole, "works": []} == light
