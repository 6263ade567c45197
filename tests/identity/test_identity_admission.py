"""Admission on both backends: by domain (HTTPS and DNS), by a guild's membership statement, by
the operator's check; re-verification and lapses; and the attacks (a stranger's nonce, a replay,
an impostor of the same or a confusable name, a forged admission)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proof_servers import ProofWorld, proof_world
from reelrights.core.statements import make_statement, sign_statement, utc_now
from reelrights.errors import (
    BadInput,
    Conflict,
    InvalidStatement,
    NotFound,
    PolicyDenied,
    SignatureError,
    VerificationError,
)
from reelrights.identity.admit import (
    admit_manual,
    issue_nonce,
    request_admission,
    reverify,
)
from reelrights.identity.display import parties_shown, party_shown
from reelrights.identity.status import identities
from reelrights.keys import PartyKey
from reelrights.registry.parties import register_party
from reelrights.replica import verify_projections
from reelrights.rights.licensing import add_member


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ProofWorld]:
    """The loopback proof world: HTTPS with a test CA, and a DNS responder."""
    with proof_world(tmp_path) as w:
        yield w



def _party(home: Any, ledger: Any, kind: str, name: str) -> str:
    return str(register_party(home, ledger, kind, name).details["id"])


def _by_domain(home: Any, ledger: Any, world: ProofWorld, party: str, domain: str,
               proof: str = "https") -> list[Any]:
    n = issue_nonce(ledger, party, domain)
    if proof == "https":
        world.publish(domain, n["document"])
    else:
        world.dns.a.setdefault(domain, ["127.0.0.1"])
        world.dns.txt[f"_reelrights.{domain}"] = [n["txt"]]
    return request_admission(home, ledger, party, domain=domain, nonce=n["nonce"], proof=proof,
                             policy=world.policy())


def _size(ledger: Any) -> int:
    with ledger.db.read() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM log_entries").scalar_one())


def _label(ledger: Any, party: str) -> str:
    return str(party_shown(ledger.db, party)["shown_as"])


def test_a_studio_is_admitted_by_the_domain_it_controls(home: Any, ledger: Any,
                                                        world: ProofWorld) -> None:
    studio = _party(home, ledger, "studio", "Northlight Pictures")
    assert _label(ledger, studio) == "Northlight Pictures [NOT ADMITTED]"
    request, admitted = _by_domain(home, ledger, world, studio, "northlight.example")
    assert request.type == "admission.requested" and request.actor == studio
    assert admitted.type == "party.admitted" and admitted.actor == "operator"
    assert admitted.index == request.index + 1
    shown = party_shown(ledger.db, studio)
    assert shown["shown_as"] == "Northlight Pictures [northlight.example]"
    ident = shown["identity"]
    assert ident["status"] == "admitted" and ident["method"] == "domain"
    with ledger.db.read() as conn:
        leaf = bytes(conn.exec_driver_sql(
            f"SELECT entry FROM log_entries WHERE idx = {admitted.index}").scalar_one())
    body = json.loads(leaf)["entry"]["statement"]["body"]
    assert body["domain"] == "northlight.example" and body["proof"] == "https"
    assert body["request"] == request.statement_id and len(body["document_sha256"]) == 64
    assert ident["verified_at"] and ident["due_at"] > ident["verified_at"]
    assert not verify_projections(ledger.db).differences


def test_a_dns_txt_record_admits_too(home: Any, ledger: Any, world: ProofWorld) -> None:
    studio = _party(home, ledger, "studio", "Northlight Pictures")
    _by_domain(home, ledger, world, studio, "northlight.example", proof="dns")
    assert party_shown(ledger.db, studio)["identity"]["domain"] == "northlight.example"


def test_a_nonce_is_single_use_bound_to_its_party_and_domain(home: Any, ledger: Any,
                                                             world: ProofWorld) -> None:
    studio = _party(home, ledger, "studio", "Northlight Pictures")
    other = _party(home, ledger, "studio", "Harbour Films")
    n = issue_nonce(ledger, studio, "northlight.example")
    world.publish("northlight.example", n["document"])
    # another party cannot use it (nor for another domain)
    with pytest.raises(NotFound, match="not issued"):
        request_admission(home, ledger, other, domain="northlight.example", nonce=n["nonce"],
                          policy=world.policy())
    with pytest.raises(NotFound, match="not issued"):
        request_admission(home, ledger, studio, domain="impostor.example", nonce=n["nonce"],
                          policy=world.policy())
    request_admission(home, ledger, studio, domain="northlight.example", nonce=n["nonce"],
                      policy=world.policy())
    # replayed after a lapse: the nonce served its admission
    from reelrights.identity import nonces

    with pytest.raises(Conflict, match="already used"):
        nonces.claim(ledger.db, n["nonce"], studio, "northlight.example")
    with pytest.raises(Conflict, match="expired"):
        m = issue_nonce(ledger, other, "impostor.example", now="2020-01-01T00:00:00.000000Z")
        nonces.claim(ledger.db, m["nonce"], other, "impostor.example")


def test_a_failed_proof_logs_nothing_and_gives_the_nonce_back(home: Any, ledger: Any,
                                                              world: ProofWorld) -> None:
    studio = _party(home, ledger, "studio", "Northlight Pictures")
    n = issue_nonce(ledger, studio, "northlight.example")
    world.publish("northlight.example", {**n["document"], "nonce": "z" * 32})
    size = _size(ledger)
    with pytest.raises(VerificationError, match="nonce"):
        request_admission(home, ledger, studio, domain="northlight.example", nonce=n["nonce"],
                          policy=world.policy())
    assert party_shown(ledger.db, studio)["identity"]["status"] == "pending"
    assert _size(ledger) == size
    world.publish("northlight.example", n["document"])  # fixed: the same nonce works now
    request_admission(home, ledger, studio, domain="northlight.example", nonce=n["nonce"],
                      policy=world.policy())


@pytest.mark.parametrize("lookalike", ["Northlight Pictures", "Northlight Pictvres",
                                       "N\u043erthlight Pictures"])  # Cyrillic о
def test_an_impostor_cannot_act_for_northlight_and_is_shown_apart(
        home: Any, ledger: Any, world: ProofWorld, lookalike: str) -> None:
    real = _party(home, ledger, "studio", "Northlight Pictures")
    _by_domain(home, ledger, world, real, "northlight.example")
    fake = _party(home, ledger, "studio", lookalike)
    # it cannot sign as the real one: its key is not the real party's
    forged = sign_statement(make_statement("admission.requested", real, {
        "party": real, "method": "guild", "attestation": "stm_aaaaaaaaaaaaaaaa"},
        registry=ledger.registry), home.party_key(fake))
    with pytest.raises(SignatureError):
        ledger.submit([forged])
    # it cannot be admitted for northlight's domain: the published proof is the real party's
    n = issue_nonce(ledger, fake, "northlight.example")
    with pytest.raises((VerificationError, Conflict)):
        request_admission(home, ledger, fake, domain="northlight.example", nonce=n["nonce"],
                          policy=world.policy())
    # ... not even if it could publish there: one party per domain
    world.publish("northlight.example", n["document"])
    with pytest.raises(Conflict, match="held by"):
        request_admission(home, ledger, fake, domain="northlight.example", nonce=n["nonce"],
                          policy=world.policy())
    # shown apart everywhere
    rows = {r["id"]: r["shown_as"] for r in parties_shown(ledger.db)}
    assert rows[real] == "Northlight Pictures [northlight.example]"
    assert rows[fake] == f"{lookalike} [NOT ADMITTED]"
    shown = party_shown(ledger.db, real)
    if lookalike != "Northlight Pictvres":  # "v" is not a confusable of "u" in TR 39
        assert [o["id"] for o in shown["lookalikes"]] == [fake]
        assert shown["lookalikes"][0]["shown_as"].endswith("[NOT ADMITTED]")


def test_a_guild_admits_its_member(home: Any, ledger: Any, world: ProofWorld) -> None:
    guild = _party(home, ledger, "guild", "Screen Performers Guild")
    performer = _party(home, ledger, "performer", "Ada Vance")
    member = add_member(home, ledger, guild, performer)
    # the guild is not admitted itself: its word admits no one
    with pytest.raises(PolicyDenied, match="not admitted"):
        request_admission(home, ledger, performer, attestation=member.statement_id)
    _by_domain(home, ledger, world, guild, "sag.example")
    request_admission(home, ledger, performer, attestation=member.statement_id)
    assert _label(ledger, performer) == \
        "Ada Vance [member of Screen Performers Guild (sag.example)]"


def test_a_guild_statement_about_someone_else_admits_no_one(home: Any, ledger: Any,
                                                            world: ProofWorld) -> None:
    guild = _party(home, ledger, "guild", "Screen Performers Guild")
    _by_domain(home, ledger, world, guild, "sag.example")
    ada = _party(home, ledger, "performer", "Ada Vance")
    eve = _party(home, ledger, "performer", "Eve Mallory")
    studio = _party(home, ledger, "studio", "Northlight Pictures")
    about_ada = add_member(home, ledger, guild, ada)
    with pytest.raises(InvalidStatement, match="not"):
        request_admission(home, ledger, eve, attestation=about_ada.statement_id)
    about_studio = add_member(home, ledger, guild, studio)
    with pytest.raises(PolicyDenied, match="performers and writers"):
        request_admission(home, ledger, studio, attestation=about_studio.statement_id)
    with pytest.raises(NotFound):
        request_admission(home, ledger, eve, attestation="stm_aaaaaaaaaaaaaaaa")
    assert _label(ledger, eve) == "Eve Mallory [NOT ADMITTED]"


def test_the_operator_admits_on_a_documented_check(home: Any, ledger: Any) -> None:
    dev = _party(home, ledger, "developer", "Lumen AI")
    r = admit_manual(home, ledger, dev, "KYC ticket 4471")
    assert r.actor == "operator"
    shown = party_shown(ledger.db, dev)
    assert shown["shown_as"] == "Lumen AI [checked by the operator]"
    assert shown["identity"]["reference"] == "KYC ticket 4471"
    with pytest.raises(Conflict, match="already admitted"):
        admit_manual(home, ledger, dev, "again")


def test_only_the_operator_admits(home: Any, ledger: Any) -> None:
    dev = _party(home, ledger, "developer", "Lumen AI")
    body = {"party": dev, "method": "manual", "reference": "self-made"}
    forged = sign_statement(make_statement("party.admitted", dev, body,
                                           registry=ledger.registry), home.party_key(dev))
    with pytest.raises(InvalidStatement, match="operator"):
        ledger.submit([forged])
    # signed with another key and claiming the operator: the signature fails
    fake_op = sign_statement(make_statement("party.admitted", "operator", body,
                                            registry=ledger.registry), PartyKey.generate())
    with pytest.raises(SignatureError):
        ledger.submit([fake_op])
    # the operator admitting by domain without the party's request: refused by the log's rule
    from reelrights.registry.submit import submit_as_operator

    with pytest.raises(InvalidStatement):
        submit_as_operator(home, ledger, "party.admitted", {
            "party": dev, "method": "domain", "domain": "northlight.example",
            "nonce": "n" * 32, "proof": "https", "document_sha256": "0" * 64})
    with pytest.raises(NotFound, match="no admission request"):
        submit_as_operator(home, ledger, "party.admitted", {
            "party": dev, "method": "domain", "domain": "northlight.example",
            "nonce": "n" * 32, "proof": "https", "document_sha256": "0" * 64,
            "request": "stm_aaaaaaaaaaaaaaaa"})


def test_reverification_keeps_a_live_domain_and_lapses_a_dead_one(
        home: Any, ledger: Any, world: ProofWorld) -> None:
    live = _party(home, ledger, "studio", "Northlight Pictures")
    dead = _party(home, ledger, "guild", "Screen Performers Guild")
    _by_domain(home, ledger, world, live, "northlight.example")
    _by_domain(home, ledger, world, dead, "sag.example")
    assert reverify(home, ledger, world.policy()) == []  # nothing due yet
    del world.https.pages[("sag.example", "/.well-known/reelrights.json")]
    rows = {r["party"]: r for r in reverify(home, ledger, world.policy(), every=True)}
    assert rows[live]["outcome"] == "reverified"
    assert rows[dead]["outcome"] == "lapsed" and "404" in rows[dead]["reason"]
    assert _label(ledger, live) == "Northlight Pictures [northlight.example]"
    assert _label(ledger, dead) == "Screen Performers Guild [sag.example, LAPSED]"
    assert party_shown(ledger.db, dead)["identity"]["lapse"].startswith("https://sag.example")
    # published again (with the nonce it was admitted with): the next run clears the lapse
    with ledger.db.read() as conn:
        nonce = conn.exec_driver_sql(
            f"SELECT nonce FROM party_admissions WHERE party_id = '{dead}'").scalar_one()
    from reelrights.identity.domain_proof import Expected, proof_document

    key = party_shown(ledger.db, dead)["public_key"]
    world.publish("sag.example", proof_document(Expected(ledger.registry, dead, key, nonce)))
    rows = {r["party"]: r for r in reverify(home, ledger, world.policy(), every=True)}
    assert rows[dead]["outcome"] == "reverified"
    assert _label(ledger, dead) == "Screen Performers Guild [sag.example]"
    assert not verify_projections(ledger.db).differences


def test_a_domain_not_reverified_in_90_days_shows_lapsed(home: Any, ledger: Any,
                                                         world: ProofWorld) -> None:
    studio = _party(home, ledger, "studio", "Northlight Pictures")
    _by_domain(home, ledger, world, studio, "northlight.example")
    from datetime import timedelta

    from reelrights.core.statements import parse_time

    later = (parse_time(utc_now()) + timedelta(days=91)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with ledger.db.read() as conn:
        ident = identities(conn, [studio], later)[studio]
    assert ident.status == "lapsed" and ident.label == "northlight.example, LAPSED"
    assert ident.lapse is not None and ident.lapse.startswith("overdue")
    # and the daily run, 85 days on, finds it due
    soon = (parse_time(utc_now()) + timedelta(days=85)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert [r["outcome"] for r in reverify(home, ledger, world.policy(), now=soon)] == \
        ["reverified"]


def test_only_the_party_asks_for_its_nonces(home: Any, ledger: Any) -> None:
    from reelrights.identity.admit import issue_signed_nonce, signed_nonce_request

    studio = _party(home, ledger, "studio", "Northlight Pictures")
    request = signed_nonce_request(home, ledger, studio, "northlight.example")
    assert len(issue_signed_nonce(ledger, request)["nonce"]) == 32
    other = _party(home, ledger, "studio", "Harbour Films")
    forged = {**signed_nonce_request(home, ledger, other, "northlight.example"),
              "party": studio}
    with pytest.raises(SignatureError):
        issue_signed_nonce(ledger, forged)
    tampered = {**request, "domain": "impostor.example"}
    with pytest.raises(SignatureError):
        issue_signed_nonce(ledger, tampered)
    with pytest.raises(BadInput, match="clock"):
        issue_signed_nonce(ledger, request, now="2030-01-01T00:00:00.000000Z")
    # at most 5 unused nonces per party
    from reelrights.errors import PolicyDenied as Denied

    for _ in range(4):
        issue_nonce(ledger, studio, "northlight.example")
    with pytest.raises(Denied, match="unused nonces"):
        issue_nonce(ledger, studio, "northlight.example")

