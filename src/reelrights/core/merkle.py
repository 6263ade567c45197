"""RFC 9162 (= RFC 6962) Merkle tree hashing, proof generation and proof verification.

Pure functions, no I/O. Hashes are raw 32-byte SHA-256 digests.

* ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``.
* ``MTH({}) = SHA-256("")``; for ``n > 1`` the tree splits at ``k``, the largest power of two
  **strictly less** than ``n``: ``MTH(D[n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))``. There is no
  padding and no duplication of the last node. Equivalently, build the tree bottom-up pairing nodes
  left to right and promote an unpaired last node unchanged to the next level.
* Storage only ever holds *perfect* subtrees (level ``l``, index ``i`` covers leaves
  ``[i*2**l, (i+1)*2**l)``). Right-edge nodes over a ragged range are "ephemeral" and are recomputed
  from the perfect subtrees that cover them (:func:`range_hash`).

Proofs are generated from a :class:`HashReader` with one read per proof hash (plus the perfect
pieces of at most one ephemeral node), and verified exactly as RFC 9162 §2.1.3.2 / §2.1.4.2 say,
with the extra edge-case checks of Go's ``transparency-dev/merkle`` (32-byte leaf hash, size 0,
equal sizes, old > new).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from reelrights.errors import BadInput, ProofError

from ._accel import native

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "HashReader",
    "MemoryTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
    "range_hash",
    "root_from_inclusion_proof",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT: bytes = _sha256(b"").digest()


def _leaf_hash_py(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1 leaf hash: ``SHA-256(0x00 || entry)``."""
    return _sha256(b"\x00" + entry).digest()


#: RFC 9162 §2.1.1 leaf hash: ``SHA-256(0x00 || entry)``; in C where ``core._native`` is built
#: (no concatenated copy of the entry), else :func:`_leaf_hash_py`.
leaf_hash: Callable[[bytes], bytes] = (native.leaf_hash if native is not None
                                       else _leaf_hash_py)


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1 interior node hash: ``SHA-256(0x01 || left || right)`` (no length checks)."""
    return _sha256(b"\x01" + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, computed level by level (no recursion).

    Pairing left to right and promoting the odd last node gives exactly the RFC split at the
    largest power of two below ``n``.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    sha = _sha256
    while len(level) > 1:
        odd = level[-1] if len(level) & 1 else None
        level = [sha(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=False)]
        if odd is not None:
            level.append(odd)
    return level[0]


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """Hash perfect-subtree roots given largest first into the root of their union."""
    sha = _sha256
    r = hashes[-1]
    for h in reversed(hashes[:-1]):
        r = sha(b"\x01" + h + r).digest()
    return r


class CompactRange:
    """The right edge of the tree ``[0, size)``: roots of its perfect subtrees, largest first.

    There is one hash per set bit of ``size`` (``popcount(size)`` hashes, at most 64), which is
    all an appender needs to keep in memory to compute the next root.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Rebuild a range from a stored ``size`` and its ``popcount(size)`` subtree roots."""
        if size < 0:
            raise BadInput(f"compact range size {size} is negative: pass a tree size >= 0")
        if len(hashes) != size.bit_count():
            raise BadInput(
                f"compact range of size {size} needs {size.bit_count()} hashes, got {len(hashes)}: "
                "pass the roots of perfect_subtrees(0, size)"
            )
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise BadInput(f"compact range hash has {len(h)} bytes, want {HASH_SIZE}")
        cr = cls()
        cr._size = size
        cr._hashes = [bytes(h) for h in hashes]
        return cr

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """Perfect-subtree roots, largest (leftmost) first. A copy."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash, merging equal-height subtrees (one merge per trailing 1 bit)."""
        hashes = self._hashes
        s = self._size
        h = leaf_hash
        while s & 1:
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            s >>= 1
        hashes.append(h)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes (same result as repeated :meth:`append`, less overhead)."""
        hashes = self._hashes
        pop, push, sha = hashes.pop, hashes.append, _sha256
        size = self._size
        for h in leaf_hashes:
            s = size
            while s & 1:
                h = sha(b"\x01" + pop() + h).digest()
                s >>= 1
            push(h)
            size += 1
        self._size = size

    def root(self) -> bytes:
        """MTH of the leaves covered (``EMPTY_ROOT`` for size 0)."""
        if not self._hashes:
            return EMPTY_ROOT
        return _fold_right(self._hashes)

    def copy(self) -> CompactRange:
        """An independent copy."""
        cr = CompactRange()
        cr._size = self._size
        cr._hashes = list(self._hashes)
        return cr

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose ``[start, end)`` into aligned perfect subtrees ``(level, index)``, left to right.

    Each piece is the largest aligned subtree that starts at the current position and fits.
    """
    if not 0 <= start <= end:
        raise BadInput(f"range [{start}, {end}) is not valid: need 0 <= start <= end")
    out: list[tuple[int, int]] = []
    while start < end:
        # Largest level allowed by alignment of start (any level if start == 0) and by what fits.
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        out.append((level, start >> level))
        start += 1 << level
    return out


