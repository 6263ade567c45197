"""The log key, backed up offline: split among officers with SLIP-39 (Shamir's secret sharing).

``reelrights key split --threshold 2 --shares 3 --out DIR`` splits the log key's 32-byte seed
into SLIP-39 mnemonics (``shamir-mnemonic``, the reference implementation): any ``threshold``
of them give the key back, fewer give nothing about it. Each share goes to its own file, mode
0600, created exclusively; an officer prints it or copies it to a medium kept offline, and the
file is then deleted. A share can be encrypted with its officer's own passphrase (scrypt, then
ChaCha20-Poly1305, the header bound as associated data), read from an environment variable,
never from the command line. ``reelrights key combine SHARE...`` restores the key file (0600,
never overwriting one) and checks it against the log's public key written in every share.

A share file::

    reelrights log key share 2 of 3 (any 2 of them restore the key)
    origin: example.org/log
    log-key: example.org/log+0ae81121+AcLk...
    share: 2/3/2
    mnemonic: academic acid ...                  (or)
    encrypted: scrypt-chacha20poly1305 <salt> <nonce> <ciphertext>   (base64 each)

Nothing here prints a key or a share: the commands print the files' paths and the public key.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..core.note import NoteSigner
from ..errors import BadInput, Conflict, NotFound
from ..home import Home
from ..keys import PartyKey, write_key_file

__all__ = ["ShareFile", "combine_shares", "read_share", "split_log_key"]

_TITLE = "reelrights log key share"
_SCHEME = "scrypt-chacha20poly1305"
_SCRYPT_N = 2 ** 15


@dataclass(frozen=True)
class ShareFile:
    """One share as read from its file (the mnemonic still encrypted, if it was)."""

    path: Path
    origin: str
    log_key: str
    index: int
    count: int
    threshold: int
    mnemonic: str | None
    encrypted: tuple[bytes, bytes, bytes] | None

    def header(self) -> bytes:
        return (f"{_TITLE} {self.index} of {self.count}\norigin: {self.origin}\n"
                f"log-key: {self.log_key}\nshare: {self.index}/{self.count}/{self.threshold}\n"
                ).encode()


def _passphrase(env: str) -> bytes:
    value = os.environ.get(env)
    if not value:
        raise BadInput(f"--passphrase-env {env}: that variable is empty or unset; export it with "
                       "the share's passphrase first")
    return value.encode("utf-8")


def _kdf(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=8, p=1).derive(passphrase)


def _write_exclusive(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(f"{path} already exists; shares are never overwritten: pass an empty "
                       "--out folder") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    except OSError:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def split_log_key(home: Home, out: Path, *, threshold: int, shares: int,
                  passphrase_envs: list[str] | tuple[str, ...] = ()) -> list[Path]:
    """Split the home's log key into ``shares`` SLIP-39 shares, any ``threshold`` of which
    restore it; write each to ``out/log-key-share-<i>-of-<n>.txt`` (0600). With
    ``passphrase_envs`` (one variable per share, in order) each share is encrypted with its
    own passphrase. Returns the files' paths."""
    import shamir_mnemonic

    if not 1 <= threshold <= shares <= 16:
        raise BadInput(f"--threshold {threshold} --shares {shares}: need 1 <= threshold <= "
                       "shares <= 16 (SLIP-39)")
    if threshold == 1 and shares > 1:
        raise BadInput("--threshold 1 would make every share a full copy of the key; use "
                       "--threshold 2 or more")
    if passphrase_envs and len(passphrase_envs) != shares:
        raise BadInput(f"--passphrase-env given {len(passphrase_envs)} times for {shares} "
                       "shares; give one variable per share, in order, or none")
    passphrases = [_passphrase(e) for e in passphrase_envs]
    key = home.log_key()
    vkey = NoteSigner(home.origin, key.seed).vkey
    groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, shares)], key.seed)
    out = Path(out)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = [out / f"log-key-share-{i}-of-{shares}.txt" for i in range(1, shares + 1)]
    taken = [p for p in paths if p.exists()]
    if taken:
        raise Conflict(f"{taken[0]} already exists; shares are never overwritten: pass an "
                       "empty --out folder")
    written: list[Path] = []
    try:
        for i, (path, words) in enumerate(zip(paths, groups[0]), start=1):
            share = ShareFile(path, home.origin, vkey, i, shares, threshold, words, None)
            if passphrases:
                salt, nonce = os.urandom(16), os.urandom(12)
                data = ChaCha20Poly1305(_kdf(passphrases[i - 1], salt)).encrypt(
                    nonce, words.encode(), share.header())
                body = (f"encrypted: {_SCHEME} {base64.b64encode(salt).decode()} "
                        f"{base64.b64encode(nonce).decode()} {base64.b64encode(data).decode()}\n")
            else:
                body = f"mnemonic: {words}\n"
            _write_exclusive(path, share.header() + body.encode())
            written.append(path)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    return written


