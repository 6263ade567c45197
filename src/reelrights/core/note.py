"""C2SP signed-note v1.0.0 (Go ``golang.org/x/mod/sumdb/note``) and tlog-cosignature v1.

A note is UTF-8 text with no control characters but ``\\n``, ending in ``\\n``, then one blank line,
then one or more signature lines::

    <text ending in \\n>\\n
    — <key name> base64(key_id_be32 || signature)\\n

The em dash is U+2014 (3 bytes). The signed message is the text including its final ``\\n``. The
separator is the LAST ``\\n\\n`` (the text may hold blank lines).

Keys: ``key_id = SHA-256(name || 0x0A || sigtype || pubkey)[:4]`` as a big-endian uint32. A verifier
key (vkey) is ``name+%08x(key_id)+base64(sigtype || pubkey)``; a Go signer key (skey) is
``PRIVATE+KEY+name+%08x+base64(0x01 || seed)``. Base64 holds ``+``, so split on the first two
(resp. four) ``+`` only. Names are non-empty, hold no Unicode space and no ``+``.

Signature types handled here: 0x01 Ed25519 over the text; 0x04 Ed25519 cosignature
(c2sp.org/tlog-cosignature): signature = ``u64be(timestamp) || Ed25519(msg)`` with
``msg = "cosignature/v1\\ntime <timestamp>\\n" + text``. No I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import nacl.bindings
import nacl.exceptions

from reelrights.errors import BadInput, SignatureError

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "CosignatureSigner",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "Signer",
    "format_skey",
    "format_vkey",
    "generate_skey",
    "is_valid_name",
    "key_id",
    "open_note",
    "parse_skey",
    "sign_note",
]

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100  # Go rejects notes with more signature lines than this.
_SIG_PREFIX = "\u2014 "  # em dash + space
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


def key_id(name: str, sigtype_and_pubkey: bytes) -> int:
    """``SHA-256(name || "\\n" || sigtype || pubkey)[:4]`` as a big-endian uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + sigtype_and_pubkey).digest()
    return int.from_bytes(digest[:4], "big")


def is_valid_name(name: str) -> bool:
    """A key name is non-empty and holds no Unicode space and no ``+`` (Go ``isValidName``)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BadInput(f"{what} is not standard padded base64: copy it again in full") from None


def _check_name(name: str, what: str) -> None:
    if not is_valid_name(name):
        raise BadInput(f"{what} name {name!r} is not valid: use a non-empty name without spaces or '+'")


def format_vkey(name: str, sigtype_and_pubkey: bytes) -> str:
    """Encode a verifier key ``name+%08x+base64(sigtype || pubkey)``."""
    _check_name(name, "verifier key")
    b64 = base64.b64encode(sigtype_and_pubkey).decode()
    return f"{name}+{key_id(name, sigtype_and_pubkey):08x}+{b64}"


def _split_key(key: str, parts: int, what: str) -> list[str]:
    fields = key.strip().split("+", parts - 1)
    if len(fields) != parts:
        raise BadInput(f"{what} {key[:40]!r} does not have {parts} '+'-separated fields")
    return fields


def _seed_from(key: object) -> bytes:
    """Accept a 32-byte seed or a ``cryptography`` Ed25519PrivateKey."""
    if isinstance(key, (bytes, bytearray, memoryview)):
        seed = bytes(key)
    else:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        if not isinstance(key, Ed25519PrivateKey):
            raise BadInput("signing key must be a 32-byte Ed25519 seed or an Ed25519PrivateKey")
        seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    if len(seed) != 32:
        raise BadInput(f"Ed25519 seed has {len(seed)} bytes, want 32")
    return seed


class Signer(Protocol):
    """What :func:`sign_note` needs: a name, a key id and one signature line per text."""

    name: str
    key_id: int

    def sign(self, text: str) -> str: ...


class _Ed25519Key:
    """Shared key handling for the two Ed25519 signer kinds."""

    alg = ALG_ED25519

    def __init__(self, name: str, key: object) -> None:
        _check_name(name, "signer")
        self.name = name
        self._seed = _seed_from(key)
        pk, self._sk = nacl.bindings.crypto_sign_seed_keypair(self._seed)
        self.public_key: bytes = pk
        self.key_id: int = key_id(name, bytes([self.alg]) + pk)

    @property
    def vkey(self) -> str:
        """The verifier key for this signer."""
        return format_vkey(self.name, bytes([self.alg]) + self.public_key)

    def _line(self, sig: bytes) -> str:
        b64 = base64.b64encode(self.key_id.to_bytes(4, "big") + sig).decode()
        return f"{_SIG_PREFIX}{self.name} {b64}\n"

    def _ed25519(self, msg: bytes) -> bytes:
        return nacl.bindings.crypto_sign(msg, self._sk)[:64]


class NoteSigner(_Ed25519Key):
    """Ed25519 (type 0x01) note signer. ``key`` is a 32-byte seed or an Ed25519PrivateKey."""

    def sign_bytes(self, msg: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``msg``."""
        return self._ed25519(msg)

    def sign(self, text: str) -> str:
        """The signature line ``— name base64(key_id || sig)\\n`` for ``text``."""
        return self._line(self._ed25519(_text_bytes(text)))

    @property
    def skey(self) -> str:
        """The Go-format private key string (keep it secret)."""
        return format_skey(self.name, self._seed)


