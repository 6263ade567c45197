"""RFC 9162 tree hashing, proof generation and verification.

Known answers come from tests/assets/tlog_vectors.json, extracted from transparency-dev/merkle
@417fb0c314750d94e53942e9f92e79b6d35915db (testonly/constants.go, rfc6962/rfc6962_test.go,
testdata/inclusion/**.json, testdata/consistency/**.json, testonly/reference_test.go,
testonly/vectors_test.go) and golang/mod @fe2ec04f (sumdb/tlog/note_test.go).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from reelrights.core.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    range_hash,
    root_from_inclusion_proof,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from reelrights.errors import BadInput, ProofError

_V = json.loads((Path(__file__).parents[1] / "assets" / "tlog_vectors.json").read_text("utf-8"))
H = bytes.fromhex


def _ref_mth(leaves: list[bytes]) -> bytes:
    """Literal recursive RFC 9162 §2.1.1 MTH over raw entries (reference for cross-checks)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(_ref_mth(leaves[:k]), _ref_mth(leaves[k:]))


# --- tree8 and hasher -------------------------------------------------------------------------


def test_tree8_roots(tlog_vectors: dict[str, Any]) -> None:
    """transparency-dev/merkle testonly/constants.go: roots of the classic CT tree, sizes 0..8."""
    t = tlog_vectors["tree8"]
    leaves = [H(x) for x in t["leaves_hex"]]
    assert len(t["roots_by_size"]) == 9
    for n, want in enumerate(t["roots_by_size"]):
        assert root_of([leaf_hash(e) for e in leaves[:n]]).hex() == want
        assert MemoryTree.from_entries(leaves[:n]).root().hex() == want
        cr = CompactRange()
        cr.extend(leaf_hash(e) for e in leaves[:n])
        assert cr.root().hex() == want


def test_tree8_node_hashes(tlog_vectors: dict[str, Any]) -> None:
    """transparency-dev/merkle testonly/constants.go: every perfect node of the 8-leaf tree."""
    t = tlog_vectors["tree8"]
    mt = MemoryTree.from_entries(H(x) for x in t["leaves_hex"])
    count = 0
    for level, row in enumerate(t["node_hashes_by_level"]):
        for index, want in enumerate(row):
            assert mt.subtree_hash(level, index).hex() == want
            count += 1
    assert count == 15


@pytest.mark.parametrize("vec", _V["hasher"]["vectors"], ids=lambda v: v["desc"][:40])
def test_hasher(vec: dict[str, Any]) -> None:
    """transparency-dev/merkle rfc6962/rfc6962_test.go and golang/mod sumdb/tlog RecordHash."""
    if vec["op"] == "empty_root":
        got = EMPTY_ROOT
    elif vec["op"] == "leaf":
        got = leaf_hash(H(vec["input_hex"]))
    else:
        got = node_hash(H(vec["left_hex"]), H(vec["right_hex"]))
    assert got.hex() == vec["want"]


# --- probes: verdicts must match Go proof.VerifyInclusion / VerifyConsistency -----------------


@pytest.mark.parametrize("p", _V["inclusion_probes"]["probes"], ids=lambda p: p["file"][18:])
def test_inclusion_probe(p: dict[str, Any]) -> None:
    """transparency-dev/merkle testdata/inclusion/**.json (cmd/proofgen) with Go's verdicts."""
    args = (H(p["leaf_hash"]), p["leaf_index"], p["tree_size"], [H(x) for x in p["proof"]], H(p["root"]))
    if p["want_valid"]:
        verify_inclusion(*args)
    else:
        with pytest.raises(ProofError):
            verify_inclusion(*args)


@pytest.mark.parametrize("p", _V["consistency_probes"]["probes"], ids=lambda p: p["file"][20:])
def test_consistency_probe(p: dict[str, Any]) -> None:
    """transparency-dev/merkle testdata/consistency/**.json with Go's verdicts (size edge cases)."""
    args = (p["size1"], p["size2"], [H(x) for x in p["proof"]], H(p["root1"]), H(p["root2"]))
    if p["want_valid"]:
        verify_consistency(*args)
    else:
        with pytest.raises(ProofError):
            verify_consistency(*args)


def test_probe_counts(tlog_vectors: dict[str, Any]) -> None:
    """The vector file holds 98 + 98 probes, 6 valid of each kind."""
    inc = tlog_vectors["inclusion_probes"]["probes"]
    con = tlog_vectors["consistency_probes"]["probes"]
    assert (len(inc), len(con)) == (98, 98)
    assert sum(p["want_valid"] for p in inc) == 6
    assert sum(p["want_valid"] for p in con) == 6


# --- prover vectors: generated proofs byte-exact ----------------------------------------------


