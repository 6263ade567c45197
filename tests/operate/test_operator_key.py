"""The log key, the operator's key and the fund's key are three keys. A new registry's
establishment names the operator's own key; from then on the operator's statements are checked
with it, and one signed with the log key (a stolen server's key) is refused, at submission and
by `log verify`. Registries established before keep the log key for the operator."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from click.testing import CliRunner

from reelrights.catalogue import check_body
from reelrights.cli import cli
from reelrights.core.ids import new_id
from reelrights.core.statement_types import OPERATOR
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, LogIntegrityError, NotFound, SignatureError
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.log.database_log import DatabaseLog
from reelrights.log.verify import verify_log
from reelrights.registry.parties import register_party
from reelrights.registry.submit import submit_as_operator
from reelrights.replica import log_verifier_key


def _decision(ledger: Ledger) -> dict:
    return ledger.new_statement("dispute.decided", OPERATOR, {
        "dispute": new_id("dispute"), "outcome": "first_owner", "reason": "test"})


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    return Home.init(tmp_path / "home", origin="example.org/log")[0]


def test_three_separate_keys_and_the_log_key_cannot_speak_for_the_operator(fresh: Home) -> None:
    home = fresh
    ledger = Ledger.open(home)
    try:
        fund = register_party(home, ledger, "fund", "Creative Fund").details["id"]
        operator = home.operator_key()
        assert operator is not None
        seeds = {home.log_key().seed, operator.seed, home.party_key(fund).seed}
        assert len(seeds) == 3
        assert ledger.deployment().operator_key == operator.public_key_bytes
        with ledger.db.read() as conn:
            size = ledger.log.head(conn)[0]
        # Signed with the log key: refused as a bad signature, before any rule; nothing written.
        with pytest.raises(SignatureError):
            ledger.submit([sign_statement(_decision(ledger), home.log_key())])
        # Signed with the operator's key: the signature passes; the rule refuses the unknown
        # dispute (so the signature was checked with the operator's key).
        with pytest.raises(NotFound, match="dispute"):
            ledger.submit([sign_statement(_decision(ledger), operator)])
        with ledger.db.read() as conn:
            assert ledger.log.head(conn)[0] == size
    finally:
        ledger.close()
    result = CliRunner().invoke(cli, ["--home", str(home.path), "log", "get", "0"])
    assert base64.b64encode(operator.public_key_bytes).decode() in result.stdout
    assert CliRunner().invoke(cli, ["--home", str(home.path), "log", "verify"]).exit_code == 0


def test_log_verify_refuses_an_operator_statement_signed_with_the_log_key(fresh: Home) -> None:
    """Appended behind the write path's back (a forger holding the log key and the database):
    `log verify` checks the operator's statements with the key the establishment names."""
    from hashlib import sha256

    from reelrights.core.statements import make_leaves, utc_now

    home = fresh
    ledger = Ledger.open(home)
    try:
        for key, verdict in ((home.operator_key(), None), (home.log_key(), "does not verify")):
            assert key is not None
            leaf = make_leaves([sign_statement(_decision(ledger), key)], utc_now())[0]
            with ledger.db.write() as conn:
                head = ledger.log.lock_head(conn)
                ledger.log.append(conn, head, [leaf], [sha256(b"\x00" + leaf).digest()],
                                  [("dispute.decided", OPERATOR, utc_now(), None)],
                                  log_time=utc_now())
            with ledger.db.read() as conn:
                if verdict is None:
                    verify_log(conn, DatabaseLog(home.origin, None), log_verifier_key(home),
                               check_body=check_body)
                else:
                    with pytest.raises(LogIntegrityError, match=verdict) as bad:
                        verify_log(conn, DatabaseLog(home.origin, None),
                                   log_verifier_key(home), check_body=check_body)
                    assert "dispute.decided signature by operator" in str(bad.value)
    finally:
        ledger.close()


def test_a_home_without_the_operators_key_says_where_it_goes(fresh: Home, tmp_path: Path) -> None:
    home = fresh
    Ledger.open(home).close()
    result = CliRunner().invoke(cli, [
        "--home", str(tmp_path / "rebuilt"), "rebuild", "--tiles", str(home.log_dir), "--key",
        log_verifier_key(home), "--log-key", str(home.log_key_path)])
    assert result.exit_code == 0, result.stderr
    rebuilt = Home.open(tmp_path / "rebuilt")
    ledger = Ledger.open(rebuilt)
    try:
        with pytest.raises(BadInput, match="operator.pem is missing"):
            submit_as_operator(rebuilt, ledger, "dispute.decided", {
                "dispute": new_id("dispute"), "outcome": "first_owner", "reason": "x"})
    finally:
        ledger.close()


def test_an_older_registry_keeps_the_log_key_for_the_operator(fresh: Home) -> None:
    home = fresh
    home.operator_key_path.unlink()            # a home made before the operator's key existed
    ledger = Ledger.open(home)
    try:
        assert ledger.deployment().operator_key is None
        with pytest.raises(NotFound, match="dispute"):   # the log key's signature passes
            ledger.submit([sign_statement(_decision(ledger), home.log_key())])
    finally:
        ledger.close()
    assert CliRunner().invoke(cli, ["--home", str(home.path), "log", "verify"]).exit_code == 0
