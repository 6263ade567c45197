"""One sampled frame to PDQ hashes: the hash canvas, bars removed, centred crops, dihedral hashes.

**The canvas.** Every sampled frame, whatever its size and aspect, is scaled (swscale, area
filter) to a 128 x 128 RGB picture before hashing. PDQ itself squashes any picture to 64 x 64
before its DCT, so the squash loses nothing PDQ would keep, and a copy resized anywhere from
25 % to 400 % (or to another aspect) lands on the same canvas as the original. Measured on a
generated 640x360 film: a re-encoded frame's hash is 0-2 bits from the original's on the canvas
(0-4 at 640 px), a canvas hash costs about 0.25 ms plus 0.12 ms to scale the frame (1.4 ms per
hash at 640 x 360), and that is what pays for sampling references at 8 fps. (A ``gray`` canvas
drifts 7-12 bits, from swscale's own rounding: RGB it is.)

**Bars.** Letterbox and pillarbox bars (uniform rows or columns of any colour at the edges, a
padding to another aspect) are found on the canvas and cut away before hashing, on references
and copies alike, so a padded copy hashes like its original. A bar is a run of at least
:data:`BAR_MIN_ROWS` edge rows (columns) each of standard deviation below :data:`BAR_STD` and
within :data:`BAR_DELTA` of the outermost one's mean, less than :data:`BAR_MAX` of the picture
per side; one more row is cut for the blended edge. A frame flat over more than that keeps its
size (PDQ's quality discards it anyway).

**Variants.** References add centred crops (the picture with a percentage of width and height cut
away); copies add the seven other dihedral hashes (the plane turned and mirrored, then hashed).
"""

from __future__ import annotations

import av
import numpy as np
import pdqhash
from av.video.reformatter import VideoReformatter

from reelrights.media.fingerprint import pdq_native

__all__ = ["BAR_DELTA", "BAR_MAX", "BAR_MIN_ROWS", "BAR_STD", "CANVAS", "DIHEDRAL", "DIHEDRAL_BASE",
           "canvas_luma", "dihedral_hashes", "hash_luma", "scaled_rgb", "strip_bars", "variant_code"]

CANVAS = 128
BAR_STD = 2.0
BAR_DELTA = 3.0
BAR_MIN_ROWS = 2
BAR_MAX = 0.35
DIHEDRAL = pdq_native.DIHEDRAL
#: ``VideoPrint.crop`` codes: 0 is a sampled frame itself, 1..49 a centred crop of that
#: percentage, ``DIHEDRAL_BASE + 8 * j + k`` the k-th dihedral hash (k = 0..7) of the j-th frame
#: after the sample in a burst (j = 0..6; j = k = 0 is code 0).
DIHEDRAL_BASE = 200


def variant_code(j: int, k: int) -> int:
    """The ``crop`` code of dihedral hash ``k`` of burst frame ``j`` (0, 0: the sample itself)."""
    return 0 if j == 0 and k == 0 else DIHEDRAL_BASE + 8 * j + k


def canvas_luma(frame: av.VideoFrame, side: int = CANVAS, scaler: VideoReformatter | None = None) -> np.ndarray:
    """The frame scaled to side x side RGB (area filter), as PDQ's float32 luma. ``scaler``: a
    reformatter kept for a whole video (its swscale context is built once, not per frame)."""
    return luma_of(scaled_rgb(frame, side, side, scaler))


def scaled_rgb(frame: av.VideoFrame, width: int, height: int, scaler: VideoReformatter | None = None) -> np.ndarray:
    """The frame scaled to width x height RGB24 with swscale's area filter, single-threaded.

    A :class:`~av.video.reformatter.VideoReformatter` kept across frames (``scaler``) reuses its
    swscale context; ``frame.reformat`` builds a new one per frame, with a thread pool (PyAV's
    default threads=0). Both give the same pixels (tested); the shared single-threaded one costs
    about 0.3 ms less CPU a sample at 720p."""
    scaler = scaler or VideoReformatter()
    return scaler.reformat(frame, width=width, height=height, format="rgb24", interpolation="AREA",
                           threads=1).to_ndarray()


