"""Region hashes: PDQ of parts of a frame, for copies that change only part of the picture.

PDQ is a global hash: a white logo over a corner moves a frame's hash 40-64 bits, a crop that
keeps one corner shifts the whole picture, and a picture-in-picture inset is a small copy inside
another film. Region hashes hash parts of the 128 x 128 canvas (:mod:`.frames`) so that one part
of the copy lines up with one part (or the whole) of the reference:

* **Quadrants** (both sides, codes ``QUAD_BASE + 4 * j + q``; references j = 0): a corner logo or
  caption spoils one or two quadrants, not all four. A match by quadrants needs at least
  :data:`MIN_QUADRANTS` quadrants of one copy sample matching the same moment of one reference
  (``evidence.scan_video``), so one matching quarter of a frame never makes a match.
* **Windows** (references only, codes ``WINDOW_BASE + k % 20``): the frame cut to 95, 90, 85, 80
  and 75 % of its width and height, at every offset in 5 % steps (:data:`WINDOWS`, 90 of them), and
* **boxes** (copies only, code ``BOX_BASE + j`` for burst frame j): the copy itself cut by 2/3 to
  5/3 of that 5 % step, at offsets of 0 to 3/3 of it in 1/3 steps (:data:`BOXES`, 57). A copy
  cut by c (up to 20 %, the same share of width and height) anywhere is then matched by cutting
  it to the next window size 2.5-7.5 % smaller, at an offset that puts each edge within about
  0.8 % of the frame of the window's. Neither side alone gets there: PDQ tolerates about 1 % of
  misalignment per edge, and on the generated films (frame against frame, crops of 8-20 % at
  random positions) windows alone in 5 % steps came within 31 bits for 12 % of the crops, in
  2.5 % steps (285 windows) 62 %; these windows and boxes 99 % (crops of 5-20 %). A crop that
  changes the aspect (different cuts of width and height) is first cut back to a same-share crop
  on the copy's side (:mod:`.aspect`), then matched the same way.
* **Insets** (copies only, codes ``INSET_BASE + 4 * j + i``): rectangles found in the copy's
  picture by their straight, lasting edges (:class:`InsetFinder`), each hashed on its own so a
  picture-in-picture inset lines up with the reference's whole frame. An inset's edges may need
  several samples to stand out against a busy background: :class:`InsetBuffer` keeps the last
  :data:`INSET_BUFFER_MS` of samples and hashes a rectangle found late in them too, so the matched
  range starts where the inset does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

HashFn = Callable[[np.ndarray], tuple[np.ndarray, int]]

__all__ = ["BOXES", "BOX_BASE", "INSET_BASE", "INSET_BUFFER_MS", "INSET_LAG", "MAX_INSETS", "MIN_QUADRANTS",
           "QUAD_BASE", "WINDOWS", "WINDOW_BASE", "InsetBuffer", "InsetFinder", "box_rows", "inset_code", "iou",
           "quad_code", "quadrant_rows", "region_kind", "window_rows"]

QUAD_BASE = 50      # 50..61: quadrant q (0 TL, 1 TR, 2 BL, 3 BR) of burst frame j
INSET_BASE = 64     # 64..75: inset i of burst frame j (copies)
WINDOW_BASE = 80    # 80..99: off-centre windows (references; window k has code 80 + k % 20)
BOX_BASE = 181      # 181..187: boxes of burst frame j (copies)
#: (1..49 are centred crops, 101..180 a still's crop grid boxes (:mod:`.stills`), 200.. dihedral.)
MAX_INSETS = 2
MIN_QUADRANTS = 2
WINDOW_STEP = 0.05
#: (size, top, left) as fractions of the frame: sizes 95-75 % at every offset in 5 % steps.
WINDOWS = tuple((1 - k * WINDOW_STEP, oy * WINDOW_STEP, ox * WINDOW_STEP) for k in range(1, 6)
                for oy in range(k + 1) for ox in range(k + 1))
#: (size, top, left) of a copy's boxes: cuts of 2/3 to 5/3 of a window step, offsets of 0 to 3/3
#: of it, in 1/3 steps.
BOXES = tuple((1 - k * WINDOW_STEP / 3, oy * WINDOW_STEP / 3, ox * WINDOW_STEP / 3) for k in range(2, 6)
              for oy in range(min(k, 3) + 1) for ox in range(min(k, 3) + 1))
_EDGE = 20.0        # luma step (0-255) of an edge pixel on the canvas
_DECAY = 0.7        # weight of the past samples in the edge persistence map
_MIN_SIDE = 0.25    # an inset is at least this share of the frame in each dimension ...
_MAX_SIDE = 0.85    # ... and at most this
_MIN_SCORE = 0.3    # mean lasting edge along an inset's sides (the frame's own borders aside)
#: A copy's sample has its insets hashed this many samples later, with the rectangles found since.
INSET_LAG = 2
#: ... and again with every rectangle found later while it is among the samples of the last this
#: many ms (at most :data:`_BUFFER_SAMPLES` samples): an inset over a busy background stands out
#: only after several samples.
INSET_BUFFER_MS = 10_000
_BUFFER_SAMPLES = 40
_MAX_RECTS = 16     # rectangles hashed per buffered sample at most


def quad_code(j: int, q: int) -> int:
    return QUAD_BASE + 4 * j + q


def inset_code(j: int, i: int) -> int:
    return INSET_BASE + 4 * j + i


def region_kind(code: np.ndarray) -> np.ndarray:
    """Per ``crop`` code: 0 a frame (whole, centred crop, window, box or dihedral), 1 a quadrant,
    2 an inset."""
    code = np.asarray(code).astype(np.int64)
    quad = (code >= QUAD_BASE) & (code < INSET_BASE)
    inset = (code >= INSET_BASE) & (code < WINDOW_BASE)
    return np.where(quad, 1, np.where(inset, 2, 0))


def quadrant_rows(luma: np.ndarray, j: int, hash_fn: HashFn) -> list[tuple[int, np.ndarray, int]]:
    h, w = luma.shape
    hy, hx = h // 2, w // 2
    parts = (luma[:hy, :hx], luma[:hy, hx:], luma[hy:, :hx], luma[hy:, hx:])
    return [(quad_code(j, q), *hash_fn(np.ascontiguousarray(p))) for q, p in enumerate(parts)]


def window_rows(luma: np.ndarray, hash_fn: HashFn) -> list[tuple[int, np.ndarray, int]]:
    return [(WINDOW_BASE + k % 20, *hash_fn(_cut(luma, box))) for k, box in enumerate(WINDOWS)]


def box_rows(luma: np.ndarray, j: int, hash_fn: HashFn) -> list[tuple[int, np.ndarray, int]]:
    return [(BOX_BASE + j, *hash_fn(_cut(luma, box))) for box in BOXES]


def _cut(luma: np.ndarray, box: tuple[float, float, float]) -> np.ndarray:
    h, w = luma.shape
    s, top, left = box
    y, x = round(h * top), round(w * left)
    return np.ascontiguousarray(luma[y:y + round(h * s), x:x + round(w * s)])


class InsetFinder:
    """Finds picture-in-picture insets: rectangles whose four sides are straight edges that last.

    Per sampled frame, edge pixels (a luma step of at least 20 on the canvas, a local maximum
    across the edge) are averaged over recent samples (an inset stays where it is while the
    pictures inside and around it move); lines are the columns and rows with the longest runs of
    lasting edge pixels (the frame's own borders count as lines), and rectangles of 25-85 % of the
    frame each way whose four sides are mostly edges are the candidates, best first."""

    def __init__(self) -> None:
        self.ex: np.ndarray | None = None
        self.ey: np.ndarray | None = None
        self.weight = 0.0

    def update(self, luma: np.ndarray) -> list[tuple[int, int, int, int]]:
        gx = np.abs(np.diff(luma, axis=1))
        gy = np.abs(np.diff(luma, axis=0))
        ex = (gx > _EDGE) & (gx >= np.roll(gx, 1, 1)) & (gx >= np.roll(gx, -1, 1))
        ey = (gy > _EDGE) & (gy >= np.roll(gy, 1, 0)) & (gy >= np.roll(gy, -1, 0))
        if self.ex is None or self.ex.shape != ex.shape or self.ey is None or self.ey.shape != ey.shape:
            self.ex, self.ey, self.weight = np.zeros(ex.shape), np.zeros(ey.shape), 0.0
        w_old = _DECAY * self.weight
        self.weight = w_old + 1.0
        self.ex = (self.ex * w_old + ex) / self.weight
        self.ey = (self.ey * w_old + ey) / self.weight
        return self.rectangles(luma.shape)

    def rectangles(self, shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
        """``[(top, bottom, left, right)]`` (exclusive ends) of the likely insets, best first."""
        assert self.ex is not None and self.ey is not None
        h, w = shape
        px, py = self.ex, self.ey.T                           # (h, w-1), (w, h-1): boundary c is
        cols = _lines(px, round(_MIN_SIDE * h))               # between pixel c and c+1
        rows = _lines(py, round(_MIN_SIDE * w))
        found = []
        for i0, y0 in enumerate(rows):
            for y1 in rows[i0 + 1:]:
                hh = y1 - y0
                if not _MIN_SIDE * h <= hh <= _MAX_SIDE * h:
                    continue
                for k0, x0 in enumerate(cols):
                    for x1 in cols[k0 + 1:]:
                        ww = x1 - x0
                        if not _MIN_SIDE * w <= ww <= _MAX_SIDE * w or abs(ww / w - hh / h) > 0.15:
                            continue
                        sides = [s for s in (_side(px, x0, y0 + 1, y1 + 1), _side(px, x1, y0 + 1, y1 + 1),
                                             _side(py, y0, x0 + 1, x1 + 1), _side(py, y1, x0 + 1, x1 + 1))
                                 if s is not None]
                        if len(sides) >= 2 and min(sides) >= _MIN_SCORE / 2 and np.mean(sides) >= _MIN_SCORE:
                            found.append((float(np.mean(sides)) + 0.05 * len(sides), (y0 + 1, y1 + 1, x0 + 1, x1 + 1)))
        found.sort(key=lambda t: -t[0])
        out: list[tuple[int, int, int, int]] = []
        for _, r in found:
            if all(iou(r, o) < 0.5 for o in out):
                out.append(r)
            if len(out) == MAX_INSETS:
                break
        return out


Rect = tuple[int, int, int, int]
InsetRow = tuple[int, int, np.ndarray, int]  # time ms, crop code, packed hash, quality


class InsetBuffer:
    """A copy's recent samples (each burst frame's canvas luma), so that every rectangle the
    :class:`InsetFinder` finds is hashed in all of them: at :data:`INSET_LAG` samples' age with
    the rectangles of the last samples, and later with each new one (up to 16: a rectangle moved
    by a pixel is new, as one pixel of 128 moves a 40 % inset's hash from 18 to 36 bits), while
    the sample is among those of the last :data:`INSET_BUFFER_MS` (memory: at most 40 samples of 3
    frames of 64 kB)."""

    def __init__(self, hash_fn: HashFn) -> None:
        self.finder = InsetFinder()
        self.hash_fn = hash_fn
        self.recent: list[list[Rect]] = []  # rectangles found at the last samples
        self.samples: deque[tuple[int, list[tuple[np.ndarray, int]], list[Rect]]] = deque()  # ms, frames, done

    def add_sample(self, luma: np.ndarray, ms: int) -> list[InsetRow]:
        """A new sample (burst frame 0): look for insets, hash what is due, buffer the frame."""
        self.recent = [*self.recent[-INSET_LAG:], self.finder.update(luma)]
        rows = self.flush()
        self.samples.append((ms, [(luma, 0)], []))
        while len(self.samples) > _BUFFER_SAMPLES or ms - self.samples[0][0] > INSET_BUFFER_MS:
            self.samples.popleft()
        return rows

    def add_frame(self, luma: np.ndarray, j: int) -> None:
        """Burst frame j (> 0) of the last sample."""
        if self.samples:
            self.samples[-1][1].append((luma, j))

    def flush(self, everything: bool = False) -> list[InsetRow]:
        """Hash the rectangles of the last samples (newest first, up to 4) in every buffered sample
        at least :data:`INSET_LAG` samples old (all of them if ``everything``: the end)."""
        rects: list[Rect] = []
        for found in reversed(self.recent):
            rects += [r for r in found if r not in rects]
        rows: list[InsetRow] = []
        due = len(self.samples) if everything else len(self.samples) - INSET_LAG + 1
        for k in range(max(0, due)):
            ms, frames, done = self.samples[k]
            for r in rects[:4]:
                if len(done) >= _MAX_RECTS or r in done:
                    continue
                y0, y1, x0, x1 = r
                for luma, j in frames:
                    packed, quality = self.hash_fn(np.ascontiguousarray(luma[y0:y1, x0:x1]))
                    rows.append((ms, inset_code(j, len(done) % 4), packed, quality))
                done.append(r)
        return rows


def _lines(p: np.ndarray, span: int, top: int = 6) -> list[int]:
    """Boundaries (columns of ``p``) whose best stretch of ``span`` positions has the most
    lasting edge, best ``top``; -1 and the last are the frame's own edges."""
    c = np.cumsum(np.vstack([np.zeros((1, p.shape[1])), p]), axis=0)
    best = (c[span:] - c[:-span]).max(axis=0) / span
    keep = [int(k) for k in np.argsort(best)[::-1][:top] if best[k] >= _MIN_SCORE]
    return sorted({-1, p.shape[1], *keep})


def _side(p: np.ndarray, line: int, a: int, b: int) -> float | None:
    """Mean lasting edge along positions a..b-1 of boundary ``line``; None for the frame's own
    border (-1 or past the last boundary)."""
    if line < 0 or line >= p.shape[1]:
        return None
    seg = p[a:b, line]
    return float(seg.mean()) if len(seg) else 0.0


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    iy = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    ix = max(0, min(a[3], b[3]) - max(a[2], b[2]))
    inter = iy * ix
    area = (a[1] - a[0]) * (a[3] - a[2]) + (b[1] - b[0]) * (b[3] - b[2]) - inter
    return inter / area if area else 0.0
