"""A party whose key was made in a browser (``key_origin: browser``, docs/web.md) must set its
recovery key in the same batch as its registration, before the key signs anything else. The log
enforces it whatever script signs: these are the attacker's submissions, on both backends, with
real signatures (the browser's side is tests/web/test_browser_key.py)."""

from __future__ import annotations

import base64

import pytest

from reelrights.catalogue import check_body
from reelrights.core.key_history import possession_message
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, InvalidStatement, SignatureError
from reelrights.identity.browser_join import join_statements, new_party_id
from reelrights.identity.keys import key_history
from reelrights.keys import PartyKey
from reelrights.log.verify import verify_log
from reelrights.replica.verify import verify_projections


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _join(ledger, recovery: PartyKey | None = None, *, party: str | None = None,
          kind: str = "performer") -> tuple[str, PartyKey, list[dict]]:
    party = party or new_party_id()
    key = PartyKey.generate()
    if recovery is None:
        return party, key, join_statements(ledger, party, kind, "Mira Sol",
                                           _b64(key.public_key_bytes))
    rpub = _b64(recovery.public_key_bytes)
    proof = _b64(recovery.sign(possession_message(ledger.registry, party, 1, "recovery", rpub)))
    return party, key, join_statements(ledger, party, kind, "Mira Sol",
                                       _b64(key.public_key_bytes), rpub, proof)


def _consent(ledger, party: str) -> dict:
    body = {"id": "cns_" + "c" * 16, "performer": party, "kinds": ["voice"],
            "description": "Voice for a radio advert for Harbour Lights, 30 seconds, English",
            "production": "Harbour Lights radio", "media": ["audio"], "territory": ["US"],
            "start": "2030-01-01", "end": "2030-12-31", "compensation_ref": "NL-2030-1",
            "represented_by": "none"}
    return ledger.new_statement("consent.granted", party, body)


def test_a_browser_key_joins_with_its_recovery_key_and_then_signs(ledger, home) -> None:
    recovery = PartyKey.generate()
    party, key, statements = _join(ledger, recovery)
    assert [s["type"] for s in statements] == ["party.registered", "key.recovery.set"]
    assert statements[0]["body"]["key_origin"] == "browser"
    receipts = ledger.submit([sign_statement(s, key) for s in statements])
    assert len(receipts) == 2
    keys = key_history(ledger.db, party, ledger.registry, 3600)
    assert [(k["role"], k["public_key"]) for k in keys["keys"]] == [
        ("signing", _b64(key.public_key_bytes)), ("recovery", _b64(recovery.public_key_bytes))]
    # now it signs like any party's key
    ledger.submit([sign_statement(_consent(ledger, party), key)])
    with ledger.db.read() as conn:  # the whole log verifies, the projections match
        assert verify_log(conn, ledger.log, home.log_vkey(), check_body=check_body).size > 0
    assert not verify_projections(ledger.db).differences


def test_the_log_refuses_a_browser_key_without_its_recovery_key(ledger) -> None:
    party, key, statements = _join(ledger)
    assert [s["type"] for s in statements] == ["party.registered"]
    with pytest.raises(InvalidStatement, match="recovery key must be set in the same batch"):
        ledger.submit([sign_statement(statements[0], key)])
    # nor may it sign anything before its recovery key, even in the batch that sets it
    recovery = PartyKey.generate()
    party, key, statements = _join(ledger, recovery)
    early = _consent(ledger, party)
    with pytest.raises(SignatureError, match="has no recovery key yet, so it signs no "
                                              "consent.granted"):
        ledger.submit([sign_statement(s, key) for s in (statements[0], early, statements[1])])
    # nothing of either attempt was logged: the party is unknown
    from reelrights.errors import NotFound
    from reelrights.registry.parties import party_detail

    with pytest.raises(NotFound):
        party_detail(ledger.db, party)


def test_a_cli_registration_is_not_held_to_the_browser_rule(ledger, home) -> None:
    """Without key_origin the rule does not apply (a CLI party sets its recovery key later)."""
    from reelrights.registry.parties import register_party

    party = register_party(home, ledger, "performer", "Ola Berg").details["id"]
    assert party.startswith("pty_")


def test_a_bad_recovery_proof_or_a_reused_key_is_refused_before_signing(ledger) -> None:
    party = new_party_id()
    key, recovery, other = PartyKey.generate(), PartyKey.generate(), PartyKey.generate()
    rpub = _b64(recovery.public_key_bytes)
    wrong = _b64(other.sign(possession_message(ledger.registry, party, 1, "recovery", rpub)))
    with pytest.raises(BadInput, match="recovery_proof is not the recovery key's signature"):
        join_statements(ledger, party, "performer", "Mira Sol", _b64(key.public_key_bytes),
                        rpub, wrong)
    with pytest.raises(BadInput, match="the recovery key is the signing key"):
        join_statements(ledger, party, "performer", "Mira Sol", rpub, rpub, wrong)
    with pytest.raises(InvalidStatement):
        join_statements(ledger, party, "wizard", "Mira Sol", _b64(key.public_key_bytes))


def test_log_verify_catches_a_write_path_that_skipped_the_rule(ledger, home, monkeypatch) -> None:
    """A log whose writer did not enforce the rule (an operator's patched server) fails
    ``log verify`` at the registration, and at a statement signed before the recovery key."""
    from reelrights.errors import LogIntegrityError
    from reelrights.write.keys import KeyBook

    skipped = KeyBook.check_in_force
    monkeypatch.setattr(KeyBook, "check_in_force", lambda self, *a, **k: None)
    party, key, statements = _join(ledger)
    ledger.submit([sign_statement(statements[0], key)])
    monkeypatch.setattr(KeyBook, "check_in_force", skipped)
    refused = pytest.raises(LogIntegrityError, match=f"{party}'s key was made in a browser, "
                                                      "and its batch sets no recovery key")
    with refused, ledger.db.read() as conn:
        verify_log(conn, ledger.log, home.log_vkey(), check_body=check_body)
