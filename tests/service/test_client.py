"""reelrights.client.Client against a service on 127.0.0.1: batches, duplicates, retries, and
refusals that come back as the very error the ledger raises in process."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from client_servers import stand_in_service

from reelrights.client import Client, ServiceError, error_from_problem
from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.errors import (
    BadInput,
    Conflict,
    KeyNotAllowed,
    NotFound,
    PolicyDenied,
    ReelrightsError,
    Unavailable,
)
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger


def registration(ledger: Ledger, name: str, key: PartyKey | None = None,
                 party_id: str | None = None) -> bytes:
    key = key or PartyKey.generate()
    party_id = party_id or new_id("party")
    body = {"id": party_id, "kind": "studio", "name": name,
            "public_key": base64.b64encode(key.public_key_bytes).decode()}
    return sign_statement(ledger.new_statement("party.registered", party_id, body), key)


def test_a_batch_gets_its_receipts_and_a_repeat_the_same_ones(tmp_path: Path) -> None:
    with stand_in_service(tmp_path / "op") as service, Client(service.url) as client:
        entries = [registration(service.ledger, f"Studio {i}") for i in range(3)]
        done = client.append(entries)
        assert [r.index for r in done.receipts] == [1, 2, 3] and not done.duplicate
        assert [r.type for r in done.receipts] == ["party.registered"] * 3
        assert all(r.details["id"] == r.actor for r in done.receipts)
        assert b"\n4\n" in done.checkpoint  # the checkpoint covers them (size 4)
        again = client.append(entries)
        assert again.duplicate and [r.to_json() for r in again.receipts] == \
            [r.to_json() for r in done.receipts]
        one = client.submit([registration(service.ledger, "Solo")])
        assert one[0].index == 4
        info = client.log_info()
        assert (info.origin, info.size) == (service.home.origin, 5)


def test_503_is_retried_then_answered(tmp_path: Path) -> None:
    with stand_in_service(tmp_path / "op") as service:
        service.fail_next = 2
        with Client(service.url, backoff=0.001) as client:
            [r] = client.submit([registration(service.ledger, "Patient")])
        assert r.index == 1 and service.fail_next == 0
        service.fail_next = 5
        with Client(service.url, retries=2, backoff=0.001) as client, \
                pytest.raises(Unavailable) as info:
            client.submit([registration(service.ledger, "Impatient")])
        assert info.value.message == "the database is unavailable; retry"
        assert info.value.exit_code == 1 and service.fail_next == 2


def _in_process(ledger: Ledger, entries: list[bytes]) -> ReelrightsError:
    with pytest.raises(ReelrightsError) as info:
        ledger.submit(entries)
    return info.value


@pytest.mark.parametrize("attack", ["replayed-id", "forged-signature", "duplicate-party",
                                    "bad-second-of-batch"])
def test_a_refusal_is_the_same_error_as_in_process(tmp_path: Path, attack: str) -> None:
    with stand_in_service(tmp_path / "op") as service, Client(service.url) as client:
        ledger = service.ledger
        key, party = PartyKey.generate(), new_id("party")
        first = registration(ledger, "First", key, party)
        client.submit([first])
        if attack == "replayed-id":  # the same statement id, other bytes
            import json

            doc = json.loads(first)
            body = {**doc["statement"]["body"], "name": "Renamed"}
            stmt = {**doc["statement"], "body": body}
            entries = [sign_statement(stmt, key)]
        elif attack == "forged-signature":  # signed by a key that is not the party's
            stmt = ledger.new_statement("party.registered", party, {
                "id": new_id("party"), "kind": "studio", "name": "Forged",
                "public_key": base64.b64encode(key.public_key_bytes).decode()})
            entries = [sign_statement(stmt, PartyKey.generate())]
        elif attack == "duplicate-party":
            entries = [registration(ledger, "Again", party_id=party)]
        else:
            entries = [registration(ledger, "Fine"), registration(ledger, "Dup", key, party)]
        local = _in_process(ledger, entries)
        with pytest.raises(ReelrightsError) as remote:
            client.submit(entries)
        assert type(remote.value) is _expected_class(local)
        assert remote.value.message == local.message
        assert remote.value.exit_code == local.exit_code
        if attack == "bad-second-of-batch":
            assert remote.value.position == 1
        with ledger.db.read() as conn:
            assert ledger.log.head(conn)[0] == 2  # nothing of a refusal was written


def _expected_class(exc: ReelrightsError) -> type[ReelrightsError]:
    """What a problem carries is its kind, not the subclass: as problem_for maps it."""
    for cls in (NotFound, Conflict, BadInput, PolicyDenied):
        if isinstance(exc, cls):
            return cls
    from reelrights.errors import VerificationError

    return VerificationError if isinstance(exc, VerificationError) else ServiceError


def test_problem_details_become_the_library_errors() -> None:
    base = "https://reelrights.dev/problems/"
    e = error_from_problem(403, {"type": base + "key-not-allowed", "title": "t", "status": 403,
                                 "detail": "the key ed25519:AAAA= is not allowed",
                                 "exit_code": 3}, "u")
    assert isinstance(e, KeyNotAllowed) and e.key == "ed25519:AAAA=" and e.exit_code == 3
    e = error_from_problem(422, {"type": base + "invalid-statement", "detail": "statement 2 "
                                 "of 3: bad", "position": 1, "exit_code": 2}, "u")
    assert type(e) is BadInput and e.position == 1 and e.message == "statement 2 of 3: bad"
    e = error_from_problem(418, {"type": base + "something-new", "detail": "d"}, "u")
    assert type(e) is BadInput and e.exit_code == 2  # by status
    e = error_from_problem(409, {"type": "about:blank", "detail": "two\nlines"}, "u")
    assert type(e) is Conflict and e.message == "two lines"
    e = error_from_problem(502, None, "http://x/v1/log", "Bad Gateway")
    assert type(e) is ServiceError and e.message.startswith("http://x/v1/log: HTTP 502 (Bad "
                                                            "Gateway)")
    e = error_from_problem(404, None, "http://x/tile/0/000", "Not Found")
    assert type(e) is NotFound


def test_tile_paths_stay_under_the_server() -> None:
    with Client("http://127.0.0.1:9") as client:
        for bad in ("/etc/passwd", "../x", ""):
            with pytest.raises(BadInput, match="must be relative"):
                client.read(bad)
