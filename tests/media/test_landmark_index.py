"""The persistent landmark index (memory-mapped segments): the same matches as the in-memory
index for the same prints, however the recordings are split into segments, merged or compacted;
what it holds survives reopening in another process; re-adding a print is a no-op, a different
print under a used id is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reelrights.errors import BadInput, Conflict
from reelrights.media.fingerprint.landmarks import (
    RATE,
    LandmarkIndex,
    LandmarkPrint,
    fingerprint_landmarks,
    landmarks_of_samples,
)
from reelrights.media.index import LandmarkSegmentIndex
from reelrights.media.index.segments import MANIFEST
from reelrights.media.synth import make_audio
from reelrights.media.synth_copy import make_babble, mix_equal, read_wav, resample_speed

WORKS = 6


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("landmark_index")
    works = [make_audio(d / f"w{i}.wav", seconds=30, sample_rate=RATE, seed=40 + i) for i in range(WORKS)]
    prints = [fingerprint_landmarks(w).compact() for w in works]
    memory = LandmarkIndex()
    for i, p in enumerate(prints):
        memory.add(100 + i, p)

    def excerpt(i: int, start: float, seconds: float) -> np.ndarray:
        x, _ = read_wav(works[i])
        return 32767 * x[round(start * RATE):round((start + seconds) * RATE)]

    bed = make_audio(d / "bed.wav", seconds=20, sample_rate=RATE, seed=977)
    babble = make_babble(d / "babble.wav", seconds=20, rate=RATE, seed=5)
    queries = {
        "slow": landmarks_of_samples(resample_speed(excerpt(2, 7.0, 12.0), 0.95)),
        "fast": landmarks_of_samples(resample_speed(excerpt(4, 3.0, 12.0), 1.05)),
        "music": fingerprint_landmarks(mix_equal(works[1], bed, d / "m.wav", start_s=4.0,
                                                 seconds=15.0, rate=RATE)),
        "speech": fingerprint_landmarks(mix_equal(works[5], babble, d / "s.wav", start_s=9.0,
                                                  seconds=15.0, rate=RATE)),
        "other": fingerprint_landmarks(make_audio(d / "o.wav", seconds=15, sample_rate=RATE, seed=702)),
    }
    return {"dir": d, "prints": prints, "memory": memory, "queries": queries}


def _same_results(index: LandmarkSegmentIndex, setup: dict) -> dict[str, list]:
    got = {}
    for name, q in setup["queries"].items():
        got[name] = index.search(q)
        assert got[name] == setup["memory"].search(q), name
    return got


def test_segments_find_what_memory_finds_and_persist(setup: dict, tmp_path: Path) -> None:
    """One flush per recording (size-tier merges happen on the way), then compaction: every
    query's matches are identical to the in-memory index's at each step, and another process
    opening the directory gets them too."""
    index = LandmarkSegmentIndex.open(tmp_path / "lm")
    for i, p in enumerate(setup["prints"]):
        index.add(100 + i, p)
        if i == 2:  # searchable before the flush, from the pending table
            assert index.search(setup["queries"]["slow"]) == setup["memory"].search(setup["queries"]["slow"])
        index.flush()
    assert 1 < index.segment_count < WORKS  # four one-recording segments were merged into one
    got = _same_results(index, setup)
    assert [m.id for m in got["slow"]] == [102] and [m.id for m in got["fast"]] == [104]
    assert [m.id for m in got["music"]] == [101] and [m.id for m in got["speech"]] == [105]
    assert got["other"] == []
    assert abs(got["slow"][0].pitch - 0.95) <= 0.011 and abs(got["slow"][0].ref_start_s - 7) < 1

    reopened = LandmarkSegmentIndex.open(tmp_path / "lm")
    assert sorted(reopened.ids.tolist()) == list(range(100, 100 + WORKS)) and len(reopened) == WORKS
    _same_results(reopened, setup)

    qfile = tmp_path / "q.bin"
    qfile.write_bytes(setup["queries"]["music"].to_bytes())
    code = ("import json, sys; from reelrights.media.index import LandmarkSegmentIndex as L; "
            "from reelrights.media.fingerprint.landmarks import LandmarkPrint as P; "
            "q = P.from_bytes(open(sys.argv[2], 'rb').read()); "
            "print(json.dumps([m.__dict__ for m in L.open(sys.argv[1]).search(q)]))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "lm"), str(qfile)], check=True,
                         capture_output=True, text=True, env=dict(os.environ), timeout=300).stdout
    assert json.loads(out) == [m.__dict__ for m in setup["memory"].search(setup["queries"]["music"])]

    index.compact()
    assert index.segment_count == 1
    live = json.loads((tmp_path / "lm" / MANIFEST).read_text())["segments"][0]["files"]
    assert sorted(p.name for p in (tmp_path / "lm").glob("seg-*")) == sorted(live)  # merged-away files gone
    _same_results(index, setup)
    _same_results(LandmarkSegmentIndex.open(tmp_path / "lm"), setup)


def test_run_start_offsets_give_the_same_matches(setup: dict, tmp_path: Path) -> None:
    """Segments big enough to store each hash value's run start (lowered here from 4M pairs)
    search by them, flushed or merged, with the matches of the binary-search path."""
    index = LandmarkSegmentIndex.open(tmp_path / "lm")
    index.OFFSETS_MIN = len(setup["prints"][0]) + 1
    for i, p in enumerate(setup["prints"]):
        index.add(100 + i, p)
        if i % 2:
            index.flush()  # two recordings a segment: each has offsets
    assert all(t.offsets is not None for t in index.tables())
    _same_results(index, setup)
    index.compact()
    [seg] = index.tables()
    assert seg.offsets is not None and int(seg.offsets[-1]) == len(seg)
    _same_results(LandmarkSegmentIndex.open(tmp_path / "lm"), setup)


def test_merge_keeps_each_recordings_pairs(setup: dict, tmp_path: Path) -> None:
    """A merged segment is sorted by hash and holds exactly each recording's pairs."""
    index = LandmarkSegmentIndex.open(tmp_path / "lm")
    for i, p in enumerate(setup["prints"][:4]):
        index.add(100 + i, p)
        index.flush()
    [seg] = index.tables()
    assert np.all(np.diff(seg.hash.astype(np.int64)) >= 0) and len(seg) == sum(len(p) for p in setup["prints"][:4])
    for i, p in enumerate(setup["prints"][:4]):
        index.add(100 + i, p)  # the same print again: a no-op (checks the stored pairs are p's)
    assert index.segment_count == 1 and len(index) == 4


