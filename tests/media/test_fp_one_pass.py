"""The cheaper fast reference pass makes the same prints as before, bit for bit.

What changed for speed (docs/scan.md, "Cost of soundtrack landmarks at fingerprint time"): a
film's soundtrack is decoded in the picture pass (one opening and demux, audio packets decoded in
batches); the hash canvas comes from one swscale context per video, not one per sample; PDQ
hashing reuses per-thread buffers; the letterbox test looks at the 4 edge lines first. Each is
checked here against the way it was done before, on generated films."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import VideoReformatter

from reelrights.media.fingerprint import (
    REFERENCE_CROPS,
    REFERENCE_FPS,
    fingerprint_file,
    fingerprint_video,
    pdq_native,
)
from reelrights.media.fingerprint.audio import fingerprint_soundtrack
from reelrights.media.fingerprint.frames import BAR_STD, canvas_luma, luma_of, strip_bars
from reelrights.media.fingerprint.landmarks import LandmarkStream
from reelrights.media.fingerprint.video import SOUND_BATCH
from reelrights.media.synth import make_film


@pytest.fixture(scope="module")
def talkie(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("one_pass")
    return make_film(d / "talkie.mp4", seconds=8, fps=12, size=(320, 180), scenes=3, seed=11, grain=4,
                     with_audio=True)


def test_one_pass_print_equals_the_two_passes_it_replaces(talkie: Path) -> None:
    """fingerprint_file (pictures and soundtrack from one demux) gives exactly the prints of a
    picture pass and a separate soundtrack pass (Chromaprint with landmarks), as before."""
    with av.open(str(talkie)) as c:
        assert sum(1 for p in c.demux(c.streams.audio[0]) if p.size) > 2 * SOUND_BATCH  # batches, and a rest
    settings = {"crop_variants": REFERENCE_CROPS, "fps": REFERENCE_FPS, "regions": "quadrants"}
    now = fingerprint_file(talkie, "video", landmarks=True, **settings)
    video = fingerprint_video(talkie, **settings)
    stream = LandmarkStream()
    audio = fingerprint_soundtrack(talkie, tap=stream.feed)
    assert audio is not None and now.audio is not None and now.landmark is not None and now.video is not None
    assert now.video.to_bytes() == video.to_bytes()
    assert now.audio.to_bytes() == audio.to_bytes()
    assert now.landmark.to_bytes() == stream.finish().to_bytes()
    copy = fingerprint_file(talkie, "video", dihedral=True, burst=3, regions="copy")  # the other side too
    assert copy.video.to_bytes() == fingerprint_video(talkie, dihedral=True, burst=3, regions="copy").to_bytes()


def test_shared_scaler_gives_each_frame_s_own_canvas(talkie: Path, tmp_path: Path) -> None:
    """One single-threaded reformatter kept across frames (and across frame sizes) scales to the
    same pixels as ``frame.reformat`` per frame (PyAV's default: a new context, threads auto)."""
    other = make_film(tmp_path / "wide.mp4", seconds=1, fps=6, size=(424, 160), scenes=1, seed=2)
    scaler = VideoReformatter()
    n = 0
    for film in (talkie, other, talkie):
        with av.open(str(film)) as c:
            for i, frame in enumerate(c.decode(video=0)):
                if i % 7:
                    continue
                old = luma_of(frame.reformat(width=128, height=128, format="rgb24", interpolation="AREA").to_ndarray())
                assert canvas_luma(frame, 128, scaler).tobytes() == old.tobytes()
                n += 1
    assert n > 20


def _strip_bars_everywhere(luma: np.ndarray) -> tuple[int, int, int, int]:
    """What strip_bars decided before: every row's and column's statistics, always."""
    from reelrights.media.fingerprint.frames import _edge_run

    h, w = luma.shape
    rs, rm = luma.std(axis=1), luma.mean(axis=1)
    top, bottom = _edge_run(rs, rm), _edge_run(rs[::-1], rm[::-1])
    if top + bottom >= h - 8:
        return (0, 0, 0, 0)
    inner = luma[top : h - bottom]
    cs, cm = inner.std(axis=0), inner.mean(axis=0)
    left, right = _edge_run(cs, cm), _edge_run(cs[::-1], cm[::-1])
    return (0, 0, 0, 0) if left + right >= w - 8 else (top, bottom, left, right)


def test_bars_decided_from_the_edges_as_from_every_line(talkie: Path) -> None:
    rng = np.random.default_rng(4)
    planes = []
    with av.open(str(talkie)) as c:
        planes += [canvas_luma(f) for i, f in enumerate(c.decode(video=0)) if i % 9 == 0]
    for _ in range(300):  # near-flat edges: standard deviations around BAR_STD
        h, w = (int(v) for v in rng.integers(9, 160, 2))
        planes.append((rng.random((h, w)) * rng.choice([2.0, 3.5, 6.0]) + 100).astype(np.float32))
    boxed = planes[0].copy()
    boxed[:14], boxed[-14:], boxed[:, :9] = 16.0, 16.0, 16.0
    planes.append(boxed)
    for luma in planes:
        cut, edges = strip_bars(luma)
        assert edges == _strip_bars_everywhere(luma)
        top, bottom, left, right = edges
        assert np.array_equal(cut, luma[top : luma.shape[0] - bottom, left : luma.shape[1] - right])
        # the shortcut's statistics are the full computation's, bit for bit
        h, w = luma.shape
        assert luma[:: h - 1].std(axis=1).tobytes() == luma.std(axis=1)[[0, -1]].tobytes()
        assert luma[:, :: w - 1].std(axis=0).tobytes() == luma.std(axis=0)[[0, -1]].tobytes()
    assert strip_bars(boxed)[1][:3] == (15, 15, 10) and BAR_STD > 0


def test_reused_hash_buffers_are_per_thread_and_give_fresh_buffer_hashes() -> None:
    rng = np.random.default_rng(9)
    lumas = [(rng.random((h, w)) * 255).astype(np.float32) for h, w in ((128, 128), (64, 64), (112, 120),
                                                                        (300, 400), (17, 33))]
    lumas.append(lumas[0][5:120, 3:100])  # a strided view
    expected = [pdq_native._hash_luma_once(x) for x in lumas]
    got: dict[int, list] = {}

    def work(k: int) -> None:
        got[k] = [pdq_native.hash_luma(x) for _ in range(20) for x in lumas]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(3):
        for i, (packed, quality) in enumerate(got[k]):
            want = expected[i % len(lumas)]
            assert packed.tobytes() == want[0].tobytes() and quality == want[1]
