"""Two signed checkpoints of one log: is the older tree a prefix of the newer? No I/O.

A log that shows two parties two histories (a split view) signs two checkpoints that no
consistency proof joins: same size and different roots, or a proof that does not verify. Keep
both notes: together they are the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.merkle import verify_consistency
from ..errors import ProofError, ReelrightsError
from .trust import TrustedCheckpoint

__all__ = ["check_consistent"]


def check_consistent(old: TrustedCheckpoint, new: TrustedCheckpoint,
                     proof: Sequence[bytes]) -> None:
    """ProofError (naming both sizes) unless ``new`` extends ``old``; order them by size first."""
    a, b = old.checkpoint, new.checkpoint
    if a.origin != b.origin:
        raise ProofError(f"checkpoints of two logs ({a.origin!r}, {b.origin!r})")
    if a.size > b.size:
        raise ProofError(f"checkpoint size {b.size} is older than {a.size}: pass the older first")
    if a.size == b.size:
        if a.root != b.root:
            raise ProofError(f"split view: two checkpoints of size {a.size} with different roots "
                             f"({a.root.hex()[:16]}…, {b.root.hex()[:16]}…)")
        return
    if a.size == 0:
        return
    try:
        verify_consistency(a.size, b.size, list(proof), a.root, b.root)
    except ReelrightsError as exc:
        raise ProofError(f"split view: checkpoint size {a.size} is not a prefix of checkpoint "
                         f"size {b.size} ({exc.message})") from None
