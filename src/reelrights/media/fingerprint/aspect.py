"""Aspect cuts: a copy cropped by different shares of width and height, brought back to a crop of
the same share of both, which the centre crops (fast mode) and the windows and boxes (thorough
mode) already match.

Every frame is squashed to the 128 x 128 canvas (:mod:`.frames`), so a copy that cut ``cx`` of the
width and ``cy`` of the height shows, on its canvas, a region ``1 - cx`` wide and ``1 - cy`` high
of the original's canvas, stretched: its picture no longer lines up with any centred crop or
window of the reference, which cut the same share of both. But the copy's own aspect (after its
bars are cut) is the original's times ``r = (1 - cx) / (1 - cy)``, and a registry holds only a few
aspects (16:9, 1.85, 2.39, 4:3...). For each registered aspect ``S`` whose ratio ``r = A / S`` to
the copy's aspect ``A`` is a plausible crop factor (within :data:`FAST_MAX_CUT` or
:data:`THOROUGH_MAX_CUT` of 1, and more than :data:`MIN_SKEW` from it: nearer is a same-share crop,
found as before), the copy's canvas is cut again along its longer side (relative to ``S``) to a
share ``r`` (or ``1 / r``), centred: what remains is ``1 - max(cx, cy)`` of the original's width
and height, a same-share crop. Codes (``VideoPrint.crop``): ``ASPECT_BASE + j`` the cut of burst
frame j, ``ASPECT_BOX_BASE + j`` the 57 boxes (:data:`.regions.BOXES`) of that cut (thorough
copies); both are frames to the matcher (``evidence.scan_video``), of orientation 0.

A copy resized to another aspect after its crop (or squashed to a square) has lost the trace:
its aspect says nothing of the crop, and it is not looked for (docs/scan.md, Limits)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from reelrights.media.fingerprint.regions import BOXES

HashFn = Callable[[np.ndarray], tuple[np.ndarray, int]]

__all__ = ["ASPECT_BASE", "ASPECT_BOX_BASE", "FAST_MAX_CUT", "MIN_SKEW", "THOROUGH_MAX_CUT", "aspect_cuts",
           "aspect_rows", "registered_aspects"]

ASPECT_BASE = 188      # 188..190: the copy's burst frame j cut to a registered aspect, centred
ASPECT_BOX_BASE = 191  # 191..193: boxes of that cut (thorough copies)
#: Largest crop per dimension each mode brings back (fast: the reference's centre crops reach
#: about 13 %; thorough: its windows and the copy's boxes about 20 %), with a little slack.
FAST_MAX_CUT = 0.12
THOROUGH_MAX_CUT = 0.22
#: Aspect ratios within this of 1 are a same-share crop (PDQ tolerates about 2 % per edge).
MIN_SKEW = 0.015
MAX_HYPOTHESES = 2


def registered_aspects(sizes: Iterable[tuple[int, int]]) -> tuple[float, ...]:
    """The distinct aspects (width / height, to 0.5 %) of registered pictures' sizes."""
    out: list[float] = []
    for w, h in sizes:
        if w > 0 and h > 0:
            a = w / h
            if all(abs(math.log(a / b)) > 0.005 for b in out):
                out.append(a)
    return tuple(sorted(out))


def aspect_cuts(aspect: float, registered: Iterable[float], max_cut: float) -> list[float]:
    """The ratios ``r = aspect / S`` of a copy's aspect to the registered aspects ``S`` that a crop
    of at most ``max_cut`` per dimension explains and a same-share crop does not, nearest to 1
    first (at most :data:`MAX_HYPOTHESES`)."""
    out: list[float] = []
    for s in registered:
        r = aspect / s
        plausible = abs(r - 1) > MIN_SKEW and 1 - max_cut <= r <= 1 / (1 - max_cut)
        if plausible and all(abs(math.log(r / o)) > 0.01 for o in out):
            out.append(r)
    out.sort(key=lambda r: abs(math.log(r)))
    return out[:MAX_HYPOTHESES]


def cut_to(luma: np.ndarray, r: float) -> np.ndarray:
    """``luma`` with its height kept to a share ``r`` (r < 1) or its width to ``1 / r`` (r > 1),
    centred."""
    h, w = luma.shape
    if r < 1:
        keep = max(8, round(h * r))
        y = (h - keep) // 2
        return np.ascontiguousarray(luma[y:y + keep])
    keep = max(8, round(w / r))
    x = (w - keep) // 2
    return np.ascontiguousarray(luma[:, x:x + keep])


def aspect_rows(luma: np.ndarray, aspect: float, registered: tuple[float, ...], j: int, *, boxes: bool,
                hash_fn: HashFn) -> list[tuple[int, np.ndarray, int]]:
    """The rows of burst frame ``j`` (its canvas ``luma``, bars cut; ``aspect`` its picture's
    width / height) for each plausible aspect cut: the cut itself and, if ``boxes``, its boxes."""
    rows: list[tuple[int, np.ndarray, int]] = []
    for r in aspect_cuts(aspect, registered, THOROUGH_MAX_CUT if boxes else FAST_MAX_CUT):
        part = cut_to(luma, r)
        rows.append((ASPECT_BASE + j, *hash_fn(part)))
        if boxes:
            h, w = part.shape
            for s, top, left in BOXES:
                y, x = round(h * top), round(w * left)
                rows.append((ASPECT_BOX_BASE + j,
                             *hash_fn(np.ascontiguousarray(part[y:y + round(h * s), x:x + round(w * s)]))))
    return rows
