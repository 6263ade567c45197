"""A film registered in a small PDQ index of each mode, beside unrelated films: the world the
thorough-mode and aspect-crop tests scan their copies against (generated media only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reelrights.media.fingerprint import (
    REFERENCE_CROPS,
    REFERENCE_FPS,
    VideoPrint,
    fingerprint_video,
    region_mode,
)
from reelrights.media.index.pdq import PDQIndex
from reelrights.media.synth import make_film


def reference_world(d: Path, *, fps: int, size: tuple[int, int], others: int) -> dict:
    """``film`` and ``others[0]`` registered in ``d/pdq-fast`` and ``d/pdq-thorough``
    (``out[mode] = (index, {seq: (name, "video", print)})``); ``others[1:]`` unregistered."""
    film = make_film(d / "film.mp4", seconds=20, fps=fps, size=size, scenes=4, seed=1201, zoom=0.3, captions=True)
    unrelated = [make_film(d / f"other{i}.mp4", seconds=16, fps=fps, size=size, scenes=3, seed=1300 + i, zoom=0.3,
                           captions=True) for i in range(others)]
    out: dict = {"dir": d, "film": film, "others": unrelated}
    for mode in ("fast", "thorough"):
        index = PDQIndex.open(d / f"pdq-{mode}")
        prints: dict[int, tuple[str, str, VideoPrint]] = {}
        for seq, (name, path) in enumerate([("film", film), ("other0", unrelated[0])], start=1):
            p = fingerprint_video(path, fps=REFERENCE_FPS, crop_variants=REFERENCE_CROPS,
                                  regions=region_mode(mode, reference=True))
            keep = np.flatnonzero(p.quality >= 50)
            index.add(np.ascontiguousarray(p.hashes[keep]), (np.int64(seq) << 24) | keep.astype(np.int64))
            prints[seq] = (name, "video", p)
        index.flush()
        out[mode] = (index, prints)
    return out
