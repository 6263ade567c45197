"""Cosigned checkpoints: a log's checkpoint with witnesses' tlog-cosignature v1 lines, checked
against a c2sp.org/tlog-policy (:mod:`reelrights.core.tlog_policy`); and the log-time check that
witness timestamps make possible. Pure functions, no I/O.

A cosignature (type 0x04) says "as of time T, the largest consistent tree I saw for this origin
is this one". So an entry at index ``i`` whose log claims time ``t``:

- was in the tree when any witness cosigned a checkpoint of size > ``i``: ``t <= T_after``;
- was not yet shown to a witness that cosigned a checkpoint of size <= ``i`` at ``T_before``:
  an honest log that logged it at ``t`` would have shown it, so ``t >= T_before``.

Both bounds allow ``slack_s`` seconds of clock skew and of the log's witnessing delay.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import LogIntegrityError, SignatureError
from .checkpoint import Checkpoint
from .note import ALG_COSIGNATURE_V1, NoteVerifier, open_note
from .tlog_policy import Policy

__all__ = ["Cosignature", "CosignedCheckpoint", "check_log_times", "open_cosigned",
           "verify_cosigned_checkpoint"]

#: Default allowance (seconds) between a log time and the witnesses' timestamps around it.
DEFAULT_SLACK_S = 300


@dataclass(frozen=True)
class Cosignature:
    """One verified witness cosignature: the witness's vkey, its timestamp and the note line."""

    witness: str  # vkey of the cosigner
    timestamp: int
    line: str  # "— name base64(...)\n"

    @property
    def raw(self) -> bytes:
        """The line's signature bytes: key id (4) || timestamp (8) || Ed25519 signature (64)."""
        import base64

        return base64.b64decode(self.line.rstrip("\n").rsplit(" ", 1)[-1])


@dataclass(frozen=True)
class CosignedCheckpoint:
    """A checkpoint verified under its log key, with the cosignatures of known witnesses."""

    checkpoint: Checkpoint
    log_key: str
    cosignatures: tuple[Cosignature, ...]
    #: Names of the policy's witnesses (or groups) that satisfied its quorum, if one was asked.
    quorum: str = ""

    @property
    def timestamps(self) -> list[int]:
        return sorted(c.timestamp for c in self.cosignatures)


def _lines(note: bytes) -> dict[tuple[str, int], str]:
    """Signature lines of ``note`` by (name, key id), the line text kept (parsing is open_note's)."""
    import base64

    text = note.decode("utf-8", "replace")
    out: dict[tuple[str, int], str] = {}
    for line in text[text.rfind("\n\n") + 2:].splitlines():
        name, _, b64 = line[2:].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except ValueError:
            continue
        if len(raw) >= 4:
            out.setdefault((name, int.from_bytes(raw[:4], "big")), line + "\n")
    return out


def open_cosigned(note: bytes, log_key: str | NoteVerifier,
                  witnesses: Iterable[str | NoteVerifier] = ()) -> CosignedCheckpoint:
    """Open ``note`` with the log key and the witnesses' keys: the log's signature must be there
    and valid; a known witness's bad cosignature rejects the note (SignatureError); lines by
    unknown keys are ignored."""
    log_v = log_key if isinstance(log_key, NoteVerifier) else NoteVerifier(log_key)
    wits = [w if isinstance(w, NoteVerifier) else NoteVerifier(w) for w in witnesses]
    for w in wits:
        if w.alg != ALG_COSIGNATURE_V1:
            raise SignatureError(f"witness key {w.vkey} is not a cosignature (type 0x04) key")
    opened = open_note(note, [log_v, *wits])
    by_id = {(w.name, w.key_id): w for w in wits}
    if not any((s.name, s.key_id) == (log_v.name, log_v.key_id) for s in opened.signatures):
        raise SignatureError(f"the checkpoint is not signed by the log key {log_v.name}+"
                             f"{log_v.key_id:08x}: it is not this log's checkpoint")
    cp = Checkpoint.parse(opened.text)
    if cp.origin != log_v.name:
        raise SignatureError(f"checkpoint origin {cp.origin!r} is not the log key's name "
                             f"{log_v.name!r}")
    lines = _lines(note)
    cosigs = tuple(Cosignature(by_id[(s.name, s.key_id)].vkey, int(s.timestamp or 0),
                               lines.get((s.name, s.key_id), ""))
                   for s in opened.signatures if (s.name, s.key_id) in by_id)
    for c in cosigs:
        if c.timestamp <= 0:
            raise SignatureError(f"cosignature by {c.witness.split('+')[0]} has no timestamp")
    return CosignedCheckpoint(cp, log_v.vkey, cosigs)


