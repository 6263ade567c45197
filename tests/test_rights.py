"""Licenses, guild co-signature, revocation, expiry and the policy engine, on both backends.

The story: a studio bundles a film crediting two performers (one a guild member) and a writer;
the guild's agreement covers performers, so the license needs the guild's co-signature; the
license lets Orbit AI train model family "orbit" in the US until 2027-12-31 and synthesize the
voice of performer A with A's consent.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

from fake_works import register_fake_work
from reelrights.cli import cli
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.odrl import InvalidPolicy
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, Conflict, PolicyDenied
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.rights import bundles, consent, licensing
from reelrights.rights.policy import check, check_manifest, resolve_context

ON = date(2027, 6, 1)


@pytest.fixture
def story(home, ledger):
    ids = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("guild", "guild", "SPG"),
                              ("a", "performer", "Ada"), ("b", "performer", "Bruno"),
                              ("writer", "writer", "Mara"), ("dev", "developer", "Orbit AI"),
                              ("dev2", "developer", "Other AI"), ("studio2", "studio", "Rival")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    ids["film"], ids["film_assets"] = register_fake_work(home, ledger, ids["studio"], "Harbour Lights")
    ids["outside"], ids["outside_assets"] = register_fake_work(home, ledger, ids["studio"], "Unbundled")
    for party, role, share in [("a", "performer", "0.6"), ("b", "performer", "0.4"),
                               ("writer", "writer", "1")]:
        credit_work(home, ledger, ids["film"], ids[party], role, share)
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [ids["film"]]).details["id"]
    ids["agreement"] = licensing.add_agreement(home, ledger, ids["guild"], "TV/Theatrical 2023",
                                               ["performer"], "25").details["id"]
    licensing.add_member(home, ledger, ids["guild"], ids["a"])
    ids["policy"] = training_agreement(
        uid="urn:reelrights:policy:test-1", licensor=ids["studio"], licensee=ids["dev"],
        bundle=ids["bundle"], model_family="orbit", territories=["US"], until="2027-12-31",
        fund_share="2.5", voice_performers=[ids["a"]])
    return ids


def _grant(home, ledger, story) -> str:
    return licensing.grant_license(home, ledger, story["bundle"], story["dev"],
                                   story["policy"]).details["id"]


def _check(ledger, story, action="train", *, on=ON, **kw):
    item = {k: kw.pop(k) for k in ("asset", "work", "bundle") if k in kw} or {"work": story["film"]}
    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=kw.pop("licensee", story["dev"]), action=action,
                              model_family=kw.pop("model_family", "orbit"), on=on,
                              territory=kw.pop("territory", "US"), **kw)
        return check(conn, ctx, **item)


def _consent(home, ledger, story, performer="a", **kw):
    args = dict(performer=story[performer], kinds=["voice"],
                description="Synthesized narration lines in the Orbit trailer for Harbour Lights",
                media=["audio"], territory=["US"], start=datetime.now(UTC).date(), end=date(2027, 12, 31),
                compensation_ref="SPG-2026-0042", represented_by="guild", model_family="orbit")
    args.update(kw)
    return consent.grant_consent(home, ledger, **args).details["id"]


def test_license_needs_the_guild_cosignature_then_allows_training(home, ledger, story) -> None:
    lic = _grant(home, ledger, story)
    v = _check(ledger, story)
    assert not v.allowed
    assert any("missing co-signature" in r and story["guild"] in r for r in v.reasons)
    licensing.cosign_license(home, ledger, lic, story["guild"])
    v = _check(ledger, story)
    assert v.allowed and v.license == lic
    assert any("/permission/0" in r for r in v.reasons)


def test_required_cosigners_are_recomputed_and_a_forged_list_is_refused(home, ledger, story) -> None:
    body = {"id": new_id("license"), "bundle": story["bundle"], "licensor": story["studio"],
            "licensee": story["dev"], "policy": story["policy"], "required_cosigners": []}
    entry = sign_statement(ledger.new_statement("license.granted", story["studio"], body),
                           home.party_key(story["studio"]))
    with ledger.db.read() as conn:
        before = ledger.log.head(conn)
    with pytest.raises(Conflict, match="required_cosigners"):
        ledger.submit([entry])
    with ledger.db.read() as conn:
        assert ledger.log.head(conn) == before


def test_only_required_guilds_cosign_and_only_the_owner_grants(home, ledger, story) -> None:
    lic = _grant(home, ledger, story)
    other = register_party(home, ledger, "guild", "Other Guild").details["id"]
    licensing.add_agreement(home, ledger, other, "Other", ["writer"], "10")
    with pytest.raises(PolicyDenied, match="not a required co-signer"):
        licensing.cosign_license(home, ledger, lic, other)
    body = {"id": new_id("license"), "bundle": story["bundle"], "licensor": story["studio2"],
            "licensee": story["dev"], "policy": story["policy"],
            "required_cosigners": [story["guild"]]}
    with pytest.raises(PolicyDenied, match="only the bundle's owner"):
        ledger.submit([sign_statement(ledger.new_statement("license.granted", story["studio2"], body),
                                      home.party_key(story["studio2"]))])


def test_bad_policies_are_refused_with_their_pointer(home, ledger, story) -> None:
    wrong = dict(story["policy"], assignee="urn:reelrights:party:" + story["dev2"])
    with pytest.raises(InvalidPolicy) as exc:
        licensing.grant_license(home, ledger, story["bundle"], story["dev"], wrong)
    assert exc.value.pointer == "/assignee"
    offer = dict(story["policy"], **{"@type": "Offer"})
    with pytest.raises(InvalidPolicy) as exc:
        licensing.grant_license(home, ledger, story["bundle"], story["dev"], offer)
    assert exc.value.pointer == "/@type"
    bad_op = json.loads(json.dumps(story["policy"]))
    bad_op["permission"][0]["constraint"][0]["operator"] = "approximately"
    with pytest.raises(InvalidPolicy) as exc:
        licensing.grant_license(home, ledger, story["bundle"], story["dev"], bad_op)
    assert exc.value.pointer == "/permission/0/constraint/0/operator"
    with pytest.raises(BadInput, match="developer"):
        licensing.grant_license(home, ledger, story["bundle"], story["writer"],
                                dict(story["policy"], assignee="urn:reelrights:party:" + story["writer"]))


def test_terms_territory_model_family_expiry_and_other_licensees(home, ledger, story) -> None:
    lic = _grant(home, ledger, story)
    licensing.cosign_license(home, ledger, lic, story["guild"])
    assert _check(ledger, story).allowed
    fr = _check(ledger, story, territory="FR")
    assert not fr.allowed and any("spatial" in r for r in fr.reasons)
    assert not _check(ledger, story, model_family="other").allowed
    late = _check(ledger, story, on=date(2028, 1, 1))
    assert not late.allowed and any("dateTime" in r for r in late.reasons)
    early = _check(ledger, story, on=date(2020, 1, 1))
    assert not early.allowed and any("granted after" in r for r in early.reasons)
    assert not _check(ledger, story, licensee=story["dev2"]).allowed
    assert _check(ledger, story, "fineTune").allowed  # fine-tuning is a kind of training
    assert not _check(ledger, story, "generate").allowed
    outside = _check(ledger, story, work=story["outside"])
    assert not outside.allowed and any("no bundle licensed" in r for r in outside.reasons)
    assert _check(ledger, story, asset=story["film_assets"][0]).allowed
    assert _check(ledger, story, bundle=story["bundle"]).allowed


def test_revocation_applies_from_its_time_on(home, ledger, story) -> None:
    lic = _grant(home, ledger, story)
    licensing.cosign_license(home, ledger, lic, story["guild"])
    licensing.revoke_license(home, ledger, lic, "catalogue withdrawn")
    v = _check(ledger, story)
    assert not v.allowed and any("revoked" in r and "catalogue withdrawn" in r for r in v.reasons)
    with pytest.raises(Conflict):
        licensing.revoke_license(home, ledger, lic, "again")
    history = licensing.license_detail(ledger.db, lic).to_json()["history"]
    assert [h["type"] for h in history] == ["license.granted", "license.cosigned",
                                            "license.revoked"]


def test_voice_synthesis_needs_the_performers_own_consent(home, ledger, story) -> None:
    lic = _grant(home, ledger, story)
    licensing.cosign_license(home, ledger, lic, story["guild"])
    no_consent = _check(ledger, story, "synthesizeVoice", performer=story["a"])
    assert not no_consent.allowed
    cid = _consent(home, ledger, story)
    yes = _check(ledger, story, "synthesizeVoice", performer=story["a"])
    assert yes.allowed and yes.consent == cid
    # performer B never consented and the license fences B's voice off
    other = _check(ledger, story, "synthesizeVoice", performer=story["b"])
    assert not other.allowed
    # a sound-alike of A used outside the licensed bundle still needs A's consent
    consent.revoke_consent(home, ledger, cid, "changed my mind")
    after = _check(ledger, story, "synthesizeVoice", performer=story["a"])
    assert not after.allowed and any("revoked" in r for r in after.reasons)


def test_manifest_of_many_items_gets_one_verdict_each(home, ledger, story) -> None:
    lic = _grant(home, ledger, story)
    licensing.cosign_license(home, ledger, lic, story["guild"])
    items = story["film_assets"] * 500 + story["outside_assets"] * 250 + ["ab" * 32]
    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=story["dev"], action="train", model_family="orbit",
                              on=ON, territory="US")
        verdicts = list(check_manifest(conn, ctx, items))
    assert len(verdicts) == len(items)
    assert sum(v.allowed for _, v in verdicts) == 1000
    assert [sha for sha, _ in verdicts] == items
    denied = next(v for sha, v in verdicts if sha == story["outside_assets"][0])
    assert any("no bundle licensed" in r for r in denied.reasons)


def test_cli_check_exit_codes(home, ledger, story) -> None:
    lic = _grant(home, ledger, story)
    licensing.cosign_license(home, ledger, lic, story["guild"])
    runner = CliRunner()
    base = ["--home", str(home.path), "check", "--licensee", story["dev"], "--model-family",
            "orbit", "--date", "2027-06-01", "--territory", "US"]
    ok = runner.invoke(cli, [*base, "--action", "train", "--work", story["film"], "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["decision"] == "allow"
    deny = runner.invoke(cli, [*base, "--action", "synthesizeVoice", "--work", story["film"],
                               "--performer", story["b"]])
    assert deny.exit_code == 3
    assert deny.output.startswith("DENY")
    bad = runner.invoke(cli, [*base, "--action", "train", "--asset", "00" * 32])
    assert bad.exit_code == 2 and bad.output.count("\n") == 1