def _cosigned_message(text: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text


class CosignatureSigner(_Ed25519Key):
    """tlog-cosignature v1 (type 0x04) signer: signs ``cosignature/v1\\ntime <ts>\\n`` + text.

    ``clock`` gives the timestamp (seconds since the epoch) when :meth:`sign` gets none.
    """

    alg = ALG_COSIGNATURE_V1

    def __init__(self, name: str, key: object, clock: Callable[[], float] = time.time) -> None:
        super().__init__(name, key)
        self._clock = clock

    def sign(self, text: str, timestamp: int | None = None) -> str:
        """The cosignature line for ``text`` at ``timestamp`` (default: now)."""
        ts = int(self._clock()) if timestamp is None else timestamp
        if not 0 <= ts < 1 << 64:
            raise BadInput(f"cosignature timestamp {ts} does not fit in a uint64")
        sig = self._ed25519(_cosigned_message(_text_bytes(text), ts))
        return self._line(ts.to_bytes(8, "big") + sig)


def format_skey(name: str, seed: bytes) -> str:
    """Go ``PRIVATE+KEY+name+%08x+base64(0x01 || seed)`` for an Ed25519 seed."""
    _check_name(name, "signer key")
    seed = _seed_from(seed)
    pk, _ = nacl.bindings.crypto_sign_seed_keypair(seed)
    kid = key_id(name, bytes([ALG_ED25519]) + pk)
    return f"PRIVATE+KEY+{name}+{kid:08x}+{base64.b64encode(bytes([ALG_ED25519]) + seed).decode()}"


def parse_skey(skey: str) -> NoteSigner:
    """Parse a Go signer key into a :class:`NoteSigner`, checking its key id (BadInput if bad)."""
    priv, key, name, hex8, b64 = _split_key(skey, 5, "signer key")
    if priv != "PRIVATE" or key != "KEY":
        raise BadInput("signer key does not start with PRIVATE+KEY+: pass a Go note signer key")
    _check_name(name, "signer key")
    if not _HEX8.fullmatch(hex8):
        raise BadInput(f"signer key id {hex8!r} is not 8 hex digits")
    raw = _b64decode(b64, "signer key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise BadInput("signer key is not an Ed25519 key (want base64 of 0x01 || 32-byte seed)")
    signer = NoteSigner(name, raw[1:])
    if signer.key_id != int(hex8, 16):
        raise BadInput(f"signer key id {hex8} does not match its key: the key string is corrupt")
    return signer


def generate_skey(name: str) -> str:
    """A fresh random Ed25519 signer key for ``name`` (Go ``note.GenerateKey`` format)."""
    import os

    return format_skey(name, os.urandom(32))


class NoteVerifier:
    """A verifier from a vkey ``name+hex8+base64(sigtype || pubkey)`` (type 0x01 or 0x04)."""

    def __init__(self, vkey: str) -> None:
        name, hex8, b64 = _split_key(vkey, 3, "verifier key")
        _check_name(name, "verifier key")
        if not _HEX8.fullmatch(hex8):
            raise BadInput(f"verifier key id {hex8!r} in {name}'s key is not 8 hex digits")
        raw = _b64decode(b64, f"verifier key for {name}")
        if not raw:
            raise BadInput(f"verifier key for {name} is empty")
        if int(hex8, 16) != key_id(name, raw):
            raise BadInput(f"verifier key id {hex8} does not match {name}'s key: the key string is corrupt")
        if raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise BadInput(f"verifier key for {name} has unsupported signature type 0x{raw[0]:02x}")
        if len(raw) != 33:
            raise BadInput(f"verifier key for {name} holds {len(raw) - 1} key bytes, want 32")
        self.name = name
        self.key_id = int(hex8, 16)
        self.alg = raw[0]
        self.public_key = raw[1:]
        self.vkey = format_vkey(name, raw)

    def verify(self, text: bytes, sig: bytes) -> int | None:
        """Check ``sig`` (after the 4-byte key id) over ``text``; SignatureError if it fails.

        Returns the cosignature timestamp for type 0x04, else None.
        """
        ts: int | None = None
        msg = text
        if self.alg == ALG_COSIGNATURE_V1:
            if len(sig) != 72:
                self._fail()
            ts = int.from_bytes(sig[:8], "big")
            msg, sig = _cosigned_message(text, ts), sig[8:]
        if len(sig) != 64:
            self._fail()
        try:
            nacl.bindings.crypto_sign_open(sig + msg, self.public_key)
        except (nacl.exceptions.BadSignatureError, ValueError):
            self._fail()
        return ts

    def _fail(self) -> None:
        raise SignatureError(
            f"signature by {self.name}+{self.key_id:08x} does not verify: the note was altered or forged"
        )

    def __repr__(self) -> str:
        return f"NoteVerifier({self.vkey!r})"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key id, raw signature (after the id), cosignature time."""

    name: str
    key_id: int
    signature: bytes
    timestamp: int | None = None


@dataclass(frozen=True)
class OpenedNote:
    """An opened note: its text, the verified signatures, and lines by unknown keys."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def _text_bytes(text: str | bytes) -> bytes:
    """Check note text rules (UTF-8, no control chars but \\n, ends in \\n) and encode it."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "strict")
    if isinstance(text, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("note text is not valid UTF-8") from None
    if not text.endswith("\n"):
        raise BadInput("note text does not end with a newline: add a final \\n")
    if any(c < " " and c != "\n" for c in text):
        raise BadInput("note text holds a control character other than \\n: remove it")
    return raw


def sign_note(text: str, signers: Sequence[Signer]) -> bytes:
    """``text + "\\n" + one signature line per signer`` (Go ``note.Sign`` with a fresh note)."""
    _text_bytes(text)
    if not signers:
        raise BadInput("sign_note needs at least one signer")
    seen: set[tuple[str, int]] = set()
    lines = []
    for s in signers:
        if (s.name, s.key_id) in seen:
            raise BadInput(f"signer {s.name}+{s.key_id:08x} is listed twice")
        seen.add((s.name, s.key_id))
        lines.append(s.sign(text))
    return (text + "\n" + "".join(lines)).encode("utf-8")


def _malformed(why: str) -> BadInput:
    return BadInput(f"malformed signed note: {why}")


def open_note(note: bytes, verifiers: Iterable[NoteVerifier]) -> OpenedNote:
    """Parse ``note`` and check its signatures against ``verifiers`` (Go ``note.Open`` rules).

    Lines whose (name, key id) is unknown are returned as ``unverified``; a known key whose
    signature fails raises SignatureError; no known valid signature raises SignatureError;
    a note that breaks the format (or has more than 100 signature lines) raises BadInput.
    """
    known: dict[tuple[str, int], NoteVerifier] = {}
    for ver in verifiers:
        prev = known.setdefault((ver.name, ver.key_id), ver)
        if prev.public_key != ver.public_key or prev.alg != ver.alg:
            raise BadInput(f"two different verifier keys are named {ver.name}+{ver.key_id:08x}")
    # 1. Valid UTF-8 with no ASCII control characters except \n.
    try:
        msg = bytes(note).decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("not valid UTF-8") from None
    if any(c < " " and c != "\n" for c in msg):
        raise _malformed("holds a control character other than \\n")
    # 2. The signature block follows the LAST blank line and ends with \n.
    split = msg.rfind("\n\n")
    if split < 0:
        raise _malformed("no blank line before the signatures")
    text, sigs = msg[: split + 1], msg[split + 2 :]
    if not sigs or not sigs.endswith("\n"):
        raise _malformed("the signature block is empty or does not end with a newline")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    seen_unverified: set[str] = set()
    text_bytes = text.encode("utf-8")
    lines = sigs[:-1].split("\n")
    # 3. At most 100 signature lines (Go), each "— name base64(id || sig)".
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"{len(lines)} signature lines, at most {MAX_SIGNATURES} allowed")
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise _malformed(f"signature line {line[:30]!r} does not start with an em dash and a space")
        body = line[len(_SIG_PREFIX) :]
        name, _, b64 = body.partition(" ")
        if not is_valid_name(name) or not b64:
            raise _malformed(f"signature line {line[:30]!r} has no valid key name and signature")
        try:
            raw = base64.b64decode(b64.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise _malformed(f"signature by {name} is not standard base64") from None
        if len(raw) < 5:
            raise _malformed(f"signature by {name} is too short")
        kid, sig = int.from_bytes(raw[:4], "big"), raw[4:]
        v = known.get((name, kid))
        # 4. Unknown (name, id): keep as unverified, once per identical line.
        if v is None:
            if body not in seen_unverified:
                seen_unverified.add(body)
                unverified.append(NoteSignature(name, kid, sig))
            continue
        # 5. Known key: verify once; a bad signature rejects the whole note.
        if (name, kid) in seen:
            continue
        seen.add((name, kid))
        ts = v.verify(text_bytes, sig)
        verified.append(NoteSignature(name, kid, sig, ts))
    # 6. At least one known, valid signature.
    if not verified:
        names = ", ".join(f"{n.name}+{n.key_id:08x}" for n in unverified) or "none"
        raise SignatureError(f"note has no signature by a trusted key (found {names}): check the verifier key")
    return OpenedNote(text, tuple(verified), tuple(unverified))