def luma_of(rgb: np.ndarray) -> np.ndarray:
    if pdq_native.AVAILABLE:
        return pdq_native.luma_from_rgb(rgb)
    r, g, b = (rgb[..., k].astype(np.float32) for k in range(3))
    return 0.299 * r + 0.587 * g + 0.114 * b


def hash_luma(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ of a float32 luma plane: ((32,) packed hash, quality)."""
    if pdq_native.AVAILABLE:
        return pdq_native.hash_luma(luma)
    bits, quality = pdqhash.compute(_grey_rgb(luma))
    return np.packbits(bits.astype(np.uint8)), int(quality)


def dihedral_hashes(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """The eight dihedral hashes of a luma plane, in :data:`DIHEDRAL` order, and the quality.

    Each is the hash of the turned or mirrored plane itself, not the reference C++'s dihedral
    shortcut (:func:`.pdq_native.dihedral_luma`, coefficients permuted from one DCT): PDQ's
    downsampling grid is not symmetric, so the shortcut is 10-14 bits from the true hash of the
    turned picture, and on the 128 px canvas the true hashes cost ~0.1 ms each."""
    views = (luma, np.rot90(luma, 1), np.rot90(luma, 2), np.rot90(luma, -1), luma[::-1], luma[:, ::-1],
             luma.T, np.rot90(luma, 2).T)
    out = [hash_luma(np.ascontiguousarray(v)) for v in views]
    return np.stack([h for h, _ in out]), out[0][1]


def _grey_rgb(luma: np.ndarray) -> np.ndarray:
    g = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(g[..., None], 3, axis=2))


def _edge_run(std: np.ndarray, mean: np.ndarray) -> int:
    """Leading entries that look like a bar: flat, and of the outermost entry's level."""
    limit = int(len(std) * BAR_MAX)
    flat = (std[:limit] < BAR_STD) & (np.abs(mean[:limit] - mean[0]) < BAR_DELTA)
    if flat.all():
        return 0  # flat past any bar's size: a flat picture, not a bar
    n = int(np.argmin(flat))
    return n + 1 if n >= BAR_MIN_ROWS else 0


def _edges_not_flat(luma: np.ndarray) -> bool:
    """True if none of the four outermost lines is flat, so no side can have a bar (a bar starts
    at the edge): the usual frame, told from 4 lines instead of every row's and column's
    statistics. The same numpy reductions over views laid out as :func:`strip_bars`'s (rows
    along axis 1; columns along axis 0 of a strided two-column view: a copied column is summed
    in another order), so bit for bit the same values decide (tested)."""
    if (luma[:: luma.shape[0] - 1].std(axis=1) < BAR_STD).any():
        return False
    return not (luma[:, :: luma.shape[1] - 1].std(axis=0) < BAR_STD).any()


def strip_bars(luma: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """``luma`` without its letterbox/pillarbox bars, and the rows/columns cut (top, bottom,
    left, right). A frame that is flat all over is returned whole."""
    h, w = luma.shape
    if h > 8 and w > 8 and _edges_not_flat(luma):
        return luma, (0, 0, 0, 0)
    rs, rm = luma.std(axis=1), luma.mean(axis=1)
    top, bottom = _edge_run(rs, rm), _edge_run(rs[::-1], rm[::-1])
    if top + bottom >= h - 8:
        return luma, (0, 0, 0, 0)
    inner = luma[top:h - bottom]
    cs, cm = inner.std(axis=0), inner.mean(axis=0)
    left, right = _edge_run(cs, cm), _edge_run(cs[::-1], cm[::-1])
    if left + right >= w - 8:
        return luma, (0, 0, 0, 0)
    return luma[top:h - bottom, left:w - right], (top, bottom, left, right)
