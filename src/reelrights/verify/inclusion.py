"""RFC 9162 inclusion proofs for a verifier of many proofs against one checkpoint.

:func:`~reelrights.core.merkle.verify_inclusion` walks a proof from the leaf to the root: one
SHA-256 per level. Proofs into the same tree share their upper levels, so a verifier of many
proofs remembers each node it has computed on a path that reached the root, keyed by the node's
hash, with the state there (level, RFC 9162's ``fn`` and ``sn``) and the proof it was reached
with. A later proof that computes a remembered node, in the same state, with the same remaining
proof hashes, reaches the same root: the rest of the walk is the same computation on the same
inputs, so it is not repeated (a changed upper hash differs from the remembered one, and the walk
goes on and fails as it would have). It is memoisation of a pure function, nothing assumed about
the tree. No I/O.
"""

from __future__ import annotations

import hashlib

from ..core._accel import native
from ..core.merkle import verify_inclusion
from ..errors import ProofError

__all__ = ["NodeMemo"]

#: Nodes remembered per tree (then no more are added: the upper levels come first).
_MAX_NODES = 1 << 16
_HASH_LEN = frozenset({32})


class NodeMemo:
    """The nodes on verified paths of one tree (size, root): node hash -> (level, fn, sn, proof)."""

    __slots__ = ("nodes", "root", "size")

    def __init__(self, size: int, root: bytes) -> None:
        self.size = size
        self.root = root
        self.nodes: dict[bytes, tuple[int, int, int, tuple[bytes, ...]]] = {}

    def verify(self, leaf_hash: bytes, index: int, proof: tuple[bytes, ...]) -> None:
        """ProofError unless ``proof`` leads from ``leaf_hash`` at ``index`` to the root."""
        if native is not None and type(proof) is tuple:  # the same walk in C (core._accel)
            ok = native.walk_inclusion(self.nodes, leaf_hash, index, self.size, proof,
                                       self.root, _MAX_NODES)
            if ok is True:
                return
            if ok is False:
                self._fail(leaf_hash, index, proof)
            # None: numbers beyond 64 bits or hashes not exactly bytes: the walk below
        self._verify_python(leaf_hash, index, proof)

    def _verify_python(self, leaf_hash: bytes, index: int, proof: tuple[bytes, ...]) -> None:
        size = self.size
        inner = (index ^ (size - 1)).bit_length()
        if (not 0 <= index < size or len(leaf_hash) != 32
                or len(proof) != inner + (index >> inner).bit_count()
                or not {*map(len, proof)} <= _HASH_LEN):
            self._fail(leaf_hash, index, proof)
        nodes = self.nodes
        sha = hashlib.sha256
        fn, sn, r = index, size - 1, leaf_hash
        path: list[tuple[bytes, tuple[int, int, int, tuple[bytes, ...]]]] = []
        for k, p in enumerate(proof):
            hit = nodes.get(r)
            if (hit is not None and hit[0] == k and hit[1] == fn and hit[2] == sn
                    and hit[3][k:] == proof[k:]):
                break
            path.append((r, (k, fn, sn, proof)))
            if sn == 0:
                self._fail(leaf_hash, index, proof)
            if fn & 1 or fn == sn:
                r = sha(b"\x01" + p + r).digest()
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
            else:
                r = sha(b"\x01" + r + p).digest()
            fn >>= 1
            sn >>= 1
        else:
            if sn != 0 or r != self.root:
                self._fail(leaf_hash, index, proof)
        room = _MAX_NODES - len(nodes)
        if room > 0:
            nodes.update(path if room >= len(path) else path[:room])

    def _fail(self, leaf_hash: bytes, index: int, proof: tuple[bytes, ...]) -> None:
        """Raise the ProofError :func:`verify_inclusion` words for this proof."""
        verify_inclusion(leaf_hash, index, self.size, list(proof), self.root)
        raise ProofError(f"inclusion proof for leaf {index} does not verify")  # pragma: no cover