def test_add_flushes_past_its_buffer_limit(setup: dict, tmp_path: Path) -> None:
    """A rebuild or a big batch never buffers more than FLUSH_PAIRS pairs in memory."""
    index = LandmarkSegmentIndex.open(tmp_path / "lm")
    index.FLUSH_PAIRS = len(setup["prints"][0]) + len(setup["prints"][1])
    index.add(100, setup["prints"][0])
    assert LandmarkSegmentIndex.open(tmp_path / "lm").segment_count == 0
    index.add(101, setup["prints"][1])
    assert sorted(LandmarkSegmentIndex.open(tmp_path / "lm").ids.tolist()) == [100, 101]


def test_ids_conflicts_and_ignored_ids(setup: dict, tmp_path: Path) -> None:
    index = LandmarkSegmentIndex.open(tmp_path / "lm")
    index.add(7, setup["prints"][2])
    index.flush()
    with pytest.raises(Conflict, match="already indexed"):
        LandmarkSegmentIndex.open(tmp_path / "lm").add(7, setup["prints"][3])
    with pytest.raises(BadInput):
        index.add("x", setup["prints"][3])  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        index.add(8, np.zeros(3))  # type: ignore[arg-type]
    index.add(9, setup["prints"][2])  # the same recording under a newer id (a recomputed print)
    q = setup["queries"]["slow"]
    assert sorted(m.id for m in index.search(q)) == [7, 9]
    assert [m.id for m in index.search(q, ignore=np.array([7]))] == [9]
    assert isinstance(q, LandmarkPrint)
    with pytest.raises(BadInput, match="LandmarkPrint"):
        index.search(setup["prints"][0])  # type: ignore[arg-type]
