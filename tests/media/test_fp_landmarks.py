"""Landmark audio prints: found after pitch and tempo changes and under music or speech at 0 dB,
with the matched time ranges; unrelated melodies of the same generator are not found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelrights.errors import BadInput
from reelrights.media.fingerprint.landmarks import (
    BLOCK_FRAMES,
    HOP,
    RATE,
    LandmarkHashes,
    LandmarkIndex,
    LandmarkPrint,
    LandmarkStream,
    fingerprint_landmarks,
    landmarks_from_bytes,
    landmarks_of_samples,
)
from reelrights.media.synth import make_audio
from reelrights.media.synth_copy import make_babble, mix_equal, read_wav, resample_speed


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("landmarks")
    works = [make_audio(d / f"w{i}.wav", seconds=30, sample_rate=RATE, seed=40 + i) for i in range(4)]
    index = LandmarkIndex()
    for i, w in enumerate(works):
        index.add(i, fingerprint_landmarks(w))
    return {"dir": d, "works": works, "index": index}


def _excerpt(path: Path, start: float, seconds: float) -> np.ndarray:
    x, rate = read_wav(path)
    assert rate == RATE
    return 32767 * x[round(start * rate):round((start + seconds) * rate)]


def test_print_round_trips(setup: dict) -> None:
    p = fingerprint_landmarks(setup["works"][0])
    assert len(p) > 1000 and p.duration_ms == 30_000
    q = LandmarkPrint.from_bytes(p.to_bytes())
    assert np.array_equal(q.t1, p.t1) and np.array_equal(q.gap, p.gap) and q.duration_ms == p.duration_ms
    with pytest.raises(BadInput):
        LandmarkPrint.from_bytes(p.to_bytes()[:-3])


@pytest.mark.parametrize("speed", [0.95, 1.05])
def test_pitch_and_tempo_change_is_found_with_its_ranges(setup: dict, speed: float) -> None:
    """A resample (tempo and pitch both changed by 5 %) of a 12 s excerpt from 7 s."""
    copy = resample_speed(_excerpt(setup["works"][2], 7.0, 12.0), speed)
    hits = setup["index"].search(landmarks_of_samples(copy))
    assert [h.id for h in hits] == [2]
    h = hits[0]
    assert abs(h.pitch - speed) <= 0.011 and abs(h.tempo - 1 / speed) <= 0.011
    assert h.query_start_s < 1.0 and h.query_end_s > 12.0 / speed - 1.0
    assert abs(h.ref_start_s - 7.0) < 1.0 and abs(h.ref_end_s - 19.0) < 1.0


@pytest.mark.parametrize("bed", ["music", "speech"])
def test_found_under_music_or_speech_at_0_db(setup: dict, bed: str) -> None:
    d = setup["dir"]
    noise = (make_audio(d / "bed.wav", seconds=20, sample_rate=RATE, seed=977) if bed == "music"
             else make_babble(d / "babble.wav", seconds=20, rate=RATE, seed=5))
    mixed = mix_equal(setup["works"][1], noise, d / f"mix-{bed}.wav", start_s=4.0, seconds=15.0, rate=RATE)
    hits = setup["index"].search(fingerprint_landmarks(mixed))
    assert [h.id for h in hits] == [1]
    assert abs(hits[0].ref_start_s - 4.0) < 1.0 and abs(hits[0].ref_end_s - 19.0) < 1.0
    # the bed alone (a melody of the same generator, or babble) matches nothing
    assert setup["index"].search(fingerprint_landmarks(noise)) == []


def test_unrelated_melodies_of_the_same_generator_are_not_found(setup: dict) -> None:
    for seed in (700, 701, 702):
        other = make_audio(setup["dir"] / f"o{seed}.wav", seconds=15, sample_rate=RATE, seed=seed)
        assert setup["index"].search(fingerprint_landmarks(other)) == []


def test_bad_ids_are_refused(setup: dict) -> None:
    with pytest.raises(BadInput, match="already indexed"):
        setup["index"].add(0, fingerprint_landmarks(setup["works"][0]))
    with pytest.raises(BadInput, match="integer"):
        LandmarkIndex().add("x", fingerprint_landmarks(setup["works"][0]))  # type: ignore[arg-type]


def test_compact_reference_form_searches_alike(setup: dict) -> None:
    """The registry stores LandmarkHashes (8 bytes a pair): an index of them finds what an index
    of the full prints finds, and they cannot be rescaled (only queries are)."""
    full = [fingerprint_landmarks(w) for w in setup["works"]]
    compact = [LandmarkHashes.from_bytes(p.compact().to_bytes()) for p in full]
    assert len(compact[0].to_bytes()) == 18 + 8 * len(full[0]) < len(full[0].to_bytes()) // 1.9
    assert isinstance(landmarks_from_bytes(full[0].to_bytes()), LandmarkPrint)
    index = LandmarkIndex()
    for i, p in enumerate(compact):
        index.add(i, p)
    copy = landmarks_of_samples(resample_speed(_excerpt(setup["works"][3], 5.0, 12.0), 1.04))
    assert index.search(copy) == setup["index"].search(copy) and index.search(copy)[0].id == 3
    with pytest.raises(ValueError, match="rescale the query"):
        compact[0].hashes(1.02)


def test_stream_fed_in_pieces_gives_the_same_print(setup: dict) -> None:
    """A soundtrack fed as it decodes (odd-sized int16 pieces) across a peak-picking block
    boundary gives the print of the whole recording at once; an excerpt past the first block
    is found at its place."""
    x = np.concatenate([_excerpt(w, 0, 30) for w in setup["works"][:3]])  # 90 s: two blocks
    assert len(x) > (BLOCK_FRAMES + 50) * HOP
    whole = landmarks_of_samples(x)
    stream = LandmarkStream()
    for i in range(0, len(x), 3001):
        stream.feed(np.rint(x[i:i + 3001]).astype(np.int16))
    pieces = stream.finish()
    assert pieces.duration_ms == whole.duration_ms == round(1000 * len(x) / RATE)
    for k in ("t1", "pitch", "interval", "gap"):
        assert np.allclose(getattr(pieces, k), getattr(whole, k), atol=1e-3), k
    assert whole.t1.max() * HOP > BLOCK_FRAMES * HOP  # peaks were picked in the second block too
    index = LandmarkIndex()
    index.add(9, whole.compact())
    [m] = index.search(landmarks_of_samples(x[round(65 * RATE):round(80 * RATE)]))
    assert m.id == 9 and abs(m.ref_start_s - 65) < 1 and abs(m.ref_end_s - 80) < 1
    assert LandmarkStream().finish().duration_ms == 0 and len(LandmarkStream().finish()) == 0