def read_share(path: Path) -> ShareFile:
    """Parse a share file (BadInput naming the file and the line when it is not one)."""
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise NotFound(f"{path}: no such share file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} cannot be read ({exc}); pass a share file written by "
                       "`reelrights key split`") from None
    if len(lines) != 5 or not lines[0].startswith(_TITLE):
        raise BadInput(f"{path} is not a share file written by `reelrights key split` (5 lines, "
                       f"the first '{_TITLE} ...')")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(": ")
        if not sep:
            raise BadInput(f"{path}: line {line[:40]!r} is not 'name: value'")
        fields[name] = value.strip()
    try:
        index, count, threshold = (int(x) for x in fields["share"].split("/"))
        encrypted = None
        mnemonic = fields.get("mnemonic")
        if mnemonic is None:
            scheme, salt, nonce, data = fields["encrypted"].split(" ")
            if scheme != _SCHEME:
                raise BadInput(f"{path}: unknown encryption {scheme!r}")
            encrypted = (base64.b64decode(salt, validate=True),
                         base64.b64decode(nonce, validate=True),
                         base64.b64decode(data, validate=True))
        return ShareFile(Path(path), fields["origin"], fields["log-key"], index, count,
                         threshold, mnemonic, encrypted)
    except (KeyError, ValueError) as exc:
        raise BadInput(f"{path}: a damaged share file ({exc}); use another officer's "
                       "share") from None


def _words(share: ShareFile, env: str | None) -> str:
    if share.mnemonic is not None:
        return share.mnemonic
    assert share.encrypted is not None
    if env is None:
        raise BadInput(f"{share.path} is encrypted; pass --passphrase-env VAR for it (one per "
                       "encrypted share, in the order the shares are given)")
    salt, nonce, data = share.encrypted
    try:
        return ChaCha20Poly1305(_kdf(_passphrase(env), salt)).decrypt(
            nonce, data, share.header()).decode()
    except InvalidTag:
        raise BadInput(f"{share.path}: wrong passphrase in {env} (or the file was altered); "
                       "ask its officer for the passphrase") from None


def combine_shares(paths: list[Path], out: Path, *,
                   passphrase_envs: list[str] | tuple[str, ...] = ()) -> str:
    """Restore the log key from ``threshold`` shares into ``out`` (PEM, 0600, never
    overwriting). ``passphrase_envs`` name the passphrases of the encrypted shares, in the
    order they come. Returns the log's note verifier key (public), checked against the one
    every share names."""
    import shamir_mnemonic

    if not paths:
        raise BadInput("no share given; pass the share files of at least the threshold")
    shares = [read_share(p) for p in paths]
    first = shares[0]
    for s in shares[1:]:
        if (s.origin, s.log_key) != (first.origin, first.log_key):
            raise BadInput(f"{s.path} is a share of {s.log_key}, not of {first.log_key} like "
                           f"{first.path}; pass shares of one key")
    if len({s.index for s in shares}) != len(shares):
        raise BadInput("the same share was given twice; pass shares of different officers")
    if len(shares) < first.threshold:
        raise BadInput(f"{len(shares)} share(s) given but any {first.threshold} of the "
                       f"{first.count} are needed to restore the key; nothing was written")
    envs = list(passphrase_envs)
    words = []
    for s in shares:
        env = envs.pop(0) if s.encrypted is not None and envs else None
        words.append(_words(s, env))
    try:
        seed = shamir_mnemonic.combine_mnemonics(words)
    except shamir_mnemonic.MnemonicError as exc:
        raise BadInput(f"the shares do not combine ({exc}); nothing was written") from None
    key = PartyKey(seed)
    vkey = NoteSigner(first.origin, key.seed).vkey
    if vkey != first.log_key:
        raise BadInput(f"the shares combine to a key whose public key is not {first.log_key}; "
                       "a share is damaged or of another split: nothing was written")
    if out.exists():
        raise Conflict(f"{out} already exists; keys are never overwritten: pass a new --out")
    write_key_file(out, key)
    return vkey