def verify_cosigned_checkpoint(note_bytes: bytes, log_key: str | None,
                               policy: Policy) -> CosignedCheckpoint:
    """Verify a cosigned checkpoint against ``policy`` (c2sp.org/tlog-policy): signed by
    ``log_key`` (or, when None, by one of the policy's logs), and cosigned by witnesses that
    satisfy the policy's quorum. SignatureError names what is missing."""
    keys = [log_key] if log_key else [v.vkey for v in policy.logs]
    if not keys:
        raise SignatureError("no log key: pass the log's key or list it in the policy "
                             "(`log VKEY`)")
    last: Exception | None = None
    for key in keys:
        try:
            cosigned = open_cosigned(note_bytes, key, [w.verifier for w in policy.witnesses])
            break
        except SignatureError as exc:
            last = exc
    else:
        assert last is not None
        raise last
    signed = {c.witness for c in cosigned.cosignatures}
    ok, why = policy.satisfied({w.name for w in policy.witnesses if w.verifier.vkey in signed})
    if not ok:
        raise SignatureError(f"checkpoint of {cosigned.checkpoint.origin} size "
                             f"{cosigned.checkpoint.size} lacks the policy's witness quorum: "
                             f"{why}")
    return CosignedCheckpoint(cosigned.checkpoint, cosigned.log_key, cosigned.cosignatures,
                              policy.quorum)


def check_log_times(entries: Iterable[tuple[int, float]],
                    cosigned: Sequence[CosignedCheckpoint],
                    slack_s: float = DEFAULT_SLACK_S) -> int:
    """Check each (index, log time in POSIX seconds) against the witnessed checkpoints around it
    (module doc); returns how many entries had at least one bound. LogIntegrityError names the
    first entry whose log time lies outside [T_before - slack, T_after + slack]."""
    points = sorted((c.checkpoint.size, min(c.timestamps), max(c.timestamps))
                    for c in cosigned if c.cosignatures)
    sizes = [p[0] for p in points]
    # prefix max of the latest timestamps over sizes <= i; suffix min of earliest over sizes > i
    prefix: list[int] = []
    for _, _, hi in points:
        prefix.append(max(hi, prefix[-1]) if prefix else hi)
    suffix: list[int] = [0] * len(points)
    for k in range(len(points) - 1, -1, -1):
        lo = points[k][1]
        suffix[k] = min(lo, suffix[k + 1]) if k + 1 < len(points) else lo
    bounded = 0
    for index, t in entries:
        k = bisect.bisect_right(sizes, index)  # points[:k] have size <= index
        before = prefix[k - 1] if k else None
        after = suffix[k] if k < len(points) else None
        if before is not None and t < before - slack_s:
            raise LogIntegrityError(
                f"log index {index}: its log time is {before - t:.0f} s before a witness "
                f"cosigned a tree without it (at {before}); the log backdated it", index)
        if after is not None and t > after + slack_s:
            raise LogIntegrityError(
                f"log index {index}: its log time is {t - after:.0f} s after a witness "
                f"cosigned a tree holding it (at {after}); the log postdated it", index)
        bounded += before is not None or after is not None
    return bounded
