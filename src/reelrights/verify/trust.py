"""What a verifier trusts: the log's public key and, optionally, K of N witnesses' keys.

:class:`LogTrust` opens a checkpoint note: the log's Ed25519 signature (C2SP signed-note) under
the configured log key, for that key's origin, then the witnesses' cosignatures
(c2sp.org/tlog-cosignature, type 0x04: ``cosignature/v1\\ntime T\\n`` + the checkpoint text)
and at least ``min_witnesses`` of them. A checkpoint note opened once is cached by its exact
bytes (a proof bundle carries the same note as many others), so verifying many bundles costs
one checkpoint signature check.

The witness check lives in :func:`count_cosignatures` alone, so it folds into
``reelrights.core.cosignature`` (a tlog-policy file, K of N) when that lands. No I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from ..core.checkpoint import Checkpoint
from ..core.note import ALG_COSIGNATURE_V1, ALG_ED25519, NoteVerifier, open_note
from ..errors import BadInput, SignatureError, VerificationError

__all__ = ["LogTrust", "TrustedCheckpoint", "count_cosignatures"]

_CACHE = 64


@dataclass(frozen=True)
class TrustedCheckpoint:
    """A checkpoint whose log signature (and witness policy) verified."""

    checkpoint: Checkpoint
    note: bytes
    witnesses: tuple[tuple[str, int], ...]  # (witness name, cosignature timestamp)


def count_cosignatures(note: bytes, witnesses: Sequence[NoteVerifier]) -> list[tuple[str, int]]:
    """(name, timestamp) of every witness in ``witnesses`` whose cosignature on ``note`` verifies.

    A known witness whose line fails raises SignatureError (a forged or altered cosignature is
    an attack, not a missing one); lines by unknown keys are ignored."""
    if not witnesses:
        return []
    # open_note needs one valid known signature: the witnesses are the only keys given here.
    try:
        opened = open_note(note, witnesses)
    except SignatureError as exc:
        if "no signature by a trusted key" in exc.message:
            return []
        raise SignatureError(f"a witness cosignature does not verify: {exc.message}") from None
    return [(s.name, s.timestamp) for s in opened.signatures if s.timestamp is not None]


class LogTrust:
    """The log key (a note verifier key, as ``log.vkey`` holds it) and the witness policy."""

    def __init__(self, log_vkey: str, witnesses: Sequence[str] = (), min_witnesses: int = 0
                 ) -> None:
        self.log = NoteVerifier(log_vkey.strip())
        if self.log.alg != ALG_ED25519:
            raise BadInput("--log-key must be the log's Ed25519 note key (type 0x01), not a "
                           "witness cosignature key")
        self.witnesses = [NoteVerifier(w.strip()) for w in witnesses]
        for w in self.witnesses:
            if w.alg != ALG_COSIGNATURE_V1:
                raise BadInput(f"--witness {w.name}: a witness key is a cosignature/v1 key "
                               "(type 0x04); this one is a plain note key")
        if not 0 <= min_witnesses <= len(self.witnesses):
            raise BadInput(f"--min-witnesses {min_witnesses} asks for more witnesses than the "
                           f"{len(self.witnesses)} --witness key(s) given")
        self.min_witnesses = min_witnesses
        self._cache: OrderedDict[bytes, TrustedCheckpoint] = OrderedDict()

    @property
    def origin(self) -> str:
        return self.log.name

    def open(self, note: bytes) -> TrustedCheckpoint:
        """The checkpoint in ``note``, its signatures checked (cached by the note's bytes)."""
        hit = self._cache.get(note)
        if hit is not None:
            self._cache.move_to_end(note)
            return hit
        try:
            opened = open_note(note, [self.log])
        except SignatureError as exc:
            raise SignatureError(f"checkpoint: not signed by the log key {self.log.name}+"
                                 f"{self.log.key_id:08x} ({exc.message})") from None
        except BadInput as exc:
            raise VerificationError(f"checkpoint: {exc.message}") from None
        try:
            cp = Checkpoint.parse(opened.text)
        except BadInput as exc:
            raise VerificationError(f"checkpoint: {exc.message}") from None
        if cp.origin != self.log.name:
            raise SignatureError(f"checkpoint: for log {cp.origin!r}, not {self.log.name!r}")
        seen = count_cosignatures(note, self.witnesses)
        if len(seen) < self.min_witnesses:
            raise SignatureError(f"checkpoint: cosigned by {len(seen)} of the given witnesses, "
                                 f"fewer than --min-witnesses {self.min_witnesses}; fetch a "
                                 "newer, cosigned checkpoint (--server URL)")
        trusted = TrustedCheckpoint(cp, note, tuple(seen))
        self._cache[note] = trusted
        if len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return trusted