def test_prover_vectors(tlog_vectors: dict[str, Any]) -> None:
    """transparency-dev/merkle testonly/reference_test.go: PATH and PROOF over tree8, byte-exact."""
    pv = tlog_vectors["prover_vectors"]
    mt = MemoryTree.from_entries(H(x) for x in tlog_vectors["tree8"]["leaves_hex"])
    for v in pv["inclusion"]:
        assert [h.hex() for h in inclusion_proof(v["index"], v["size"], mt)] == v["proof"]
    for v in pv["consistency"]:
        assert [h.hex() for h in consistency_proof(v["size1"], v["size2"], mt)] == v["proof"]
    assert len(pv["inclusion"]) == 7 and len(pv["consistency"]) == 4


# --- MTC rolling-hash vectors (all proofs for trees up to 130 leaves) ---------------------------

_MTC_N = 130


def _valid_subtree(start: int, end: int) -> bool:
    size = end - start
    ceil = 1 if size <= 1 else 1 << (size - 1).bit_length()
    return start <= end and (start == 0 or start == end or start % ceil == 0)


class _Offset:
    """A reader for the subtree starting at ``start`` seen as a tree of its own."""

    def __init__(self, reader: MemoryTree, start: int) -> None:
        self.reader, self.start = reader, start

    def subtree_hash(self, level: int, index: int) -> bytes:
        return self.reader.subtree_hash(level, index + (self.start >> level))


@pytest.fixture(scope="module")
def mtc_tree() -> MemoryTree:
    return MemoryTree.from_entries(bytes([i]) for i in range(_MTC_N))


def test_mtc_subtree_hash_vector(tlog_vectors: dict[str, Any], mtc_tree: MemoryTree) -> None:
    """transparency-dev/merkle testonly/vectors_test.go TestSubtreeHashVectors (MTC draft appendix)."""
    h = hashlib.sha256()
    for end in range(_MTC_N + 1):
        for start in range(end + 1):
            if _valid_subtree(start, end):
                h.update(f"[{start}, {end}) {range_hash(start, end, mtc_tree).hex()}\n".encode())
    assert h.hexdigest() == tlog_vectors["mtc_subtree_rolling_vectors"]["want"]["TestSubtreeHashVectors"]


def test_mtc_inclusion_vector(tlog_vectors: dict[str, Any], mtc_tree: MemoryTree) -> None:
    """TestSubtreeInclusionProofVectors: every PATH for every valid subtree of D[0:130].

    For start = 0 these are all RFC 9162 inclusion proofs for sizes 1..130; each is also verified.
    """
    h = hashlib.sha256()
    for end in range(1, _MTC_N + 1):
        root = mtc_tree.root(end)
        for start in range(end):
            if not _valid_subtree(start, end):
                continue
            reader = _Offset(mtc_tree, start)
            for index in range(start, end):
                proof = inclusion_proof(index - start, end - start, reader)
                h.update((f"{index} [{start}, {end})" + "".join(" " + p.hex() for p in proof) + "\n").encode())
                if start == 0:
                    verify_inclusion(mtc_tree.subtree_hash(0, index), index, end, proof, root)
    assert h.hexdigest() == tlog_vectors["mtc_subtree_rolling_vectors"]["want"]["TestSubtreeInclusionProofVectors"]


def _ref_subtree_consistency(
    tree: MemoryTree, size: int, start: int, end: int, have_root: bool, off: int = 0
) -> list[bytes]:
    """refSubtreeConsistencyProof from transparency-dev/merkle testonly/reference_test.go."""
    if start >= end or end == 0 or end > size:
        return []
    if start == 0 and end == size:
        return [] if have_root else [range_hash(off, off + size, tree)]
    k = 1 << ((size - 1).bit_length() - 1)
    if end <= k:
        left = _ref_subtree_consistency(tree, k, start, end, have_root, off)
        return [*left, range_hash(off + k, off + size, tree)]
    if k <= start:
        rest = _ref_subtree_consistency(tree, size - k, start - k, end - k, have_root, off + k)
    else:
        rest = _ref_subtree_consistency(tree, size - k, 0, end - k, False, off + k)
    return [*rest, range_hash(off, off + k, tree)]


