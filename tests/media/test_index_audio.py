"""AudioIndex: finds a noisy excerpt of a stored print at the right offset, rejects random prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelrights.errors import BadInput, Conflict
from reelrights.media.index import AudioIndex, AudioMatch


def noisy(items: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Flip each bit independently with probability ``rate``."""
    bits = rng.random((items.shape[0], 32)) < rate
    mask = (bits.astype(np.uint64) << np.arange(32, dtype=np.uint64)).sum(axis=1).astype(np.uint32)
    return items ^ mask


@pytest.fixture
def prints() -> dict[int, np.ndarray]:
    rng = np.random.default_rng(2)
    return {i: rng.integers(0, 2**32, int(rng.integers(800, 2500)), dtype=np.uint32) for i in range(100, 130)}


def test_finds_excerpt_at_offset_and_rejects_random(tmp_path: Path, prints: dict[int, np.ndarray]) -> None:
    rng = np.random.default_rng(3)
    index = AudioIndex.open(tmp_path)
    for i, p in list(prints.items())[:20]:
        index.add(i, p)
    index.flush()
    for i, p in list(prints.items())[20:]:
        index.add(i, p)  # pending: searchable before flush
    ref = prints[107]
    excerpt = noisy(ref[500:742], 0.05, rng)  # ~30 s at 8.07 items/s
    # the excerpt sits inside an unrelated clip: 60 items of other audio before it, 40 after
    query = np.concatenate([rng.integers(0, 2**32, 60, dtype=np.uint32), excerpt,
                            rng.integers(0, 2**32, 40, dtype=np.uint32)])
    for ix in (index,):
        found = ix.search(query)
        assert len(found) == 1
        m = found[0]
        assert isinstance(m, AudioMatch) and m.id == 107
        assert m.ref_offset_items - m.query_start_items == 500 - 60  # the alignment
        assert abs(m.query_start_items - 60) <= 3 and abs(m.length_items - 242) <= 6
        assert 0.02 < m.ber < 0.09
    late = prints[125]  # a pending print
    assert [(m.id, m.ref_offset_items) for m in index.search(noisy(late[100:300], 0.05, rng))] == [(125, 100)]
    assert index.search(rng.integers(0, 2**32, 400, dtype=np.uint32)) == []
    # too short an overlap is not a match
    assert index.search(noisy(ref[:30], 0.05, rng)) == []


def test_persisted_reopened_and_compacted(tmp_path: Path, prints: dict[int, np.ndarray]) -> None:
    rng = np.random.default_rng(4)
    index = AudioIndex.open(tmp_path)
    for n, (i, p) in enumerate(prints.items()):
        index.add(i, p)
        if n % 10 == 9:
            index.flush()
    again = AudioIndex.open(tmp_path)
    assert len(again) == len(prints)
    q = noisy(prints[118][200:400], 0.05, rng)
    assert [(m.id, m.ref_offset_items, m.query_start_items) for m in again.search(q)] == [(118, 200, 0)]
    again.compact()
    assert len([p for p in tmp_path.glob("seg-*.items.npy")]) == 1
    third = AudioIndex.open(tmp_path)
    assert [(m.id, m.ref_offset_items) for m in third.search(q)] == [(118, 200)]
    third.add(118, prints[118])  # the same print again: a no-op
    assert len(third) == len(prints)
    with pytest.raises(Conflict, match="already indexed"):
        third.add(118, prints[119])


def test_bad_input(tmp_path: Path) -> None:
    index = AudioIndex.open(tmp_path)
    with pytest.raises(BadInput, match="uint32"):
        index.add(1, np.zeros(10, np.int64))
    with pytest.raises(BadInput, match="empty"):
        index.add(1, np.zeros(0, np.uint32))
    with pytest.raises(BadInput, match="max_ber"):
        index.search(np.zeros(50, np.uint32), max_ber=0.6)
    assert len(index) == 0
