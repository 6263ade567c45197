"""PDQ indexes: the MIH index is exact (recall 1.0 against brute force), persistent and crash-safe."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from reelrights.errors import BadInput
from reelrights.media.index import ApproxPDQIndex, FlatPDQIndex, PDQIndex, PDQMatches
from reelrights.media.index.common import brute_force, words
from reelrights.media.index.pdq import slot_layout, slot_radii

MAX_PLANT = 40


def flip(code: np.ndarray, n_bits: int, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(code)
    bits[rng.choice(256, n_bits, replace=False)] ^= 1
    return np.packbits(bits)


def oracle(codes: np.ndarray, ids: np.ndarray, queries: np.ndarray, radius: int) -> set:
    """Brute force: numpy bitwise_count over every stored code."""
    x = np.bitwise_xor(words(queries)[:, None, :], words(codes)[None, :, :])
    d = np.bitwise_count(x).sum(axis=2)
    qi, ri = np.nonzero(d <= radius)
    return set(zip(qi.tolist(), ids[ri].tolist(), d[qi, ri].tolist()))


def dataset(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes, ids, and queries with planted neighbours at every distance 0..40 (+ random ones)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    else:  # clustered: like 1 fps frames of a scene, each code 0..16 bits from its centre
        centres = rng.integers(0, 256, (max(1, n // 50), 32), dtype=np.uint8)
        codes = np.stack([flip(centres[i % len(centres)], int(rng.integers(0, 17)), rng)
                          for i in range(n)])
    ids = rng.permutation(n).astype(np.int64) * 3 + 1000
    planted = [flip(codes[rng.integers(0, n)], d, rng) for d in range(MAX_PLANT + 1) for _ in range(2)]
    queries = np.concatenate([np.stack(planted), rng.integers(0, 256, (10, 32), dtype=np.uint8)])
    return codes, ids, queries


def test_pigeonhole_radii_sum_to_radius_plus_one() -> None:
    for n in (10, 1000, 10**6, 10**7, 10**8):
        widths = slot_layout(n)
        assert sum(widths) == 256 and max(widths) <= 24
        for r in range(0, 64):
            assert sum(x + 1 for x in slot_radii(widths, r)) == r + 1
    assert slot_layout(10**7) == [24, 24, 24] + [23] * 8  # the 11 x 23/24 design at 10M


@pytest.mark.parametrize("kind", ["random", "clustered"])
def test_recall_is_one_for_every_radius(tmp_path: Path, kind: str) -> None:
    codes, ids, queries = dataset(kind, 6000, seed=3)
    index = PDQIndex.open(tmp_path / "ix")
    index.add(codes, ids)
    index.compact()
    assert index._segments[0].entry["kind"] == "mih"
    flat = FlatPDQIndex.open(tmp_path / "flat")
    flat.add(codes, ids)
    for radius in range(0, 32):
        want = oracle(codes, ids, queries, radius)
        got = index.search(queries, radius, threads=2)
        assert got.pairs() == want, radius
        assert len(got) == len(want)
        assert flat.search(queries, radius).pairs() == want
    # planted neighbours at 32..40 bits are still found exactly when asked for
    assert index.search(queries, 40).pairs() == oracle(codes, ids, queries, 40)


def test_matches_are_sorted_and_typed(tmp_path: Path) -> None:
    codes, ids, queries = dataset("random", 3000, seed=4)
    index = PDQIndex.open(tmp_path)
    index.add(codes, ids)
    index.compact()
    m = index.search(queries, 31)
    assert isinstance(m, PDQMatches) and len(m) > 0
    assert m.query.dtype == np.int64 and m.id.dtype == np.int64 and m.distance.dtype == np.int32
    order = np.lexsort((m.id, m.distance, m.query))
    assert np.array_equal(order, np.arange(len(m)))
    # every planted neighbour within 31 (query 2d and 2d+1 were planted at d bits) is found
    hits = set(m.query.tolist())
    assert all(q in hits for q in range(2 * 32))


def test_delta_and_main_segments_reopen_and_compact(tmp_path: Path) -> None:
    codes, ids, queries = dataset("clustered", 5000, seed=5)
    want = oracle(codes, ids, queries, 31)
    index = PDQIndex.open(tmp_path, delta_limit=1500)
    for lo in range(0, 5000, 700):  # flushes cross the delta limit: MIH segments + flat deltas
        index.add(codes[lo:lo + 700], ids[lo:lo + 700])
        index.flush()
    kinds = [e["kind"] for e in index._manifest["segments"]]
    assert "mih" in kinds and "flat" in kinds
    assert index.search(queries, 31).pairs() == want
    index.add(codes[:10], ids[:10] + 10**9)  # pending rows are searched too
    extra = oracle(codes[:10], ids[:10] + 10**9, queries, 31)
    assert index.search(queries, 31).pairs() == want | extra
    index.flush()
    again = PDQIndex.open(tmp_path)
    assert len(again) == 5010
    assert again.search(queries, 31).pairs() == want | extra
    again.compact()
    assert [e["kind"] for e in again._manifest["segments"]] == ["mih"]
    assert PDQIndex.open(tmp_path).search(queries, 31).pairs() == want | extra
    files = {p.name for p in tmp_path.iterdir()}
    assert files == {"MANIFEST.json", "LOCK"} | set(again._manifest["segments"][0]["files"])


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 400), radius=st.integers(0, 31), seed=st.integers(0, 2**32 - 1),
       slot_bits=st.sampled_from([None, 8, 12, 16]))
def test_property_small_indexes_equal_brute_force(tmp_path_factory: pytest.TempPathFactory, n: int,
                                                   radius: int, seed: int, slot_bits: int | None) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    ids = rng.integers(-(2**40), 2**40, n).astype(np.int64)
    queries = np.stack([flip(codes[rng.integers(0, n)], int(d), rng) for d in rng.integers(0, 41, 12)])
    index = PDQIndex.open(tmp_path_factory.mktemp("p"), slot_bits=slot_bits)
    half = n // 2
    index.add(codes[:half], ids[:half])
    index.compact()  # main MIH segment
    index.add(codes[half:], ids[half:])  # pending delta
    assert index.search(queries, radius, threads=1).pairs() == oracle(codes, ids, queries, radius)


def test_flat_index_equals_brute_force_and_approx_is_flagged(tmp_path: Path) -> None:
    codes, ids, queries = dataset("random", 4000, seed=6)
    flat = FlatPDQIndex.open(tmp_path / "flat")
    flat.add(codes, ids)
    flat.flush()
    again = FlatPDQIndex.open(tmp_path / "flat")
    for r in (0, 7, 31, 40):
        assert again.search(queries, r, threads=2).pairs() == oracle(codes, ids, queries, r)
    assert FlatPDQIndex.exact and PDQIndex.exact and ApproxPDQIndex.exact is False
    approx = ApproxPDQIndex.open(tmp_path / "ivf", nprobe=8)
    approx.add(codes, ids)
    approx.compact()
    assert approx._manifest["segments"][0]["kind"] == "ivf"
    got = ApproxPDQIndex.open(tmp_path / "ivf", nprobe=8).search(queries, 31).pairs()
    want = oracle(codes, ids, queries, 31)
    assert got <= want and len(got) > 0  # never wrong, but may miss


def test_half_written_temp_segment_is_ignored(tmp_path: Path) -> None:
    codes, ids, queries = dataset("random", 2000, seed=7)
    index = PDQIndex.open(tmp_path)
    index.add(codes[:1000], ids[:1000])
    index.flush()
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    # a writer that died mid-flush: a partial temp file, a complete but unpublished segment
    (tmp_path / "seg-00000099.codes.npy.tmp-4242").write_bytes(b"\x93NUMPY garbage")
    np.save(tmp_path / "seg-00000098.codes.npy", codes[1000:])
    (tmp_path / "MANIFEST.json.tmp-4242").write_text('{"format": "trunc')
    reopened = PDQIndex.open(tmp_path)
    assert len(reopened) == 1000
    assert reopened.search(queries, 31).pairs() == oracle(codes[:1000], ids[:1000], queries, 31)
    assert json.loads((tmp_path / "MANIFEST.json").read_text()) == manifest
    reopened.add(codes[1000:], ids[1000:])
    reopened.compact()  # the next writer cleans the debris up
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name or p.name.startswith("seg-00000098")]
    assert reopened.search(queries, 31).pairs() == oracle(codes, ids, queries, 31)


def _child_add(directory: str, seed: int) -> None:
    codes, ids, _ = dataset("random", 300, seed=seed)
    index = PDQIndex.open(Path(directory))
    index.add(codes, ids + seed * 10**6)
    index.flush()


def test_second_process_sees_flushed_rows_and_concurrent_writers_both_land(tmp_path: Path) -> None:
    index = PDQIndex.open(tmp_path)
    codes, ids, queries = dataset("random", 300, seed=8)
    index.add(codes, ids)
    index.flush()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_child_add, args=(str(tmp_path), s)) for s in (11, 12)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    reopened = PDQIndex.open(tmp_path)
    assert len(reopened) == 900
    c11, i11, _ = dataset("random", 300, seed=11)
    assert reopened.search(c11[:5], 0).pairs() >= {(k, int(i11[k]) + 11 * 10**6, 0) for k in range(5)}


def test_bad_input_is_one_clear_error(tmp_path: Path) -> None:
    index = PDQIndex.open(tmp_path)
    with pytest.raises(BadInput, match=r"\(n, 32\) uint8"):
        index.add(np.zeros((3, 31), np.uint8), np.arange(3))
    with pytest.raises(BadInput, match="one id per hash"):
        index.add(np.zeros((3, 32), np.uint8), np.arange(2))
    with pytest.raises(BadInput, match="radius"):
        index.search(np.zeros((1, 32), np.uint8), radius=-1)
    assert len(index) == 0 and not list(tmp_path.glob("seg-*"))
    (tmp_path / "f").write_text("x")
    with pytest.raises(BadInput, match="is a file"):
        PDQIndex.open(tmp_path / "f")
    index.add(np.zeros((1, 32), np.uint8), np.arange(1))
    index.flush()
    with pytest.raises(BadInput, match="pdq-mih"):
        FlatPDQIndex.open(tmp_path)
    assert brute_force(np.zeros((0, 4), np.uint64), np.zeros((1, 4), np.uint64), 3)[0].size == 0


def test_forked_workers_return_the_same_matches(tmp_path: Path) -> None:
    codes, ids, queries = dataset("clustered", 4000, seed=9)
    index = PDQIndex.open(tmp_path)
    index.add(codes[:3000], ids[:3000])
    index.compact()
    index.add(codes[3000:], ids[3000:])  # pending rows travel to the workers too
    index.PARALLEL_MIN = 1  # fork even for this small batch
    index.CHUNK = 16  # many tasks per worker
    want = oracle(codes, ids, queries, 31)
    got = index.search(queries, 31, threads=2)
    assert got.pairs() == want and len(got) == len(want)
    assert np.array_equal(got.query, np.sort(got.query))


def test_many_small_flushes_are_consolidated(tmp_path: Path) -> None:
    codes, ids, queries = dataset("random", 2000, seed=10)
    index = PDQIndex.open(tmp_path)
    for lo in range(0, 2000, 50):  # 40 flushes, as ingesting one short clip at a time would
        index.add(codes[lo:lo + 50], ids[lo:lo + 50])
        index.flush()
    assert len(index._manifest["segments"]) <= PDQIndex.MAX_DELTAS
    assert PDQIndex.open(tmp_path).search(queries, 31).pairs() == oracle(codes, ids, queries, 31)
