"""Consent requests (rights/consent_requests.py), on SQLite and PostgreSQL, through the log:
asked by a developer, approved by the performer's consent or declined with a reason; every
refusal an attacker would try."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, Conflict, NotFound, PolicyDenied
from reelrights.registry.parties import register_party
from reelrights.registry.submit import submit_as
from reelrights.rights import consent_requests as cr
from reelrights.rights.consent import list_consents

USE = "Voice for the harbour master in the Harbour Lights trailer, English lines only"


@pytest.fixture
def people(home, ledger) -> dict[str, str]:
    return {kind: register_party(home, ledger, kind, name).details["id"] for kind, name in
            (("performer", "Bruno Lindqvist"), ("developer", "Orbit AI"),
             ("studio", "Northlight Pictures"))}


def _ask(home, ledger, people: dict[str, str], **over: Any) -> str:
    args: dict[str, Any] = dict(requester=people["developer"], performer=people["performer"],
                                kinds=["voice"], description=USE, media=["audio"],
                                territory=["US", "CA"], start=date(2030, 1, 1),
                                end=date(2030, 12, 31), compensation_ref="ORB-2030-1",
                                production="Harbour Lights trailer")
    args.update(over)
    return cr.request_consent(home, ledger, **args).details["id"]


def test_ask_then_approve_grants_exactly_what_was_asked(home, ledger, people) -> None:
    rid = _ask(home, ledger, people)
    [pending] = cr.list_requests(ledger.db, performer=people["performer"], status="pending")
    assert pending.id == rid and pending.requester == people["developer"]
    receipt = cr.approve_request(home, ledger, rid)
    req = cr.request_detail(ledger.db, rid)
    assert req.status == "approved" and req.consent == receipt.details["id"]
    assert req.decided_by == people["performer"] and req.decided_index == receipt.index
    [c] = list_consents(ledger.db, people["performer"])
    assert c.licensee_id == people["developer"] and c.production == "Harbour Lights trailer"
    assert sorted(c.territory) == ["CA", "US"]
    # the requester sees the same status
    assert cr.list_requests(ledger.db, requester=people["developer"])[0].status == "approved"
    # the log replays to the same rows (consent_requests rebuilt from the log and compared)
    result = CliRunner().invoke(cli, ["--home", str(home.path), "log", "verify"])
    assert result.exit_code == 0 and "projections:" in result.output, result.output


def test_decline_with_a_reason_and_no_second_decision(home, ledger, people) -> None:
    rid = _ask(home, ledger, people)
    cr.decline_request(home, ledger, rid, "I do not voice trailers")
    req = cr.request_detail(ledger.db, rid)
    assert req.status == "declined" and req.decline_reason == "I do not voice trailers"
    with pytest.raises(Conflict, match="already declined"):
        cr.decline_request(home, ledger, rid, "again")
    with pytest.raises(Conflict):
        cr.approve_request(home, ledger, rid)


def test_only_the_performer_declines(home, ledger, people) -> None:
    """Attack: the requester (or anyone) declines or approves on her behalf."""
    rid = _ask(home, ledger, people)
    with pytest.raises(PolicyDenied, match="only"):
        submit_as(home, ledger, "consent.request.declined", people["studio"],
                  {"request": rid, "reason": "not you"})
    stm = ledger.new_statement("consent.granted", people["developer"],
                               cr.approval_body(cr.request_detail(ledger.db, rid)))
    with pytest.raises(PolicyDenied):  # a consent signed by someone other than the performer
        ledger.submit([sign_statement(stm, home.party_key(people["developer"]))])
    assert cr.request_detail(ledger.db, rid).status == "pending"


def test_an_approval_must_grant_what_was_asked(home, ledger, people) -> None:
    """Attack: a consent that names the request but widens (or narrows) its scope."""
    rid = _ask(home, ledger, people)
    body = cr.approval_body(cr.request_detail(ledger.db, rid))
    body["territory"] = ["WORLD"]
    with pytest.raises(PolicyDenied, match="territory differ"):
        submit_as(home, ledger, "consent.granted", people["performer"], body)
    body = cr.approval_body(cr.request_detail(ledger.db, rid))
    body["licensee"] = people["studio"]
    with pytest.raises(PolicyDenied, match="licensee differ"):
        submit_as(home, ledger, "consent.granted", people["performer"], body)
    assert cr.request_detail(ledger.db, rid).status == "pending"
    assert list_consents(ledger.db, people["performer"]) == []


def test_replayed_request_and_unknown_request_are_refused(home, ledger, people) -> None:
    rid = _ask(home, ledger, people)
    body = cr.approval_body(cr.request_detail(ledger.db, rid))
    body["request"] = "cnq_" + "a" * 16
    with pytest.raises(NotFound, match="not recorded"):
        submit_as(home, ledger, "consent.granted", people["performer"], body)
    with pytest.raises(BadInput, match="not a consent request id"):
        cr.request_detail(ledger.db, "lic_" + "a" * 16)


def test_bad_requests_are_refused_before_anything_is_logged(home, ledger, people) -> None:
    with pytest.raises(BadInput, match="not a performer"):
        _ask(home, ledger, people, performer=people["studio"])
    with pytest.raises(PolicyDenied):  # neither a production nor a model family (R4)
        _ask(home, ledger, people, production=None)
    with pytest.raises(BadInput):
        _ask(home, ledger, people, start=date(2031, 1, 1), end=date(2030, 1, 1))
    assert cr.list_requests(ledger.db) == []