def test_mtc_consistency_vector(tlog_vectors: dict[str, Any], mtc_tree: MemoryTree) -> None:
    """TestSubtreeConsistencyProofVectors. start = 0 lines use our consistency_proof (RFC PROOF)
    and are verified; start > 0 (MTC-only subtree proofs) use the Go reference algorithm."""
    h = hashlib.sha256()
    checked = 0
    for n in range(_MTC_N + 1):
        for end in range(n + 1):
            for start in range(end + 1):
                if not _valid_subtree(start, end):
                    continue
                if start == 0 and end > 0:
                    proof = consistency_proof(end, n, mtc_tree)
                    verify_consistency(end, n, proof, mtc_tree.root(end), mtc_tree.root(n))
                    checked += 1
                else:
                    proof = _ref_subtree_consistency(mtc_tree, n, start, end, True)
                h.update((f"[{start}, {end}) {n}" + "".join(" " + p.hex() for p in proof) + "\n").encode())
    assert checked == _MTC_N * (_MTC_N + 1) // 2
    assert h.hexdigest() == tlog_vectors["mtc_subtree_rolling_vectors"]["want"]["TestSubtreeConsistencyProofVectors"]


# --- structure ---------------------------------------------------------------------------------


def test_root_of_matches_reference() -> None:
    for n in range(0, 70):
        entries = [b"e%d" % i for i in range(n)]
        assert root_of([leaf_hash(e) for e in entries]) == _ref_mth(entries)


def test_perfect_subtrees() -> None:
    assert perfect_subtrees(0, 0) == []
    assert perfect_subtrees(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert perfect_subtrees(3, 13) == [(0, 3), (2, 1), (2, 2), (0, 12)]
    for start in range(40):
        for end in range(start, 80):
            pos = start
            for level, index in perfect_subtrees(start, end):
                assert index << level == pos
                pos += 1 << level
            assert pos == end
    with pytest.raises(BadInput):
        perfect_subtrees(5, 4)


def test_range_hash_any_range() -> None:
    entries = [b"x%d" % i for i in range(40)]
    mt = MemoryTree.from_entries(entries)
    for start in range(41):
        for end in range(start, 41):
            assert range_hash(start, end, mt) == _ref_mth(entries[start:end])


def test_compact_range() -> None:
    cr = CompactRange()
    assert cr.size == 0 and cr.root() == EMPTY_ROOT and cr.hashes == []
    leaves = [leaf_hash(b"%d" % i) for i in range(100)]
    mt = MemoryTree()
    for i, h in enumerate(leaves):
        cr.append(h)
        mt.append(h)
        assert cr.size == i + 1
        assert len(cr.hashes) == (i + 1).bit_count()
        assert cr.hashes == [mt.subtree_hash(lv, ix) for lv, ix in perfect_subtrees(0, i + 1)]
        assert cr.root() == root_of(leaves[: i + 1])
    copy = cr.copy()
    copy.append(leaves[0])
    assert cr.size == 100 and copy.size == 101 and copy.root() != cr.root()
    again = CompactRange.from_hashes(cr.size, cr.hashes)
    assert again.root() == cr.root()
    with pytest.raises(BadInput):
        CompactRange.from_hashes(7, cr.hashes[:2])
    with pytest.raises(BadInput):
        CompactRange.from_hashes(1, [b"short"])


def test_generation_rejects_bad_arguments() -> None:
    mt = MemoryTree.from_entries([b"a", b"b"])
    with pytest.raises(BadInput):
        inclusion_proof(2, 2, mt)
    with pytest.raises(BadInput):
        consistency_proof(0, 2, mt)
    with pytest.raises(BadInput):
        consistency_proof(2, 1, mt)
    assert consistency_proof(2, 2, mt) == []
    with pytest.raises(BadInput):
        mt.subtree_hash(1, 1)


def test_leaf_hash_length_checked_like_go() -> None:
    """Go rejects a leaf hash that is not 32 bytes even when a literal RFC port would accept."""
    with pytest.raises(ProofError):
        verify_inclusion(b"", 0, 1, [], b"")
    with pytest.raises(ProofError):
        root_from_inclusion_proof(b"\x00" * 31, 0, 1, [])
    assert root_from_inclusion_proof(b"\x07" * 32, 0, 1, []) == b"\x07" * 32


def test_few_reader_calls() -> None:
    """A proof reads one hash per proof element, plus the pieces of at most one ephemeral node."""

    class Counting(MemoryTree):
        calls = 0

        def subtree_hash(self, level: int, index: int) -> bytes:
            Counting.calls += 1
            return super().subtree_hash(level, index)

    mt = Counting(leaf_hash(b"%d" % i) for i in range(1000))
    for index in (0, 1, 500, 998, 999):
        Counting.calls = 0
        proof = inclusion_proof(index, 1000, mt)
        assert Counting.calls <= len(proof) + (1000).bit_count()
    Counting.calls = 0
    proof = consistency_proof(1000, 1000, mt)
    assert Counting.calls == 0 and proof == []


# --- properties --------------------------------------------------------------------------------


def _path_shape(level: int, index: int, size: int) -> tuple[str, ...]:
    """Which side each sibling of node (level, index) sits on, levels without a sibling skipped.

    A verifier's computation depends only on this shape, so a proof made for (index, size) also
    verifies for any other (index', size') with the same shape (RFC 9162 binds the size through
    the signed tree head, not through the proof). Every other change must fail.
    """
    out = []
    j = index
    for lv in range(level, (size - 1).bit_length()):
        if j & 1:
            out.append("L")
        elif (j + 1) << lv < size:
            out.append("R")
        j >>= 1
    return tuple(out)


def _consistency_shape(old: int, new: int) -> tuple[bool, tuple[str, ...]]:
    level = (old & -old).bit_length() - 1
    return old == 1 << level, _path_shape(level, (old - 1) >> level, new)


def _passes(fn: Any, *args: Any) -> bool:
    try:
        fn(*args)
    except ProofError:
        return False
    return True


@st.composite
def _tree_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, 2000))
    return size, draw(st.integers(0, size - 1))


