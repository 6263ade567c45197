"""Issue 9, point 1: the log decides when facts take effect (both backends).

Each test is an attack that the registry accepted before: a date in a body that reaches past the
log time (a death after it, a consent starting before it), licenses judged only at a run's
commit although they lapsed while it trained, and late facts that silently change (or never
touch) a verdict already logged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.errors import InvalidStatement
from reelrights.services import consent as cs
from reelrights.services import registry
from reelrights.store.tables import consents, deaths, log_entries

SPECIFIC = ("Synthesized replacement dialogue for the character Mara Ellison in the feature "
            "film Harbour Lights, ADR of scenes 12 to 14 only")


def _today() -> date:
    return datetime.now(UTC).date()


def _party(home, ledger, kind: str, name: str) -> str:  # noqa: ANN001
    return registry.register_party(home, ledger, kind, name).details["id"]


def _submit(home, ledger, type_: str, actor: str, body: dict):  # noqa: ANN001
    entry = sign_statement(ledger.new_statement(type_, actor, body), home.party_key(actor))
    return ledger.submit([entry])[0]


def _count(ledger, table) -> int:  # noqa: ANN001
    with ledger.db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _consent_body(performer: str, start: date) -> dict:
    return {"id": new_id("consent"), "performer": performer, "kinds": ["voice"],
            "description": SPECIFIC, "media": ["audio"], "territory": ["US"],
            "start": start.isoformat(), "end": "2035-12-31", "compensation_ref": "SAG-1",
            "represented_by": "guild", "production": "Harbour Lights"}


# -- A. declared, bounded effect times -------------------------------------------------------

def test_a_death_dated_after_the_log_time_is_refused(home, ledger) -> None:
    jane = _party(home, ledger, "performer", "Jane Roe")
    estate = _party(home, ledger, "studio", "Roe Estate")
    _submit(home, ledger, "consent.granted", jane,
            {**_consent_body(jane, _today()), "post_mortem_representative": estate})
    size = _count(ledger, log_entries)
    later = (_today() + timedelta(days=2)).isoformat()
    with pytest.raises(InvalidStatement) as info:
        _submit(home, ledger, "performer.deceased", estate,
                {"performer": jane, "date": later, "representative": estate})
    assert info.value.pointer == "/statement/body/date"
    assert "is at most the log time" in info.value.message
    assert "\n" not in str(info.value)
    assert _count(ledger, deaths) == 0 and _count(ledger, log_entries) == size
    # a death that has happened (at most the log time) is recorded
    r = _submit(home, ledger, "performer.deceased", estate,
                {"performer": jane, "date": _today().isoformat(), "representative": estate})
    assert r.details["date"] == _today().isoformat()


def test_a_consent_starting_a_week_before_its_log_time_is_refused(home, ledger) -> None:
    jane = _party(home, ledger, "performer", "Jane Roe")
    size = _count(ledger, log_entries)
    with pytest.raises(InvalidStatement) as info:
        _submit(home, ledger, "consent.granted", jane,
                _consent_body(jane, _today() - timedelta(days=7)))
    assert info.value.pointer == "/statement/body/start"
    message = info.value.message
    assert "minus the 300 s clock skew" in message and "or later" in message
    assert _count(ledger, consents) == 0 and _count(ledger, log_entries) == size
    # the same through the command: refused, nothing written
    with pytest.raises(InvalidStatement, match="cannot take effect in the past"):
        cs.grant_consent(home, ledger, performer=jane, kinds=["voice"], description=SPECIFIC,
                         media=["audio"], territory=["US"],
                         start=_today() - timedelta(days=7), end=date(2035, 12, 31),
                         compensation_ref="SAG-1", represented_by="guild",
                         production="Harbour Lights")
    assert _count(ledger, consents) == 0
    # starting today (the log time minus the skew, as a date) is fine
    ok = _submit(home, ledger, "consent.granted", jane, _consent_body(jane, _today()))
    assert ok.type == "consent.granted"


def test_a_consent_revocation_takes_effect_at_its_log_time(home, ledger) -> None:
    jane = _party(home, ledger, "performer", "Jane Roe")
    granted = _submit(home, ledger, "consent.granted", jane, _consent_body(jane, _today()))
    # signed (honestly) an hour ago, inside the submission window: the log's time counts
    signed = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = sign_statement(ledger.new_statement(
        "consent.revoked", jane, {"consent": granted.details["id"], "reason": "no longer"},
        signed), home.party_key(jane))
    rev = ledger.submit([entry])[0]
    assert rev.details["revoked_at"] == rev.log_time != signed
    with ledger.db.read() as conn:
        assert conn.scalar(select(consents.c.revoked_at)) == rev.log_time