class HashReader(Protocol):
    """Anything that can return the hash of a perfect subtree."""

    def subtree_hash(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree covering leaves ``[index*2**level, (index+1)*2**level)``."""
        ...


def range_hash(start: int, end: int, reader: HashReader) -> bytes:
    """MTH of ``D[start:end]`` from perfect-subtree hashes.

    When the perfect pieces of the range shrink left to right (always true for ``start == 0`` and
    for every range a proof needs) their roots are folded right to left. Otherwise the range is
    split at the largest power of two below its length, as in the MTH definition.
    """
    if start == end:
        return EMPTY_ROOT
    pieces = perfect_subtrees(start, end)
    if all(pieces[i][0] > pieces[i + 1][0] for i in range(len(pieces) - 1)):
        return _fold_right([reader.subtree_hash(lv, ix) for lv, ix in pieces])
    k = 1 << ((end - start - 1).bit_length() - 1)
    return node_hash(range_hash(start, start + k, reader), range_hash(start + k, end, reader))


def _path(level: int, index: int, size: int, reader: HashReader) -> list[bytes]:
    """Siblings of node (level, index) on its way to the root of the tree of ``size`` leaves.

    Bottom-up: a left sibling is always a full perfect subtree; a right sibling may be clipped by
    ``size`` (an ephemeral node, hashed with :func:`range_hash`) or absent, in which case the node
    is promoted unchanged to the next level and contributes nothing.
    """
    out: list[bytes] = []
    j = index
    for lv in range(level, (size - 1).bit_length()):
        if j & 1:
            out.append(reader.subtree_hash(lv, j - 1))
        else:
            start = (j + 1) << lv
            if start < size:
                end = start + (1 << lv)
                if end <= size:
                    out.append(reader.subtree_hash(lv, j + 1))
                else:
                    out.append(range_hash(start, size, reader))
        j >>= 1
    return out


def inclusion_proof(index: int, size: int, reader: HashReader) -> list[bytes]:
    """RFC 9162 §2.1.3.1 ``PATH(index, D[size])``: the audit path, leaf sibling first."""
    if not 0 <= index < size:
        raise BadInput(f"leaf index {index} is not in a tree of size {size}: need 0 <= index < size")
    return _path(0, index, size, reader)


def consistency_proof(old_size: int, new_size: int, reader: HashReader) -> list[bytes]:
    """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[new_size])``.

    Equals ``[hash of the largest perfect subtree ending at old_size]`` (omitted when old_size is a
    power of two: the verifier knows it as the old root) followed by that node's path in the new
    tree. ``[]`` when the sizes are equal.
    """
    if not 0 < old_size <= new_size:
        raise BadInput(f"no consistency proof from size {old_size} to {new_size}: need 0 < old_size <= new_size")
    if old_size == new_size:
        return []
    level = (old_size & -old_size).bit_length() - 1
    index = (old_size - 1) >> level
    seed = [] if index == 0 else [reader.subtree_hash(level, index)]
    return seed + _path(level, index, new_size, reader)


_REFETCH = "; fetch the proof again for exactly these sizes"
_FORK = ": the trees are not consistent, keep both checkpoints as evidence"


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} has {len(value)} bytes, want {HASH_SIZE}: pass a raw SHA-256 hash")


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Run RFC 9162 §2.1.3.2 steps 1-4 and return the root the proof implies.

    Raises :class:`ProofError` when the proof cannot belong to (index, size) at all.
    """
    # Step 1: leaf_index must be below tree_size.
    if not 0 <= index < size:
        raise ProofError(f"inclusion proof for leaf {index} in a tree of size {size}: index out of range{_REFETCH}")
    # (Go transparency-dev/merkle) the leaf hash and every proof hash must be 32 bytes.
    _check_hash(leaf_hash, "leaf hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"inclusion proof hash {i}")
    # (Go) the proof length is fixed by (index, size): inner + border.
    inner = (index ^ (size - 1)).bit_length()
    want = inner + (index >> inner).bit_count()
    if len(proof) != want:
        raise ProofError(
            f"inclusion proof for leaf {index} in a tree of size {size} has {len(proof)} hashes, want {want}{_REFETCH}"
        )
    sha = _sha256
    # Step 2: fn = leaf_index, sn = tree_size - 1.
    fn, sn = index, size - 1
    # Step 3: r = hash.
    r = leaf_hash
    # Step 4: for each p in inclusion_path:
    for p in proof:
        # 4a: if sn is 0, stop and fail.
        if sn == 0:
            raise ProofError(f"inclusion proof for leaf {index} in a tree of size {size} is too long{_REFETCH}")
        # 4b: if LSB(fn) is set or fn == sn: r = HASH(0x01 || p || r) ...
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r).digest()
            # 4b.ii: ... and if LSB(fn) is not set, shift fn, sn right until LSB(fn) is set or fn is 0.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            # 4b otherwise: r = HASH(0x01 || r || p).
            r = sha(b"\x01" + r + p).digest()
        # 4c: shift fn and sn right once.
        fn >>= 1
        sn >>= 1
    # Step 5 (first half): sn must be 0.
    if sn != 0:
        raise ProofError(f"inclusion proof for leaf {index} in a tree of size {size} is too short{_REFETCH}")
    return r


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2: check that ``leaf_hash`` is leaf ``index`` of the tree ``(size, root)``.

    Raises :class:`ProofError` on any failure; returns None on success.
    """
    r = root_from_inclusion_proof(leaf_hash, index, size, proof)
    # Step 5 (second half): r must equal root_hash.
    if r != root:
        raise ProofError(
            f"inclusion proof for leaf {index} in a tree of size {size} gives root {r.hex()}, "
            f"not {bytes(root).hex()}: the leaf is not in that tree, do not rely on it"
        )


def verify_consistency(old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> None:
    """RFC 9162 §2.1.4.2: check that tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    Edge cases follow Go ``proof.VerifyConsistency``: old > new fails; old == 0 fails (a proof
    from the empty tree is meaningless, handle it in the protocol layer); equal sizes pass iff the
    proof is empty and the roots are byte-equal. Raises :class:`ProofError` on any failure.
    """
    what = f"consistency proof from size {old_size} to {new_size}"
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"{what}: the old size is larger than the new size; swap the checkpoints")
    if old_size == 0:
        raise ProofError(f"{what}: a proof from the empty tree is meaningless; accept size 0 in the caller")
    if old_size == new_size:
        if proof:
            raise ProofError(f"{what}: sizes are equal but the proof is not empty{_REFETCH}")
        if old_root != new_root:
            raise ProofError(f"{what}: sizes are equal but the roots differ{_FORK}")
        return
    # Step 1: an empty consistency_path fails.
    if not proof:
        raise ProofError(f"{what}: the proof is empty{_REFETCH}")
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    for i, c in enumerate(proof):
        _check_hash(c, f"consistency proof hash {i}")
    # (Go) the proof length is fixed by the sizes.
    shift = (old_size & -old_size).bit_length() - 1
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    is_pow2 = old_size == 1 << shift
    want = (0 if is_pow2 else 1) + inner - shift + border
    if len(proof) != want:
        raise ProofError(f"{what} has {len(proof)} hashes, want {want}{_REFETCH}")
    # Step 2: if first is an exact power of 2, prepend first_hash.
    path = [old_root, *proof] if is_pow2 else list(proof)
    sha = _sha256
    # Step 3: fn = first - 1, sn = second - 1.
    fn, sn = old_size - 1, new_size - 1
    # Step 4: if LSB(fn) is set, shift fn and sn right until it is not.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5: fr = sr = the first value of the path.
    fr = sr = path[0]
    # Step 6: for each subsequent value c:
    for c in path[1:]:
        # 6a: if sn is 0, stop and fail.
        if sn == 0:
            raise ProofError(f"{what} is too long{_REFETCH}")
        # 6b: if LSB(fn) is set or fn == sn: fr = HASH(0x01||c||fr), sr = HASH(0x01||c||sr) ...
        if fn & 1 or fn == sn:
            fr = sha(b"\x01" + c + fr).digest()
            sr = sha(b"\x01" + c + sr).digest()
            # 6b.iii: ... and if LSB(fn) is not set, shift until LSB(fn) is set or fn is 0.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            # 6b otherwise: sr = HASH(0x01 || sr || c).
            sr = sha(b"\x01" + sr + c).digest()
        # 6c: shift fn and sn right once.
        fn >>= 1
        sn >>= 1
    # Step 7: fr == first_hash, sr == second_hash, sn == 0.
    if sn != 0:
        raise ProofError(f"{what} is too short{_REFETCH}")
    if fr != old_root:
        raise ProofError(f"{what} does not lead to the old root {old_root.hex()}{_FORK}")
    if sr != new_root:
        raise ProofError(f"{what} does not lead to the new root {new_root.hex()}{_FORK}")


class MemoryTree(HashReader):
    """An in-memory tree over leaf hashes that keeps every level of perfect subtrees.

    ``levels[l][i]`` is the hash of perfect subtree (l, i). For tests and small trees.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @classmethod
    def from_entries(cls, entries: Iterable[bytes]) -> MemoryTree:
        """Build a tree from raw entries (hashing each with :func:`leaf_hash`)."""
        return cls(leaf_hash(e) for e in entries)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash and every perfect subtree it completes."""
        levels = self._levels
        levels[0].append(leaf_hash)
        lv = 0
        while len(levels[lv]) % 2 == 0:
            if len(levels) == lv + 1:
                levels.append([])
            row = levels[lv]
            levels[lv + 1].append(_sha256(b"\x01" + row[-2] + row[-1]).digest())
            lv += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes."""
        for h in leaf_hashes:
            self.append(h)

    def subtree_hash(self, level: int, index: int) -> bytes:
        """Hash of perfect subtree (level, index); BadInput if it is not complete yet."""
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise BadInput(f"subtree (level {level}, index {index}) is not in a tree of size {self.size}")

    def root(self, size: int | None = None) -> bytes:
        """Root of the first ``size`` leaves (default: all)."""
        n = self.size if size is None else size
        if not 0 <= n <= self.size:
            raise BadInput(f"tree size {n} is beyond this tree's {self.size} leaves")
        return range_hash(0, n, self)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) (default size: all leaves)."""
        return inclusion_proof(index, self.size if size is None else size, self)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[new_size]) (default new size: all leaves)."""
        return consistency_proof(old_size, self.size if new_size is None else new_size, self)