_TREE = MemoryTree(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(2100))


def test_shape_model_small_trees() -> None:
    """Exhaustive for sizes < 24: a proof verifies for other parameters iff the shape is equal."""
    n_max = 24
    for n in range(1, n_max):
        for i in range(n):
            proof, leaf, root = inclusion_proof(i, n, _TREE), _TREE.subtree_hash(0, i), _TREE.root(n)
            for n2 in range(1, n_max):
                for i2 in range(n2):
                    want = _path_shape(0, i2, n2) == _path_shape(0, i, n)
                    assert _passes(verify_inclusion, leaf, i2, n2, proof, root) == want
        for o in range(1, n + 1):
            proof, r1, r2 = consistency_proof(o, n, _TREE), _TREE.root(o), _TREE.root(n)
            for n2 in range(1, n_max):
                for o2 in range(1, n2 + 1):
                    if o == n:
                        want = o2 == n2
                    else:
                        want = o2 != n2 and _consistency_shape(o2, n2) == _consistency_shape(o, n)
                    assert _passes(verify_consistency, o2, n2, proof, r1, r2) == want


@settings(max_examples=examples(300), deadline=None)
@given(_tree_and_index(), st.data())
def test_inclusion_property(si: tuple[int, int], data: st.DataObject) -> None:
    """Generated proofs verify; any flipped bit fails; other (index, size) fail unless same shape."""
    size, index = si
    root = _TREE.root(size)
    leaf = _TREE.subtree_hash(0, index)
    proof = inclusion_proof(index, size, _TREE)
    verify_inclusion(leaf, index, size, proof, root)
    assert root_from_inclusion_proof(leaf, index, size, proof) == root
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        b = data.draw(st.integers(0, HASH_SIZE - 1))
        bad = list(proof)
        bad[i] = bad[i][:b] + bytes([bad[i][b] ^ 0x01]) + bad[i][b + 1 :]
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, bad, root)
    other = data.draw(st.integers(0, size).filter(lambda x: x != index))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, other, size, proof, root)
    other_size = data.draw(st.integers(1, 2100).filter(lambda x: x != size))
    same_shape = index < other_size and _path_shape(0, index, other_size) == _path_shape(0, index, size)
    assert _passes(verify_inclusion, leaf, index, other_size, proof, root) == same_shape


@st.composite
def _two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(1, 2000))
    return draw(st.integers(1, new)), new


@settings(max_examples=examples(300), deadline=None)
@given(_two_sizes(), st.data())
def test_consistency_property(sizes: tuple[int, int], data: st.DataObject) -> None:
    """Generated proofs verify; any flipped bit fails; other sizes fail unless same shape."""
    old, new = sizes
    r1, r2 = _TREE.root(old), _TREE.root(new)
    proof = consistency_proof(old, new, _TREE)
    verify_consistency(old, new, proof, r1, r2)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        b = data.draw(st.integers(0, HASH_SIZE - 1))
        bad = list(proof)
        bad[i] = bad[i][:b] + bytes([bad[i][b] ^ 0x80]) + bad[i][b + 1 :]
        with pytest.raises(ProofError):
            verify_consistency(old, new, bad, r1, r2)
    with pytest.raises(ProofError):
        verify_consistency(old, new, proof, r1, r2[::-1])
    if old != new:
        with pytest.raises(ProofError):
            verify_consistency(old, new, proof, r1[::-1], r2)
    old2 = data.draw(st.integers(1, new))
    new2 = data.draw(st.integers(old2, 2100))
    if (old2, new2) != (old, new):
        if old == new:
            want = old2 == new2
        else:
            want = old2 != new2 and _consistency_shape(old2, new2) == _consistency_shape(old, new)
        assert _passes(verify_consistency, old2, new2, proof, r1, r2) == want
