"""Private key files (0600, never overwritten, PKCS#8, optional passphrase) and the home folder."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reelrights.core.ids import new_id
from reelrights.errors import BadInput, NotFound
from reelrights.home import DEFAULT_ORIGIN, Home
from reelrights.keys import DEFAULT_PASSPHRASE_ENV, PartyKey, load_key_file, write_key_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set a umask for the test and restore the previous one afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)

    def set_(mask: int) -> None:
        os.umask(mask)
    yield set_
    os.umask(saved)


# ---------------------------------------------------------------------------------------------
# Key files
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077, 0o277])
def test_key_file_is_0600_whatever_the_umask(tmp_path: Path, umask, mask: int) -> None:
    umask(mask)
    path = tmp_path / "k.pem"
    write_key_file(path, PartyKey.generate())
    assert _mode(path) == 0o600


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_key_dir_is_created_0700(tmp_path: Path, umask, mask: int) -> None:
    umask(mask)
    path = tmp_path / "fresh" / "keys" / "k.pem"
    write_key_file(path, PartyKey.generate())
    assert _mode(path.parent) == 0o700
    assert _mode(path) == 0o600


def test_home_keys_are_0600_in_a_0700_dir(tmp_path: Path, umask) -> None:
    umask(0o000)  # even a permissive umask gives private keys
    home, created = Home.init(tmp_path / "h")
    assert created
    assert _mode(home.keys_dir) == 0o700
    assert _mode(home.log_key_path) == 0o600
    assert _mode(home.operator_key_path) == 0o600
    pid = new_id("party")
    home.store_party_key(pid, PartyKey.generate(), None)
    assert _mode(home.party_key_path(pid)) == 0o600
    assert sorted(p.name for p in home.keys_dir.iterdir()) == sorted(
        ["log.pem", "operator.pem", f"{pid}.pem"])
    # The log key signs checkpoints, the operator's key the operator's statements: never one.
    assert home.operator_key().seed != home.log_key().seed  # type: ignore[union-attr]


def test_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.pem"
    first = PartyKey.generate()
    write_key_file(path, first)
    before = path.read_bytes()
    with pytest.raises(BadInput, match="already exists; keys are never overwritten") as info:
        write_key_file(path, PartyKey.generate())
    assert str(path) in str(info.value)
    assert path.read_bytes() == before
    assert load_key_file(path).public_key_bytes == first.public_key_bytes


def test_key_file_is_pkcs8_pem_for_cryptography(tmp_path: Path) -> None:
    key = PartyKey(bytes(range(32)))
    path = tmp_path / "k.pem"
    write_key_file(path, key)
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8, unencrypted
    loaded = serialization.load_pem_private_key(data, password=None)
    assert isinstance(loaded, Ed25519PrivateKey)
    raw = loaded.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                               serialization.NoEncryption())
    assert raw == key.seed
    assert loaded.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw) == key.public_key_bytes
    # signatures agree with cryptography's Ed25519 (deterministic)
    assert loaded.sign(b"msg") == key.sign(b"msg")
    # and our loader reads a PEM cryptography wrote
    other = tmp_path / "other.pem"
    other.write_bytes(Ed25519PrivateKey.from_private_bytes(bytes(32)).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    assert load_key_file(other).seed == bytes(32)


def test_missing_key_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="sign there and submit") as info:
        load_key_file(tmp_path / "nope.pem")
    assert str(tmp_path / "nope.pem") in str(info.value)


def test_non_ed25519_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(BadInput, match="is not an Ed25519 key"):
        load_key_file(path)


def test_garbage_key_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    with pytest.raises(BadInput) as info:
        load_key_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33)])
def test_seed_must_be_32_bytes(seed: bytes) -> None:
    with pytest.raises(BadInput, match="32 bytes"):
        PartyKey(seed)


def test_repr_never_shows_the_seed() -> None:
    seed = bytes(range(200, 232))
    key = PartyKey(seed)
    for shown in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert seed.hex() not in shown
        assert seed.hex()[:8] not in shown
        assert base64.b64encode(seed).decode() not in shown
        assert base64.b64encode(seed).decode()[:8] not in shown
        assert repr(seed) not in shown
        assert key.public_key_bytes.hex()[:16] in shown  # the public key id is what it shows
    assert not hasattr(key, "__dict__")  # nothing else hides a copy of the secret


# ---------------------------------------------------------------------------------------------
# Passphrase-encrypted keys
# ---------------------------------------------------------------------------------------------

def test_passphrase_key_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = Home.init(tmp_path / "h")
    pid = new_id("party")
    key = PartyKey.generate()
    monkeypatch.setenv("REELRIGHTS_TEST_PASS", "correct horse battery staple")
    monkeypatch.setenv(DEFAULT_PASSPHRASE_ENV, "not this one")
    home.store_party_key(pid, key, passphrase_env="REELRIGHTS_TEST_PASS")
    path = home.party_key_path(pid)
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert _mode(path) == 0o600
    # readable by cryptography with the passphrase, and only with it
    loaded = serialization.load_pem_private_key(data, password=b"correct horse battery staple")
    assert loaded.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw) == key.public_key_bytes
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(data, password=None)
    # the home remembers which variable holds the passphrase (on disk too)
    assert home.passphrase_envs == {pid: "REELRIGHTS_TEST_PASS"}
    assert json.loads((home.path / "home.json").read_text())["passphrase_envs"] == {
        pid: "REELRIGHTS_TEST_PASS"}
    reopened = Home.open(home.path)
    assert reopened.party_key(pid).public_key_bytes == key.public_key_bytes


def test_passphrase_missing_or_wrong_names_file_and_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = Home.init(tmp_path / "h")
    pid = new_id("party")
    monkeypatch.setenv("REELRIGHTS_TEST_PASS", "s3cret")
    home.store_party_key(pid, PartyKey.generate(), passphrase_env="REELRIGHTS_TEST_PASS")
    path = str(home.party_key_path(pid))
    reopened = Home.open(home.path)

    monkeypatch.delenv("REELRIGHTS_TEST_PASS")
    monkeypatch.setenv(DEFAULT_PASSPHRASE_ENV, "s3cret")  # the default variable is not consulted
    with pytest.raises(BadInput) as info:
        reopened.party_key(pid)
    msg = str(info.value)
    assert path in msg and "REELRIGHTS_TEST_PASS" in msg and "encrypted" in msg
    assert "\n" not in msg

    monkeypatch.setenv("REELRIGHTS_TEST_PASS", "wrong")
    with pytest.raises(BadInput) as info:
        reopened.party_key(pid)
    msg = str(info.value)
    assert path in msg and "REELRIGHTS_TEST_PASS" in msg and "wrong passphrase" in msg
    assert "\n" not in msg

    monkeypatch.setenv("REELRIGHTS_TEST_PASS", "")  # empty is the same as unset
    with pytest.raises(BadInput, match="REELRIGHTS_TEST_PASS"):
        reopened.party_key(pid)


def test_default_passphrase_variable_is_named_when_none_was_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k.pem"
    write_key_file(path, PartyKey.generate(), passphrase=b"pw")
    monkeypatch.delenv(DEFAULT_PASSPHRASE_ENV, raising=False)
    with pytest.raises(BadInput) as info:
        load_key_file(path)
    assert str(path) in str(info.value) and DEFAULT_PASSPHRASE_ENV in str(info.value)
    monkeypatch.setenv(DEFAULT_PASSPHRASE_ENV, "pw")
    load_key_file(path)


def test_unencrypted_key_ignores_a_set_passphrase(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k.pem"
    key = PartyKey.generate()
    write_key_file(path, key)
    monkeypatch.setenv("SOME_PASS", "whatever")
    assert load_key_file(path, "SOME_PASS").public_key_bytes == key.public_key_bytes


def test_passphrase_env_unset_writes_nothing(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = Home.init(tmp_path / "h")
    before = (home.path / "home.json").read_bytes()
    monkeypatch.delenv("REELRIGHTS_UNSET_VAR", raising=False)
    pid = new_id("party")
    with pytest.raises(BadInput, match="--passphrase-env REELRIGHTS_UNSET_VAR"):
        home.store_party_key(pid, PartyKey.generate(), passphrase_env="REELRIGHTS_UNSET_VAR")
    assert not home.party_key_path(pid).exists()
    assert home.passphrase_envs == {}
    assert (home.path / "home.json").read_bytes() == before


def test_existing_key_file_leaves_passphrase_envs_alone(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = Home.init(tmp_path / "h")
    pid = new_id("party")
    home.store_party_key(pid, PartyKey.generate(), None)
    monkeypatch.setenv("P", "pw")
    with pytest.raises(BadInput, match="never overwritten"):
        home.store_party_key(pid, PartyKey.generate(), passphrase_env="P")
    assert home.passphrase_envs == {}
    home.party_key(pid)  # still the unencrypted key, loadable without a passphrase


# ---------------------------------------------------------------------------------------------
# The home
# ---------------------------------------------------------------------------------------------

def test_init_is_idempotent(tmp_path: Path) -> None:
    home, created = Home.init(tmp_path / "h", origin="example.com/log")
    assert created and home.origin == "example.com/log"
    key_bytes = home.log_key_path.read_bytes()
    config = (home.path / "home.json").read_bytes()
    again, created2 = Home.init(tmp_path / "h")
    assert not created2
    assert again.origin == "example.com/log"
    assert again.log_key().public_key_bytes == home.log_key().public_key_bytes
    assert again.log_key_path.read_bytes() == key_bytes
    assert (home.path / "home.json").read_bytes() == config
    third, created3 = Home.init(tmp_path / "h", origin="example.com/log")  # same origin: fine
    assert not created3 and third.log_key().seed == home.log_key().seed


def test_init_refuses_a_different_origin(tmp_path: Path) -> None:
    home, _ = Home.init(tmp_path / "h")
    config = (home.path / "home.json").read_bytes()
    with pytest.raises(BadInput) as info:
        Home.init(tmp_path / "h", origin="other.example/log")
    msg = str(info.value)
    assert DEFAULT_ORIGIN in msg and "new --home" in msg
    assert (home.path / "home.json").read_bytes() == config
    assert Home.open(home.path).origin == DEFAULT_ORIGIN


@pytest.mark.parametrize("origin", ["has space/log", "a+b.example/log", "/leading", "tab\there"])
def test_init_refuses_a_bad_origin_and_creates_nothing(tmp_path: Path, origin: str) -> None:
    with pytest.raises(BadInput, match="origin"):
        Home.init(tmp_path / "h", origin=origin)
    assert not (tmp_path / "h").exists()


def test_open_missing_home_says_run_init(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(NotFound) as info:
        Home.open(missing)
    msg = str(info.value)
    assert str(missing) in msg and "reelrights init" in msg and "\n" not in msg
    assert not missing.exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFound, match="reelrights init"):
        Home.open(tmp_path / "empty")


def test_open_unreadable_config_is_bad_input(tmp_path: Path) -> None:
    home, _ = Home.init(tmp_path / "h")
    (home.path / "home.json").write_text("{not json", "utf-8")
    with pytest.raises(BadInput, match="home.json is unreadable"):
        Home.open(home.path)


def test_home_location_and_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("REELRIGHTS_HOME", raising=False)
    assert Home.resolve() == tmp_path / "user" / ".reelrights"
    monkeypatch.setenv("REELRIGHTS_HOME", str(tmp_path / "env"))
    assert Home.resolve() == tmp_path / "env"
    assert Home.resolve(tmp_path / "flag") == tmp_path / "flag"

    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    home, _ = Home.init(tmp_path / "flag")
    assert home.database_url == f"sqlite:///{tmp_path / 'flag' / 'reelrights.db'}"
    home.database_url_setting = "postgresql+psycopg://u@db/x"
    home.save()
    assert Home.open(home.path).database_url == "postgresql+psycopg://u@db/x"
    monkeypatch.setenv("REELRIGHTS_DATABASE_URL", "sqlite:////elsewhere.db")
    assert Home.open(home.path).database_url == "sqlite:////elsewhere.db"
