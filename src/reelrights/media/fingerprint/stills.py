"""Still images cropped anywhere: PDQ hashes of a grid of crop boxes, on both sides.

PDQ is a global hash: a picture cropped by a few percent hashes far from its original (measured on
generated 320 x 240 images and film frames: a centred 5 % crop is 66-78 bits away, a 10 % corner
crop 140-146, where re-encoding costs 12 and unrelated pictures sit 74 or more apart). The
registry's centred crop variants (:data:`.video.REFERENCE_CROPS`) cover centred crops only; an
off-centre crop of up to 10 % is still 52-60 bits from the nearest of them.

So a still is hashed through a grid of crop boxes: every combination of cutting each side (top,
bottom, left, right) by one of :data:`GRID_REFERENCE` percent for a registered or signed picture
(81 boxes), and by one of :data:`GRID_QUERY` percent for a copy being looked up (81 boxes). A
copy cut by up to 6 % on each side then lies within 2 % per side of some reference box after
its own extra cut, and 2 % per side costs PDQ at most ~26 bits (measured over 90 crops of up to
5 % per side or 10 % on two sides, with JPEG at quality 10 and a 50 % resize on a third of them:
all within 26, median 12; the nearest unrelated picture stays 76 bits away). Each box goes
through the frame machinery of :mod:`.frames` (128 px RGB canvas, bars stripped, PDQ). Cost:
about 0.8 ms per box, 65 ms per picture and side.
"""

from __future__ import annotations

import itertools
import os

import av
import numpy as np

from reelrights.errors import MediaError
from reelrights.media.fingerprint.base import check_file, media_errors
from reelrights.media.fingerprint.frames import canvas_luma, hash_luma, strip_bars
from reelrights.media.fingerprint.video import VideoPrint

__all__ = ["CODE_BASE", "GRID_QUERY", "GRID_REFERENCE", "crop_boxes", "grid_print", "hash_rgb", "load_rgb"]

GRID_REFERENCE = (0, 6, 12)
GRID_QUERY = (0, 2, 4)
#: ``VideoPrint.crop`` code of grid box ``k`` (k >= 1; box 0 is the whole picture): 100 + k.
CODE_BASE = 100


def crop_boxes(steps: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """Every (top, bottom, left, right) percentage combination of ``steps``, the whole picture first."""
    boxes = [(t, b, lf, r) for t, b, lf, r in itertools.product(steps, repeat=4)]
    return sorted(boxes, key=lambda box: (sum(box), box))


def load_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """The first picture of ``path`` as (h, w, 3) uint8 RGB."""
    p = check_file(path)
    with media_errors(p, "image"), av.open(str(p)) as container:
        for frame in container.decode(video=0):
            return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
    raise MediaError(f"{p}: no picture in the file; re-export it", path=str(p))


def hash_rgb(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ of an RGB picture through the frame machinery (canvas, bars stripped)."""
    luma = canvas_luma(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24"))
    luma, _ = strip_bars(luma)
    return hash_luma(np.ascontiguousarray(luma))


def grid_print(rgb: np.ndarray, steps: tuple[int, ...], *, include_whole: bool = False) -> VideoPrint:
    """The hashes of ``rgb`` cut by every box of ``steps`` (the whole picture only with
    ``include_whole``), as a still VideoPrint whose ``crop`` codes are ``CODE_BASE + box``."""
    h, w = rgb.shape[:2]
    hashes, quality, codes = [], [], []
    for k, (t, b, lft, r) in enumerate(crop_boxes(steps)):
        if k == 0 and not include_whole:
            continue
        y0, y1 = round(h * t / 100), h - round(h * b / 100)
        x0, x1 = round(w * lft / 100), w - round(w * r / 100)
        if y1 - y0 < 8 or x1 - x0 < 8:
            continue
        hh, q = hash_rgb(rgb[y0:y1, x0:x1])
        hashes.append(hh)
        quality.append(q)
        codes.append(0 if k == 0 else CODE_BASE + k)
    n = len(hashes)
    return VideoPrint(np.stack(hashes) if n else np.zeros((0, 32), np.uint8), np.array(quality, np.uint8),
                      np.zeros(n, np.int64), 0, "grid:" + ",".join(map(str, steps)), w, h,
                      np.array(codes, np.uint8))
