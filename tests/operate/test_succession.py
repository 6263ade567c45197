"""The log key's compromise procedure, rehearsed end to end: the old log frozen, a new home
with a new origin and a new log key whose first statement cites the old log's last published
checkpoint; verifiers accept both logs and the link; a forged citation is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from operate_helpers import parties

from reelrights.cli import cli
from reelrights.core.checkpoint import Checkpoint, sign_checkpoint
from reelrights.core.note import NoteSigner
from reelrights.errors import Conflict, InvalidStatement, LogIntegrityError, WritesFrozen
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.log.tiled import DirTileSource
from reelrights.operate.succession import succeed, verify_succession
from reelrights.registry.parties import register_party
from reelrights.replica import log_verifier_key


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("REELRIGHTS_PUBLISHED", raising=False)
    home, _ = Home.init(tmp_path / "old", origin="example.org/log")
    parties(home, 3)
    return home


def test_the_compromise_procedure_end_to_end(old: Home, tmp_path: Path) -> None:
    new_path = tmp_path / "new"
    # Not before the old log is frozen.
    result = run("--home", str(new_path), "service", "succeed", "--from", str(old.path),
                 "--origin", "example.org/log2")
    assert result.exit_code == 2 and "freeze it first" in result.stderr
    assert not new_path.exists()

    assert run("--home", str(old.path), "service", "freeze", "--reason",
               "log key on a stolen laptop").exit_code == 0
    ledger = Ledger.open(old)
    try:
        with pytest.raises(WritesFrozen):
            register_party(old, ledger, "studio", "Too late")
    finally:
        ledger.close()
    result = run("--home", str(new_path), "service", "succeed", "--from", str(old.path),
                 "--origin", "example.org/log2", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    new = Home.open(new_path)
    old_vkey, new_vkey = log_verifier_key(old), log_verifier_key(new)
    assert new_vkey != old_vkey and report["log_key"] == new_vkey
    assert new.log_key().seed != old.log_key().seed               # a new key
    assert report["predecessor"] == {"origin": "example.org/log", "log_key": old_vkey,
                                     "size": 4, "root": report["predecessor"]["root"]}

    # The new log's first statement cites the old log's last published checkpoint.
    entry0 = run("--home", str(new_path), "log", "get", "0").stdout
    assert (new.log_dir / "checkpoint").read_text().startswith("example.org/log2\n1\n")
    cited = (old.log_dir / "checkpoint").read_text()
    statement = json.loads(entry0)["entry"]["statement"]
    assert statement["type"] == "registry.established"
    assert statement["body"]["predecessor"] == {"origin": "example.org/log",
                                                "log_key": old_vkey, "checkpoint": cited}

    # Work goes on in the new log; verifiers accept both logs and the link.
    parties(new, 2, "Successor")
    for home, vkey in ((old, old_vkey), (new, new_vkey)):
        assert run("--home", str(home.path), "log", "verify").exit_code == 0
        assert run("log", "verify", "--tiles", str(home.log_dir), "--key", vkey).exit_code == 0
    link = verify_succession(DirTileSource(new.log_dir), new_vkey, DirTileSource(old.log_dir),
                             old_vkey)
    assert (link.new_origin, link.new_size, link.old_origin, link.old_size) == (
        "example.org/log2", 3, "example.org/log", 4)
    # The link is to this old log and no other.
    other, _ = Home.init(tmp_path / "other", origin="example.org/log")
    parties(other, 1)
    with pytest.raises(LogIntegrityError, match="cites the predecessor key"):
        verify_succession(DirTileSource(new.log_dir), new_vkey, DirTileSource(other.log_dir),
                          log_verifier_key(other))
    # A second successor in the same home is refused; the same origin is refused.
    with pytest.raises(Conflict):
        succeed(old, new_path, origin="example.org/log3")
    result = run("--home", str(tmp_path / "same"), "service", "succeed", "--from",
                 str(old.path), "--origin", "example.org/log")
    assert result.exit_code == 2 and "new origin" in result.stderr


def test_a_forged_citation_is_refused(old: Home, tmp_path: Path) -> None:
    """A predecessor checkpoint not signed by the key it names (an attacker's own note, or the
    old log's note claimed for another key) is refused by the schema, at submission."""
    new, _ = Home.init(tmp_path / "new", origin="example.org/log2")
    ledger = Ledger.open(new, establish=False)
    key = new.log_key()
    old_vkey = log_verifier_key(old)
    forger = NoteSigner("example.org/log", PartyKey.generate().seed)
    forged = sign_checkpoint(Checkpoint("example.org/log", 99, b"\x01" * 32), forger).decode()
    real = (old.log_dir / "checkpoint").read_text()
    try:
        for pred, why in [
            ({"origin": "example.org/log", "log_key": old_vkey, "checkpoint": forged},
             "does not verify"),
            ({"origin": "example.org/log", "log_key": forger.vkey, "checkpoint": real},
             "does not verify"),
            ({"origin": "example.org/other", "log_key": old_vkey, "checkpoint": real},
             "not a key of its origin"),
            ({"origin": "example.org/log", "log_key": old_vkey, "checkpoint": real,
              "extra": "x"}, "unknown field"),
        ]:
            with pytest.raises(InvalidStatement, match=why) as refused:
                ledger.establish(new.registry, key, predecessor=pred)
            assert "/body/predecessor" in str(refused.value)
        # The genuine citation is accepted.
        ledger.establish(new.registry, key, predecessor={
            "origin": "example.org/log", "log_key": old_vkey, "checkpoint": real})
    finally:
        ledger.close()
    assert run("--home", str(new.path), "log", "verify").exit_code == 0
