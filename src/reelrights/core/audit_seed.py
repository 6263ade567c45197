"""The seed of an audit challenge: fixed by the log, after the challenge is logged.

``seed = SHA-256(leaf_hash || signature)``, where ``leaf_hash`` is the challenge entry's RFC 9162
leaf hash as the log stores it, and ``signature`` is the 64 raw bytes of the log's Ed25519
signature (after the 4-byte key id of its note signature line) on the FIRST checkpoint whose
size exceeds the challenge's index. Every batch ends in a signed checkpoint, so that checkpoint
exists as soon as the challenge is logged; nobody can sign it in advance (Ed25519 signatures are
unpredictable without the log key), the auditor cannot pick a later one, and the developer
committed before the challenge existed. The indices are then :func:`sample_indices` of the seed
(:mod:`reelrights.core.sampling`). Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib

from ..errors import SignatureError
from .checkpoint import Checkpoint
from .note import NoteVerifier, open_note
from .sampling import sample_indices

__all__ = ["challenge_seed_v2", "log_signature", "seeded_indices"]


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


def seeded_indices(seed: bytes, count: int, k: int) -> list[int]:
    """The challenge's indices, sorted ascending (every index when ``k >= count``)."""
    return sorted(sample_indices(seed, count, k))
