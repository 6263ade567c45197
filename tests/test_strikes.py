"""Guild strikes on both backends: during a strike no license needing the guild and no consent
of its members is in force for new runs and generations; check names the strike; the period
ends with a second statement; neither end can be backdated; only the guild ends it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.core.ids import new_id
from reelrights.errors import Conflict, InvalidStatement, NotFound, PolicyDenied
from reelrights.evidence import runs
from reelrights.registry.parties import register_party
from reelrights.registry.submit import submit_as
from reelrights.rights import licensing, strikes
from test_rights import _check, _consent, _grant
from test_rights import story as rights_story  # noqa: F401  (the fixture)

TODAY = datetime.now(UTC).date()
ON = date(2027, 6, 1)  # inside the license's term (until 2027-12-31)


@pytest.fixture
def story(rights_story):  # noqa: F811
    return rights_story


@pytest.fixture
def licensed(home, ledger, story):
    lic = _grant(home, ledger, story)
    licensing.cosign_license(home, ledger, lic, story["guild"])
    story["lic"] = lic
    return story


def test_a_strike_suspends_the_guilds_licenses_and_members_consents(home, ledger, licensed):
    s = licensed
    cid = _consent(home, ledger, s)
    assert _check(ledger, s).allowed
    assert _check(ledger, s, "synthesizeVoice", performer=s["a"]).consent == cid
    r = strikes.declare_strike(home, ledger, s["guild"], TODAY, "TV/Theatrical 2027 strike")
    strike_id = r.details["id"]
    during = _check(ledger, s)
    assert not during.allowed
    assert any(strike_id in x and "not in force" in x for x in during.reasons)
    voice = _check(ledger, s, "synthesizeVoice", performer=s["a"])
    assert not voice.allowed and any(strike_id in x and "consent" in x for x in voice.reasons)
    # the day before the strike began is not affected (a strike is not retroactive)
    assert not any(strike_id in x for x in _check(ledger, s, on=TODAY - timedelta(days=1)).reasons)
    strikes.end_strike(home, ledger, strike_id, date(2027, 7, 1))
    assert not _check(ledger, s, on=date(2027, 6, 30)).allowed
    back = _check(ledger, s, on=date(2027, 7, 1))
    assert back.allowed and not any(strike_id in x for x in back.reasons)
    listed = strikes.list_strikes(ledger.db, s["guild"])
    assert [(x.id, x.ends_on) for x in listed] == [(strike_id, "2027-07-01")]


def test_a_non_member_performer_and_unrelated_guilds_are_unaffected(home, ledger, licensed):
    s = licensed  # a second guild on strike does not touch a license SPG co-signed
    g2 = register_party(home, ledger, "guild", "Other Guild").details["id"]
    strikes.declare_strike(home, ledger, g2, TODAY, "unrelated")
    assert _check(ledger, s).allowed
    # performer B is no SPG member: SPG's strike does not suspend B's consent
    strikes.declare_strike(home, ledger, s["guild"], TODAY, "SPG strike")
    cid = _consent(home, ledger, s, performer="b")
    from reelrights.rights.policy import _consent as consent_check
    from reelrights.rights.policy import resolve_context

    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=s["dev"], action="synthesizeVoice",
                              model_family="orbit", on=ON, territory="US", performer=s["b"])
        got = consent_check(conn, ctx, s["b"])
    assert got.ok and got.consent_id == cid


def test_a_backdated_start_or_end_is_refused(home, ledger, story):
    with pytest.raises(InvalidStatement, match="cannot take effect in the past"):
        strikes.declare_strike(home, ledger, story["guild"], TODAY - timedelta(days=3), "late")
    sid = strikes.declare_strike(home, ledger, story["guild"], TODAY, "now").details["id"]
    with pytest.raises(InvalidStatement, match="cannot take effect in the past"):
        strikes.end_strike(home, ledger, sid, TODAY - timedelta(days=3))
    with pytest.raises(Conflict, match="already on strike"):
        strikes.declare_strike(home, ledger, story["guild"], TODAY + timedelta(days=5), "two")


def test_only_the_striking_guild_ends_it_and_only_once(home, ledger, story):
    sid = strikes.declare_strike(home, ledger, story["guild"], TODAY, "now").details["id"]
    # the studio signs an end for the guild's strike: refused
    with pytest.raises(PolicyDenied, match="only .* the striking guild"):
        submit_as(home, ledger, "strike.ended", story["studio"],
                  {"strike": sid, "end": (TODAY + timedelta(days=9)).isoformat()})
    with pytest.raises(PolicyDenied, match="not a guild"):
        strikes.declare_strike(home, ledger, story["studio"], TODAY, "a studio cannot strike")
    with pytest.raises(NotFound):
        strikes.end_strike(home, ledger, new_id("strike"), TODAY)
    strikes.end_strike(home, ledger, sid, TODAY + timedelta(days=9))
    with pytest.raises(Conflict, match="already ended"):
        submit_as(home, ledger, "strike.ended", story["guild"],
                  {"strike": sid, "end": (TODAY + timedelta(days=10)).isoformat()})


def test_a_run_begun_during_a_strike_is_judged_without_the_guilds_licenses(home, ledger,
                                                                           licensed, tmp_path):
    s = licensed
    strikes.declare_strike(home, ledger, s["guild"], TODAY, "strike")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({
        "sha256": s["film_assets"][0], "kind": "video", "units": 30, "unit": "seconds",
        "basis": {"type": "license", "license": s["lic"], "bundle": s["bundle"]}}) + "\n")
    out = runs.commit_run(home, ledger, manifest, s["dev"], "orbit", "orbit-1")
    assert s["lic"] in out["licenses_not_in_force"]
    detail = runs.run_detail(ledger.db, out["id"])
    assert any("on strike" in (u.out_of_force or "") for u in detail.usage)


def test_cli_strike_commands(home, ledger, story):
    runner = CliRunner()
    h = ["--home", str(home.path)]
    r = runner.invoke(cli, [*h, "guild", "strike", "--guild", story["guild"], "--start",
                            TODAY.isoformat(), "--description", "pay and AI terms", "--json"])
    assert r.exit_code == 0, r.output
    sid = json.loads(r.output)["id"]
    r = runner.invoke(cli, [*h, "guild", "strikes", "--json"])
    assert [x["id"] for x in json.loads(r.output)] == [sid]
    r = runner.invoke(cli, [*h, "guild", "strike", "--guild", story["guild"], "--start",
                            (TODAY - timedelta(days=30)).isoformat(), "--description", "x"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = runner.invoke(cli, [*h, "guild", "end-strike", sid, "--end", "2027-01-10"])
    assert r.exit_code == 0, r.output
