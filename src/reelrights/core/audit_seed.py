"""The seed of an audit challenge: fixed by the log, after the challenge is logged.

``seed = SHA-256(leaf_hash || signature)`` (rule v2), where ``leaf_hash`` is the challenge entry's RFC 9162
leaf hash as the log stores it, and ``signature`` is the 64 raw bytes of the log's Ed25519
signature (after the 4-byte key id of its note signature line) on the FIRST checkpoint whose
size exceeds the challenge's index. Every batch ends in a signed checkpoint, so that checkpoint
exists as soon as the challenge is logged; nobody can sign it in advance (Ed25519 signatures are
unpredictable without the log key), the auditor cannot pick a later one, and the developer
committed before the challenge existed. The indices are then :func:`sample_indices` of the seed
(:mod:`reelrights.core.sampling`). Pure functions, no I/O.

Once the log has witnesses, the seed also takes their cosignatures (rule v3), so that not even
the log operator can predict or grind it without the witnesses::

    seed = SHA-256(leaf_hash || signature || "cosignatures/v1\n" || raw_1 || ... || raw_k)

``raw_i`` = key id || timestamp || signature of a cosignature line, sorted bytewise: for each
trusted witness, its earliest cosignature on a checkpoint whose size exceeds the challenge's
index, made at most :data:`WITNESS_WINDOW_S` seconds after the challenge's log time (a
cosignature made later cannot join, so the set is fixed once the window has passed; a witness
that was down simply does not count). With no such cosignature, the v3 seed IS the v2 seed, so
every challenge logged before witnesses existed keeps its seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ..errors import SignatureError
from .checkpoint import Checkpoint
from .cosignature import Cosignature, CosignedCheckpoint
from .note import NoteVerifier, open_note
from .sampling import sample_indices

__all__ = ["WITNESS_WINDOW_S", "challenge_seed", "challenge_seed_v2", "log_signature",
           "seed_cosignatures", "seeded_indices"]

#: Seconds after a challenge's log time within which witness cosignatures join its seed.
WITNESS_WINDOW_S = 60


def log_signature(note: bytes, verifier: NoteVerifier, size: int) -> bytes:
    """The log's raw Ed25519 signature on checkpoint ``note``, which must be of ``size``
    (SignatureError if the log's key did not sign it, BadInput if it is malformed)."""
    opened = open_note(note, [verifier])
    cp = Checkpoint.parse(opened.text)
    if cp.size != size or cp.origin != verifier.name:
        raise SignatureError(f"the checkpoint stored for size {size} is {cp.origin} size "
                             f"{cp.size}; the log's checkpoints are damaged (`reelrights log "
                             "verify`)")
    sig = next(s for s in opened.signatures
               if (s.name, s.key_id) == (verifier.name, verifier.key_id))
    return sig.signature


def challenge_seed_v2(leaf_hash: bytes, signature: bytes) -> bytes:
    if len(leaf_hash) != 32 or len(signature) != 64:
        raise ValueError("a challenge seed needs a 32-byte leaf hash and a 64-byte signature")
    return hashlib.sha256(leaf_hash + signature).digest()


def seed_cosignatures(history: Iterable[CosignedCheckpoint], index: int, log_time: float,
                      window_s: float = WITNESS_WINDOW_S) -> list[Cosignature]:
    """The cosignatures that join the seed of the challenge at ``index`` logged at ``log_time``
    (POSIX seconds): each witness's earliest one on a checkpoint of size > ``index`` within
    the window, sorted by their raw bytes. ``history`` must hold verified cosignatures of
    trusted witnesses only (:func:`reelrights.core.cosignature.open_cosigned`)."""
    first: dict[str, Cosignature] = {}
    for cp in history:
        if cp.checkpoint.size <= index:
            continue
        for c in cp.cosignatures:
            if c.timestamp <= log_time + window_s and (
                    c.witness not in first or c.timestamp < first[c.witness].timestamp):
                first[c.witness] = c
    return sorted(first.values(), key=lambda c: c.raw)


def challenge_seed(leaf_hash: bytes, signature: bytes,
                   cosignatures: Sequence[Cosignature] = ()) -> bytes:
    """Rule v3 (module doc); without cosignatures exactly :func:`challenge_seed_v2`."""
    if not cosignatures:
        return challenge_seed_v2(leaf_hash, signature)
    if len(leaf_hash) != 32 or len(signature) != 64:
        raise ValueError("a challenge seed needs a 32-byte leaf hash and a 64-byte signature")
    raws = sorted(c.raw for c in cosignatures)
    return hashlib.sha256(leaf_hash + signature + b"cosignatures/v1\n"
                          + b"".join(raws)).digest()


def seeded_indices(seed: bytes, count: int, k: int) -> list[int]:
    """The challenge's indices, sorted ascending (every index when ``k >= count``)."""
    return sorted(sample_indices(seed, count, k))
