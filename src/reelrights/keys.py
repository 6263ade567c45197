"""Ed25519 private keys on disk: PKCS#8 PEM, mode 0600, optionally encrypted.

A key file is written once with ``O_CREAT | O_EXCL`` and mode 0600, so it is never readable by
others, not even for a moment, and an existing key is never overwritten. If a passphrase is
given, the PEM is encrypted with the best scheme ``cryptography`` offers. The passphrase itself
is read from an environment variable: it never appears on a command line, where other users'
``ps`` could show it. Signing goes through libsodium (PyNaCl).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.signing import SigningKey

from .errors import BadInput, NotFound

__all__ = ["PartyKey", "load_key_file", "write_key_file"]

DEFAULT_PASSPHRASE_ENV = "REELRIGHTS_KEY_PASSPHRASE"


class PartyKey:
    """An Ed25519 signing key. It never prints its secret (``repr`` shows the key id)."""

    __slots__ = ("_signing", "public_key_bytes")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise BadInput("an Ed25519 private key seed must be 32 bytes")
        self._signing = SigningKey(seed)
        self.public_key_bytes = bytes(self._signing.verify_key)

    @classmethod
    def generate(cls) -> PartyKey:
        return cls(os.urandom(32))

    @property
    def seed(self) -> bytes:
        """The raw 32-byte private seed. Only note signing and PEM writing use it."""
        return bytes(self._signing)

    def sign(self, message: bytes) -> bytes:
        return self._signing.sign(message).signature

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                      else serialization.NoEncryption())
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 encryption)

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | None, *, where: str,
                 env: str = DEFAULT_PASSPHRASE_ENV) -> PartyKey:
        """Load a PKCS#8 PEM key; ``env`` names the passphrase variable in error messages."""
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError:
            if passphrase is None:
                raise BadInput(f"{where} is encrypted; set {env} to its passphrase") from None
            raise BadInput(f"{where} is not encrypted; unset {env}") from None
        except ValueError:
            raise BadInput(f"{where} cannot be read: wrong passphrase in {env}, or not a PKCS#8 "
                           "PEM Ed25519 key; check the passphrase and the file") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise BadInput(f"{where} is not an Ed25519 key; reelrights keys are Ed25519")
        return cls(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption()))

    def __repr__(self) -> str:
        return f"<PartyKey public={self.public_key_bytes.hex()[:16]}…>"


def write_key_file(path: Path, key: PartyKey, passphrase: bytes | None = None) -> None:
    """Create ``path`` with mode 0600 holding ``key`` as PKCS#8 PEM. Never overwrites."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = key.to_pem(passphrase)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BadInput(f"{path} already exists; keys are never overwritten") from None
    try:
        os.fchmod(fd, 0o600)  # in case the umask dropped bits we asked for
        if os.write(fd, data) != len(data):
            raise OSError(errno.ENOSPC, "short write", str(path))
        os.fsync(fd)
    except OSError as exc:  # a full disk: no empty or partial key file left behind
        os.close(fd)
        path.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    os.close(fd)


def load_key_file(path: Path, passphrase_env: str | None = None) -> PartyKey:
    """Load a key, taking the passphrase (if the file is encrypted) from the environment."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no private key at {path}; this party's key lives on another machine, "
                       "so sign there and submit the signed statement") from None
    env = passphrase_env or DEFAULT_PASSPHRASE_ENV
    value = os.environ.get(env)
    passphrase = value.encode("utf-8") if value else None
    if b"ENCRYPTED" not in data:
        passphrase = None
    return PartyKey.from_pem(data, passphrase, where=str(path), env=env)
