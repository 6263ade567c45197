"""The log key's custody (2-of-3 SLIP-39 shares, optionally encrypted per officer) and the
operator's freeze of writes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.errors import BadInput, Conflict, WritesFrozen
from reelrights.home import Home
from reelrights.keys import load_key_file
from reelrights.ledger import Ledger
from reelrights.operate import freeze, unfreeze, writes_frozen
from reelrights.operate.key_shares import combine_shares, split_log_key
from reelrights.registry.parties import register_party


def run(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def op_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    home, _ = Home.init(tmp_path / "home", origin="example.org/log")
    return home


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_two_of_three_shares_restore_the_identical_key_and_one_does_not(
        op_home: Home, tmp_path: Path) -> None:
    result = run("--home", str(op_home.path), "key", "split", "--threshold", "2", "--shares",
                 "3", "--out", str(tmp_path / "shares"))
    assert result.exit_code == 0, result.stderr
    paths = [Path(p) for p in result.stdout.split()]
    assert len(paths) == 3 and all(_mode(p) == 0o600 for p in paths)
    assert _mode(tmp_path / "shares") == 0o700
    words = [p.read_text().splitlines()[-1].removeprefix("mnemonic: ") for p in paths]
    seed_hex = op_home.log_key().seed.hex()
    for w in words:  # never printed: neither a share nor the key
        assert w not in result.stdout + result.stderr and len(w.split()) >= 20
    assert seed_hex not in result.stdout + result.stderr

    original = op_home.log_key_path.read_bytes()
    for pair in ([0, 1], [1, 2], [2, 0]):
        out = tmp_path / f"restored-{pair[0]}{pair[1]}.pem"
        result = run("key", "combine", str(paths[pair[0]]), str(paths[pair[1]]), "--out", str(out))
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == str(out) and _mode(out) == 0o600
        assert out.read_bytes() == original               # the identical key
        assert load_key_file(out).seed.hex() == seed_hex
        assert seed_hex not in result.stdout + result.stderr

    lonely = tmp_path / "one.pem"
    result = run("key", "combine", str(paths[0]), "--out", str(lonely))
    assert result.exit_code == 2 and "1 share(s) given but any 2 of the 3" in result.stderr
    assert not lonely.exists()
    # The same share twice is not two shares.
    result = run("key", "combine", str(paths[0]), str(paths[0]), "--out", str(lonely))
    assert result.exit_code == 2 and not lonely.exists()


def test_a_tampered_share_or_a_share_of_another_key_restores_nothing(
        op_home: Home, tmp_path: Path) -> None:
    paths = split_log_key(op_home, tmp_path / "a", threshold=2, shares=3)
    other, _ = Home.init(tmp_path / "other", origin="example.org/log")
    theirs = split_log_key(other, tmp_path / "b", threshold=2, shares=3)
    with pytest.raises(BadInput, match="not of"):
        combine_shares([paths[0], theirs[1]], tmp_path / "x.pem")
    # One word changed: SLIP-39's checksum catches it.
    lines = paths[1].read_text().splitlines()
    ws = lines[-1].split()
    ws[5] = "academic" if ws[5] != "academic" else "acid"
    lines[-1] = " ".join(ws)
    paths[1].write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInput, match="do not combine"):
        combine_shares([paths[0], paths[1]], tmp_path / "x.pem")
    assert not (tmp_path / "x.pem").exists()
    # Never overwrites a key, nor a share.
    with pytest.raises(Conflict):
        combine_shares([paths[0], paths[2]], op_home.log_key_path)
    with pytest.raises(Conflict):
        split_log_key(op_home, tmp_path / "a", threshold=2, shares=3)


def test_shares_encrypted_with_each_officers_passphrase(op_home: Home, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for i, pw in enumerate(["alpha horse", "beta staple", "gamma battery"], start=1):
        monkeypatch.setenv(f"OFFICER{i}", pw)
    env = {"OFFICER1": "alpha horse", "OFFICER2": "beta staple", "OFFICER3": "gamma battery"}
    result = run("--home", str(op_home.path), "key", "split", "--threshold", "2", "--shares", "3",
                 "--out", str(tmp_path / "s"), "--passphrase-env", "OFFICER1",
                 "--passphrase-env", "OFFICER2", "--passphrase-env", "OFFICER3", env=env)
    assert result.exit_code == 0, result.stderr
    paths = [Path(p) for p in result.stdout.split()]
    assert all("mnemonic:" not in p.read_text() and "encrypted:" in p.read_text() for p in paths)
    out = tmp_path / "k.pem"
    result = run("key", "combine", str(paths[0]), str(paths[2]), "--out", str(out),
                 "--passphrase-env", "OFFICER1", "--passphrase-env", "OFFICER3", env=env)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == op_home.log_key_path.read_bytes()
    # The wrong officer's passphrase: refused, nothing written.
    out2 = tmp_path / "k2.pem"
    result = run("key", "combine", str(paths[0]), str(paths[2]), "--out", str(out2),
                 "--passphrase-env", "OFFICER2", "--passphrase-env", "OFFICER3", env=env)
    assert result.exit_code == 2 and "wrong passphrase in OFFICER2" in result.stderr
    assert not out2.exists()
    # Encrypted, a share is bound to its header: moved to another index, it fails.
    text = paths[0].read_text().replace("share: 1/3/2", "share: 3/3/2")
    paths[0].write_text(text)
    with pytest.raises(BadInput, match="wrong passphrase"):
        combine_shares([paths[0], paths[1]], tmp_path / "k3.pem",
                       passphrase_envs=["OFFICER1", "OFFICER2"])


def test_split_refuses_bad_counts(op_home: Home, tmp_path: Path) -> None:
    for t, n in [(3, 2), (1, 3)]:
        result = run("--home", str(op_home.path), "key", "split", "--threshold", str(t),
                     "--shares", str(n), "--out", str(tmp_path / f"s{t}{n}"))
        assert result.exit_code == 2 and "\n" not in result.stderr.strip()
        assert not (tmp_path / f"s{t}{n}").exists() or not any((tmp_path / f"s{t}{n}").iterdir())


def test_freeze_refuses_every_write_and_unfreeze_resumes(home: Home) -> None:
    ledger = Ledger.open(home)
    try:
        register_party(home, ledger, "studio", "Before")
        assert writes_frozen(home) is None
        result = run("--home", str(home.path), "service", "freeze", "--reason",
                     "log key may be compromised (ticket 42)")
        assert result.exit_code == 0, result.stderr
        assert writes_frozen(home) == "log key may be compromised (ticket 42)"
        with ledger.db.read() as conn:
            size_before, _ = ledger.log.head(conn)
        with pytest.raises(WritesFrozen, match=r"ticket 42.*service unfreeze"):
            register_party(home, ledger, "studio", "During")
        with ledger.db.read() as conn:
            assert ledger.log.head(conn)[0] == size_before   # nothing written
        # Reads go on.
        assert run("--home", str(home.path), "party", "list").exit_code == 0
        result = run("--home", str(home.path), "service", "check", "--json")
        assert result.exit_code == 0 and '"frozen": "log key may be compromised' in result.stdout
        # A second freeze keeps the first reason.
        freeze(home, "another reason")
        assert writes_frozen(home) == "log key may be compromised (ticket 42)"
        assert run("--home", str(home.path), "service", "unfreeze").exit_code == 0
        assert writes_frozen(home) is None and unfreeze(home) is False
        register_party(home, ledger, "studio", "After")
    finally:
        ledger.close()


def test_freeze_needs_a_reason(op_home: Home) -> None:
    result = run("--home", str(op_home.path), "service", "freeze", "--reason", "   ")
    assert result.exit_code == 2 and "--reason is empty" in result.stderr
    assert writes_frozen(op_home) is None
