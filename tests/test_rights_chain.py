"""One rights chain per asset, credits that follow the asset, and a reason for every deny.

Each test is an attack from issue 9 ("One file, two owners"): a developer registering a studio's
bytes under its own name and licensing them to itself, a studio dodging the guild by
re-registering a credited file as an uncredited work, a deny that says nothing.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from fake_works import register_fake_work
from reelrights.cli import cli
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.statements import sign_statement
from reelrights.errors import Conflict, PolicyDenied
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.rights import bundles, disputes, licensing
from reelrights.rights.croissant import bundle_croissant
from reelrights.rights.policy import check, resolve_context

ON = date(2027, 6, 1)


@pytest.fixture
def world(home, ledger):
    ids = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("guild", "guild", "SPG"),
                              ("actor", "performer", "Ada"), ("dev", "developer", "Orbit AI"),
                              ("dev2", "developer", "Other AI")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    ids["film"], ids["shas"] = register_fake_work(home, ledger, ids["studio"], "Harbour Lights")
    credit_work(home, ledger, ids["film"], ids["actor"], "performer", "1")
    licensing.add_agreement(home, ledger, ids["guild"], "TV/Theatrical 2023", ["performer"], "25")
    licensing.add_member(home, ledger, ids["guild"], ids["actor"])
    return ids


def _register_copy(home, ledger, owner: str, sha: str, title: str = "My Film") -> dict:
    """``owner`` registers the bytes ``sha`` (size 1000, as register_fake_work made reel0)."""
    body = {"id": new_id("work"), "kind": "film", "title": title, "owner": owner,
            "assets": [{"sha256": sha, "size": 1000, "media_type": "video/mp4",
                        "category": "video", "duration_ms": 60_000, "name": "copy.mp4"}]}
    return ledger.submit([sign_statement(ledger.new_statement("work.registered", owner, body),
                                         home.party_key(owner))])[0].details


def _policy(ids, bundle: str, licensor: str, licensee: str, **kw) -> dict:
    return training_agreement(uid=f"urn:reelrights:policy:{new_id('license')}", licensor=licensor,
                              licensee=licensee, bundle=bundle, model_family="orbit",
                              territories=["US"], until="2027-12-31", fund_share="2.5", **kw)


def _license(home, ledger, ids, bundle: str, licensor: str, licensee: str, **kw) -> str:
    return licensing.grant_license(home, ledger, bundle, licensee,
                                   _policy(ids, bundle, licensor, licensee, **kw)).details["id"]


def _check(ledger, licensee, **item):
    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=licensee, action="train", model_family="orbit",
                              on=ON, territory="US")
        return check(conn, ctx, **item)


def _licensed_studio_bundle(home, ledger, ids) -> tuple[str, str]:
    bnd = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                [ids["film"]]).details["id"]
    lic = _license(home, ledger, ids, bnd, ids["studio"], ids["dev"])
    licensing.cosign_license(home, ledger, lic, ids["guild"])
    return bnd, lic


def test_a_developer_registering_a_studios_bytes_opens_a_dispute_not_a_work(home, ledger,
                                                                           world) -> None:
    sha = world["shas"][0]
    bnd, lic = _licensed_studio_bundle(home, ledger, world)
    assert _check(ledger, world["dev"], asset=sha).allowed
    details = _register_copy(home, ledger, world["dev2"], sha)
    (d,) = details["disputes"]
    assert (d["claimant"], d["first_owner"], d["first_work"]) == (world["dev2"], world["studio"],
                                                                  world["film"])
    assert details["assets"][0]["dispute"] == d["dispute"]
    # The claimant's work does not hold the bytes: it cannot bundle them and license them.
    with pytest.raises(PolicyDenied, match="in no work owned by"):
        bundles.create_bundle(home, ledger, world["dev2"], "Mine", "1", [sha])
    # The studio's license, in force before, is suspended: check says disputed, with the id.
    v = _check(ledger, world["dev"], asset=sha)
    assert not v.allowed
    assert any("disputed" in r and d["dispute"] in r for r in v.reasons)
    assert not _check(ledger, world["dev"], bundle=bnd).allowed
    assert _check(ledger, world["dev"], asset=world["shas"][1]).allowed  # the other reel is not
    # Shown to both parties.
    for party in (world["studio"], world["dev2"]):
        assert [x.id for x in disputes.list_disputes(ledger.db, party)] == [d["dispute"]]
    assert disputes.list_disputes(ledger.db, world["dev"]) == []
    shown = disputes.dispute_detail(ledger.db, d["dispute"]).to_json()
    assert shown["first_log_index"] > 0 and shown["history"][0]["type"] == "work.registered"
    # The claim is made once.
    with pytest.raises(Conflict, match="already disputed"):
        _register_copy(home, ledger, world["dev2"], sha, "Again")


def test_the_first_owner_releases_and_licensing_resumes(home, ledger, world) -> None:
    sha = world["shas"][0]
    _licensed_studio_bundle(home, ledger, world)
    d = _register_copy(home, ledger, world["dev2"], sha)["disputes"][0]["dispute"]
    with pytest.raises(PolicyDenied, match="only the first owner"):
        ledger.submit([sign_statement(ledger.new_statement(
            "dispute.released", world["dev2"],
            {"dispute": d, "first_owner": world["dev2"], "reason": "mine"}),
            home.party_key(world["dev2"]))])
    disputes.release_dispute(home, ledger, d, "Co-production: Other AI holds these rights too")
    assert _check(ledger, world["dev"], asset=sha).allowed
    with pytest.raises(Conflict, match="already released"):
        disputes.release_dispute(home, ledger, d, "again")
    # Before the dispute's log time the history stays as it was; the reasons still name it.
    assert disputes.list_disputes(ledger.db)[0].status == "released"


def test_the_same_owner_registering_the_same_bytes_again_is_one_chain(home, ledger,
                                                                     world) -> None:
    details = _register_copy(home, ledger, world["studio"], world["shas"][0], "Director's cut")
    assert "disputes" not in details and details["assets"][0]["first_work"] == world["film"]
    assert disputes.list_disputes(ledger.db) == []


def test_operator_decisions_are_the_operators_alone(home, ledger, world) -> None:
    from reelrights.core.statements import SignedStatement
    from reelrights.ledger import Accepted, apply_statements

    sha = world["shas"][0]
    _licensed_studio_bundle(home, ledger, world)
    d = _register_copy(home, ledger, world["dev2"], sha)["disputes"][0]["dispute"]

    def decided(actor: str, outcome: str) -> Accepted:
        body = {"dispute": d, "outcome": outcome, "reason": "the studio's registration is older"}
        s = SignedStatement(b"", "dispute.decided", 1, actor, "2026-01-01T00:00:00Z", body, "",
                            b"")
        return Accepted(10**6, s, "2099-01-01T00:00:00.000000Z")

    with ledger.db.write() as conn, pytest.raises(PolicyDenied, match="only the registry's operator"):
        apply_statements(conn, [decided(world["studio"], "first_owner")])
    with ledger.db.write() as conn:
        apply_statements(conn, [decided(disputes.OPERATOR_ACTOR, "first_owner")])
        ctx = resolve_context(conn, licensee=world["dev"], action="train", model_family="orbit",
                              on=date(2099, 6, 1), territory="US")
        blocks = disputes.dispute_blocks(conn, [sha], "2099-06-01T00:00:00Z")
        assert [b.party for b in blocks] == [world["dev2"]]  # the loser only
        assert not any(b.blocks(world["studio"]) for b in blocks)
        assert ctx.licensee == world["dev"]
        since = disputes.disputed_assets_since(conn, "2000-01-01T00:00:00Z")
        assert [x["dispute"] for x in since] == [d] and since[0]["sha256"] == sha
        assert disputes.disputed_assets_since(conn, "2099-01-01T00:00:00Z") == []


def test_credits_follow_the_asset_into_an_uncredited_work(home, ledger, world) -> None:
    # The studio re-registers the credited reel as a new, uncredited work and bundles only that.
    copy = _register_copy(home, ledger, world["studio"], world["shas"][0], "Uncredited")["id"]
    bnd = bundles.create_bundle(home, ledger, world["studio"], "Dodge", "1", [copy]).details["id"]
    lic = _license(home, ledger, world, bnd, world["studio"], world["dev"])
    with ledger.db.read() as conn:
        assert licensing.required_cosigners(conn, bnd) == [world["guild"]]
    v = _check(ledger, world["dev"], bundle=bnd)
    assert not v.allowed and any("missing co-signature" in r for r in v.reasons)
    licensing.cosign_license(home, ledger, lic, world["guild"])
    assert _check(ledger, world["dev"], bundle=bnd).allowed
    assert world["actor"] in [c.party for c in bundles.bundle_detail(ledger.db, bnd).contributors]


def test_a_credit_recorded_after_the_grant_still_needs_the_guild(home, ledger, world) -> None:
    work, shas = register_fake_work(home, ledger, world["studio"], "Later")
    bnd = bundles.create_bundle(home, ledger, world["studio"], "Later", "1", [work]).details["id"]
    _license(home, ledger, world, bnd, world["studio"], world["dev"])
    assert _check(ledger, world["dev"], bundle=bnd).allowed
    # A credited copy of the same bytes appears afterwards (another work holding them).
    other = _register_copy(home, ledger, world["studio"], shas[0], "Credited copy")["id"]
    credit_work(home, ledger, other, world["actor"], "performer", "1")
    v = _check(ledger, world["dev"], bundle=bnd)
    assert not v.allowed and any(world["guild"] in r for r in v.reasons)


def test_every_deny_gives_a_reason(home, ledger, world) -> None:
    bnd, lic = _licensed_studio_bundle(home, ledger, world)
    other, _ = register_fake_work(home, ledger, world["studio"], "Unbundled")
    denies = [_check(ledger, world["dev2"], bundle=bnd),         # no license on the bundle
              _check(ledger, world["dev2"], work=world["film"]),
              _check(ledger, world["dev2"], asset=world["shas"][0]),
              _check(ledger, world["dev"], work=other)]             # in no bundle
    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=world["dev"], action="train", model_family="other",
                              on=ON, territory="US")
        denies.append(check(conn, ctx, bundle=bnd))               # constraint
        ctx = resolve_context(conn, licensee=world["dev"], action="generate",
                              model_family="orbit", on=ON, territory="US")
        denies.append(check(conn, ctx, bundle=bnd))               # no permission for the action
    licensing.revoke_license(home, ledger, lic, "breach")
    denies.append(_check(ledger, world["dev"], bundle=bnd))      # revoked
    for v in denies:
        assert not v.allowed
        assert v.reasons and all(r.strip() for r in v.reasons), v.item
    assert any("holds no license" in r for r in denies[0].reasons)


def test_check_bundle_accepts_name_and_name_at_version(home, ledger, world) -> None:
    bnd, _ = _licensed_studio_bundle(home, ledger, world)
    runner = CliRunner()
    for ref in (bnd, "Catalog", "Catalog@1"):
        r = runner.invoke(cli, ["--home", str(home.path), "check", "--licensee", world["dev"],
                                "--action", "train", "--bundle", ref, "--model-family", "orbit",
                                "--date", "2027-06-01", "--territory", "US", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["item"] == f"bundle {bnd}"
    r = runner.invoke(cli, ["--home", str(home.path), "check", "--licensee", world["dev"],
                            "--action", "train", "--bundle", "Catalog@9", "--model-family", "orbit"])
    assert r.exit_code == 2 and "Catalog@9" in r.output


def test_croissant_export_refuses_a_license_not_in_force(home, ledger, world) -> None:
    bnd = bundles.create_bundle(home, ledger, world["studio"], "Catalog", "1",
                                [world["film"]]).details["id"]
    lic = _license(home, ledger, world, bnd, world["studio"], world["dev"])
    with pytest.raises(PolicyDenied, match="co-signature"):
        bundle_croissant(ledger.db, bnd, license_id=lic)
    licensing.cosign_license(home, ledger, lic, world["guild"])
    assert bundle_croissant(ledger.db, bnd, license_id=lic)["license"]
    d = _register_copy(home, ledger, world["dev2"], world["shas"][0])["disputes"][0]["dispute"]
    with pytest.raises(PolicyDenied, match=d):
        bundle_croissant(ledger.db, bnd, license_id=lic)
    disputes.release_dispute(home, ledger, d, "settled")
    licensing.revoke_license(home, ledger, lic, "breach")
    r = CliRunner().invoke(cli, ["--home", str(home.path), "bundle", "export", bnd,
                                 "--license", lic])
    assert r.exit_code == 3 and "revoked" in r.output and len(r.output.strip().splitlines()) == 1
