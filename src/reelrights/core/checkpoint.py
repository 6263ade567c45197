"""C2SP tlog-checkpoint v1.0.0: the signed tree head of a transparency log.

Checkpoint note text::

    <origin>\\n                 unique log name, SHOULD be a scheme-less URL (example.com/log42)
    <size>\\n                   ASCII decimal, no leading zeros ("0" for the empty tree)
    <base64(root)>\\n           standard padded base64 of the 32-byte RFC 9162 root
    [<extension line>\\n ...]   optional, non-empty (NOT RECOMMENDED)

The note is signed as a C2SP signed-note (:mod:`reelrights.core.note`); the log's key name SHOULD
equal the origin. No I/O.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reelrights.core.note import NoteVerifier, Signer, open_note, sign_note
from reelrights.errors import BadInput, SignatureError

__all__ = ["Checkpoint", "open_checkpoint", "sign_checkpoint"]

_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = (1 << 64) - 1


def _bad(why: str) -> BadInput:
    return BadInput(f"malformed checkpoint: {why}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, tree size, 32-byte root hash and optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise _bad(f"origin {self.origin!r} must be one non-empty line")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= _MAX_SIZE:
            raise _bad(f"size {self.size!r} must be an integer in 0..2**64-1")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise _bad(f"root must be 32 bytes, got {len(self.root)}")
        for ext in self.extensions:
            if not ext or "\n" in ext:
                raise _bad(f"extension line {ext!r} must be one non-empty line")

    @property
    def root_hex(self) -> str:
        """The root as lowercase hex."""
        return self.root.hex()

    def text(self) -> str:
        """The note text (every line ends in ``\\n``)."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str | bytes) -> Checkpoint:
        """Parse checkpoint note text (without signatures); BadInput on any violation."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad("text is not UTF-8") from None
        if not text.endswith("\n"):
            raise _bad("text does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise _bad(f"needs origin, size and root lines, got {len(lines)} line(s)")
        origin, size_s, root_s, *ext = lines
        if not origin:
            raise _bad("origin line is empty")
        if not _SIZE.fullmatch(size_s):
            raise _bad(f"size {size_s[:30]!r} is not a decimal number without leading zeros")
        size = int(size_s)
        if size > _MAX_SIZE:
            raise _bad(f"size {size_s} does not fit in 64 bits")
        try:
            root = base64.b64decode(root_s.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise _bad(f"root {root_s[:60]!r} is not standard padded base64") from None
        if len(root) != 32:
            raise _bad(f"root {root_s[:60]!r} is not the base64 of 32 bytes")
        for line in ext:
            if not line:
                raise _bad("an extension line is empty")
        return cls(origin, size, root, tuple(ext))


def sign_checkpoint(cp: Checkpoint, signer: Signer | Sequence[Signer]) -> bytes:
    """Sign ``cp`` as a signed note with one signer (or several)."""
    signers = list(signer) if isinstance(signer, Sequence) else [signer]
    return sign_note(cp.text(), signers)


def open_checkpoint(
    note_bytes: bytes,
    verifier: NoteVerifier | Sequence[NoteVerifier],
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint and parse it.

    SignatureError when no verifier signed it (or a known signature is bad), BadInput when the
    note or the checkpoint text is malformed. With ``origin``, the checkpoint must be for that log.
    """
    verifiers = list(verifier) if isinstance(verifier, Sequence) else [verifier]
    opened = open_note(note_bytes, verifiers)
    cp = Checkpoint.parse(opened.text)
    if origin is not None and cp.origin != origin:
        raise SignatureError(
            f"checkpoint is for log {cp.origin!r}, not {origin!r}: fetch the checkpoint of the right log"
        )
    return cp
