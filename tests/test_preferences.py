"""Declared preferences (issue 16, point 1) and standard identifiers (point 6), on both
backends: a rights holder records what it declared elsewhere as a signed statement; `check`
denies a use it disallows unless the permitting license is the declarer's own contract."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, NotFound, PolicyDenied, ReelrightsError
from reelrights.preferences.categories import Preferences
from reelrights.preferences.declared import declare_preference, list_preferences
from reelrights.preferences.sources import fetch_https
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import party_detail, register_party
from reelrights.registry.works import work_detail
from reelrights.rights import bundles, licensing
from reelrights.rights.policy import check, check_manifest, resolve_context

VOCAB = Path(__file__).parent / "assets" / "vocab"
EIDR = "eidr:10.5240/7791-8534-2C23-9030-8610-5"
ISAN = "isan:0000-0000-D07A-0090-Q-0000-0000-X"


def _work(home, ledger, owner: str, title: str, ids: list[str]) -> tuple[str, list[str]]:
    shas = [hashlib.sha256(os.urandom(16)).hexdigest() for _ in range(2)]
    body = {"id": new_id("work"), "kind": "film", "title": title, "owner": owner,
            "assets": [{"sha256": s, "size": 1000 + i, "media_type": "video/mp4",
                        "category": "video", "duration_ms": 60_000, "name": f"reel{i}.mp4"}
                       for i, s in enumerate(shas)]}
    if ids:
        body["external_ids"] = ids
    ledger.submit([sign_statement(ledger.new_statement("work.registered", owner, body),
                                  home.party_key(owner))])
    return body["id"], shas


@pytest.fixture
def world(home, ledger):
    ids = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("writer", "writer", "Mara"),
                              ("dev", "developer", "Orbit AI"), ("stranger", "studio", "Rival")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    ids["film"], ids["shas"] = _work(home, ledger, ids["studio"], "Harbour Lights", [EIDR, ISAN])
    credit_work(home, ledger, ids["film"], ids["writer"], "writer", "1")
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [ids["film"]]).details["id"]
    policy = training_agreement(
        uid="urn:reelrights:policy:prefs", licensor=ids["studio"], licensee=ids["dev"],
        bundle=ids["bundle"], model_family="orbit", territories=["US"], until="2027-12-31",
        fund_share="2.5")
    ids["license"] = licensing.grant_license(home, ledger, ids["bundle"], ids["dev"],
                                             policy).details["id"]
    return ids


def _run(home, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home.path), *args])


def _check(ledger, world, action="train", **item):
    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=world["dev"], action=action, model_family="orbit",
                              on=date(2027, 6, 1), territory="US")
        return check(conn, ctx, **(item or {"work": world["film"]}))


def test_the_owners_preference_gives_way_to_its_own_license(home, ledger, world) -> None:
    res = _run(home, "preferences", "import", str(VOCAB / "robots-aipref-attach.txt"),
               "--work", EIDR, "--path", "/films/harbour", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["format"] == "robots.txt" and out["values"] == {"train-ai": "disallowed"}
    v = _check(ledger, world)
    assert v.allowed, v.reasons
    assert any("overridden by license" in r and world["studio"] in r for r in v.reasons)


def test_a_credited_writers_preference_binds_the_studios_licensee(home, ledger, world) -> None:
    res = _run(home, "preferences", "import", str(VOCAB / "cawg-training-mining.json"),
               "--work", world["film"], "--as", world["writer"])
    assert res.exit_code == 0, res.output
    for item in ({"work": world["film"]}, {"asset": world["shas"][0]},
                 {"bundle": world["bundle"]}):
        v = _check(ledger, world, **item)
        assert not v.allowed
        assert any(f"{world['writer']} declared train-ai=disallowed" in r
                   and "does not override" in r for r in v.reasons), v.reasons
    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=world["dev"], action="train", model_family="orbit",
                              on=date(2027, 6, 1), territory="US")
        verdicts = dict(check_manifest(conn, ctx, world["shas"]))
    assert not any(v.allowed for v in verdicts.values())
    # the CLI: exit 3 and the reason
    res = _run(home, "check", "--licensee", world["dev"], "--model-family", "orbit", "--date",
               "2027-06-01", "--territory", "US", "--action", "train", "--work", EIDR)
    assert res.exit_code == 3 and res.output.startswith("DENY"), res.output
    assert "does not override that preference" in res.output
    # a later declaration of the same party replaces it: withdrawn, the license governs again
    declare_preference(home, ledger, world["film"], Preferences({"search": "allowed"}),
                       source_format="content-usage", source_sha256="00" * 32,
                       declarer=world["writer"])
    assert _check(ledger, world).allowed
    shown = list_preferences(ledger.db, world["film"])
    assert [(p.declarer, p.values) for p in shown] == [(world["writer"], {"search": "allowed"})]


def test_preferences_only_touch_their_categories(home, ledger, world) -> None:
    declare_preference(home, ledger, world["film"], Preferences({"ai-input": "disallowed"}),
                       source_format="content-usage", source_sha256="11" * 32,
                       declarer=world["writer"])
    assert _check(ledger, world, "train").allowed      # training is not an input use


def test_a_party_with_no_rights_in_the_work_cannot_declare(home, ledger, world) -> None:
    with pytest.raises(PolicyDenied) as info:
        declare_preference(home, ledger, world["film"], Preferences({"train-ai": "disallowed"}),
                           source_format="content-usage", source_sha256="22" * 32,
                           declarer=world["stranger"])
    assert "neither the owner" in str(info.value)
    assert list_preferences(ledger.db, world["film"]) == []
    assert _check(ledger, world).allowed


def test_a_forged_declaration_in_the_writers_name_is_refused(home, ledger, world) -> None:
    body = {"work": world["film"], "declarer": world["writer"],
            "values": {"train-ai": "disallowed"},
            "source": {"format": "content-usage", "sha256": "33" * 32}}
    stmt = ledger.new_statement("preference.declared", world["writer"], body)
    with pytest.raises(ReelrightsError):  # signed with the stranger's key
        ledger.submit([sign_statement(stmt, home.party_key(world["stranger"]))])
    stmt = ledger.new_statement("preference.declared", world["stranger"], body)
    with pytest.raises(ReelrightsError):  # actor is not the declarer named in the body
        ledger.submit([sign_statement(stmt, home.party_key(world["stranger"]))])
    assert list_preferences(ledger.db, world["film"]) == []


def test_a_replayed_declaration_is_refused(home, ledger, world) -> None:
    body = {"work": world["film"], "declarer": world["writer"],
            "values": {"train-ai": "disallowed"},
            "source": {"format": "content-usage", "sha256": "44" * 32}}
    signed = sign_statement(ledger.new_statement("preference.declared", world["writer"], body),
                            home.party_key(world["writer"]))
    ledger.submit([signed])
    with pytest.raises(ReelrightsError):
        ledger.submit([signed])
    assert len(list_preferences(ledger.db, world["film"])) == 1


def test_import_reads_rsl_xmp_and_refuses_bad_input(home, ledger, world, tmp_path) -> None:
    res = _run(home, "preferences", "import", str(VOCAB / "rsl-guide-ai-preferences.xml"),
               "--work", world["film"], "--json")
    assert res.exit_code == 0 and json.loads(res.output)["format"] == "rsl", res.output
    media = tmp_path / "still.png"
    media.write_bytes(b"\x89PNG\r\n\x1a\n" + (VOCAB / "iptc-dmi-aimltraining.xmp").read_bytes())
    res = _run(home, "preferences", "import", str(media), "--work", world["film"], "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["values"] == {"train-ai": "disallowed"}
    before = len(list_preferences(ledger.db, world["film"]))
    for args, words in [
        ([str(VOCAB / "rsl-entity-bomb.xml")], "DTD or entities"),
        ([str(tmp_path / "missing.txt")], "cannot read"),
        (["http://studio.example/robots.txt"], "only https"),
        (["https://127.0.0.1/robots.txt"], "non-public"),
        ([str(VOCAB / "tdmrep.json"), "--as", world["stranger"]], "neither the owner"),
    ]:
        res = _run(home, "preferences", "import", *args, "--work", world["film"])
        assert res.exit_code in (2, 3), res.output
        assert words in res.output and res.output.count("\n") == 1, res.output
    assert len(list_preferences(ledger.db, world["film"])) == before


def test_fetch_is_bounded(tmp_path) -> None:
    with pytest.raises(BadInput, match="only https"):
        fetch_https("ftp://example.com/x")
    with pytest.raises(BadInput, match="non-public"):
        fetch_https("https://localhost/robots.txt")


def test_license_project_from_a_granted_license(home, ledger, world) -> None:
    for target, words in [("aipref", "Content-Usage: train-ai=n"),
                          ("content-signals", "Content-Signal: ai-input=no, ai-train=no"),
                          ("rsl", "<payment type=\"subscription\">"),
                          ("iptc", "DMI-PROHIBITED-SEECONSTRAINT"),
                          ("cawg", "\"constrained\""), ("tdmrep", "\"tdm-reservation\": 1")]:
        res = _run(home, "license", "project", world["license"], "--to", target)
        assert res.exit_code == 0, res.output
        assert words in res.output, target
        # marked as derived from the policy, except TDMRep, whose rule has no room for it
        assert target == "tdmrep" or "urn:reelrights:policy:prefs" in res.output, target
    res = _run(home, "license", "project", world["license"], "--to", "tdmrep", "--policy-url",
               "https://studio.example/p.json")
    assert '"tdm-policy": "https://studio.example/p.json"' in res.output
    res = _run(home, "license", "project", "--to", "aipref")
    assert res.exit_code == 2 and "LICENSE or --policy" in res.output


# -- standard identifiers (point 6) ------------------------------------------------------------

def test_works_and_parties_are_found_by_their_identifiers(home, ledger, world) -> None:
    assert work_detail(ledger.db, EIDR).id == world["film"]
    assert work_detail(ledger.db, ISAN).id == world["film"]
    res = _run(home, "work", "show", "eidr:10.5240/7791-8534-2C23-9030-8610-5", "--json")
    assert res.exit_code == 0 and json.loads(res.output)["id"] == world["film"], res.output
    res = _run(home, "party", "add", "--kind", "performer", "--name", "Ada Lune",
               "--id", "isni:0000 0001 2103 2683", "--id", "ipi:00014107338", "--json")
    assert res.exit_code == 0, res.output
    pid = json.loads(res.output)["id"]
    for ref in ("isni:0000000121032683", "isni:0000-0001-2103-2683", "ipi:00014107338"):
        p = party_detail(ledger.db, ref)
        assert p.id == pid and p.external_ids == ("ipi:00014107338", "isni:0000000121032683")
    res = _run(home, "party", "show", "isni:0000000121032683")
    assert res.exit_code == 0 and "isni:0000000121032683" in res.output


def test_identifier_errors_name_the_identifier_and_the_fix(home, ledger, world) -> None:
    res = _run(home, "party", "add", "--kind", "performer", "--name", "Typo",
               "--id", "isni:0000000121032684")
    assert res.exit_code == 2 and "Mod 11-2" in res.output and "0000000121032684" in res.output
    res = _run(home, "work", "show", "eidr:10.5240/7791-8534-2C23-9030-8610-6")
    assert res.exit_code == 2 and "check character" in res.output, res.output
    res = _run(home, "work", "show", "iswc:T-034.524.680-1")
    assert res.exit_code == 2 and "no work carries" in res.output
    with pytest.raises(ReelrightsError):  # a work may not carry a party's identifier
        _work(home, ledger, world["studio"], "Wrong", ["isni:0000000121032683"])


def test_two_works_with_one_identifier_are_named(home, ledger, world) -> None:
    other, _ = _work(home, ledger, world["stranger"], "Harbour Lights (copy)", [EIDR])
    with pytest.raises(BadInput) as info:
        work_detail(ledger.db, EIDR)
    assert world["film"] in str(info.value) and other in str(info.value)
    with pytest.raises(NotFound):
        work_detail(ledger.db, "isbn:978-0-306-40615-7")


def test_import_reads_a_signed_c2pa_manifests_training_mining(home, ledger, world,
                                                                tmp_path) -> None:
    """A real C2PA-signed image (the project CA's developer signer) carrying
    cawg.training-mining: import reads the assertion from the manifest."""
    from reelrights.media import synth
    from reelrights.media.c2pa_assertions import OutputAssertions, ReuseTerm, TrainingRunClaim
    from reelrights.media.c2pa_engine import sign_output
    from reelrights.outputs.pki import init_ca, issue_signer

    init_ca(home)
    signer, _ = issue_signer(home, ledger, world["dev"])
    still = synth.make_image(tmp_path / "still.png", size=(64, 48), seed=5)
    signed = tmp_path / "signed.png"
    sign_output(still, signed, signer=signer, assertions=OutputAssertions(
        TrainingRunClaim("run_aaaaaaaaaaaaaaaa", "00" * 32, "11" * 32, "22" * 32),
        {"cawg.ai_training": ReuseTerm("notAllowed"),
         "cawg.ai_generative_training": ReuseTerm("notAllowed"),
         "cawg.ai_inference": ReuseTerm("allowed")}))
    res = _run(home, "preferences", "import", str(signed), "--work", world["film"], "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["format"] == "cawg"
    assert out["values"] == {"train-ai": "disallowed", "ai-input": "allowed"}
    assert any("C2PA manifest (validation state" in n for n in out["notes"])


def test_the_training_gates_table_honours_preferences_as_check_does(home, ledger, world) -> None:
    from reelrights.rights.decisions import DecisionTable

    declare_preference(home, ledger, world["film"], Preferences({"train-ai": "disallowed"}),
                       source_format="content-usage", source_sha256="55" * 32,
                       declarer=world["writer"])
    other, other_shas = _work(home, ledger, world["studio"], "Second Film", [])
    shas = [*world["shas"], *other_shas, hashlib.sha256(b"x").hexdigest()]
    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=world["dev"], action="train", model_family="orbit",
                              on=date(2027, 6, 1), territory="US")
        table = DecisionTable(conn, ctx)
        expected = {sha: (v.allowed, v.license, v.reasons)
                    for sha, v in check_manifest(conn, ctx, shas)}
    got = {sha: (d.verdict.allowed, d.verdict.license, d.verdict.reasons)
           for sha in shas for d in [table.decide(sha)]}
    assert got == expected
    assert not any(got[s][0] for s in world["shas"])
    assert any("does not override" in r for r in got[world["shas"][0]][2])
