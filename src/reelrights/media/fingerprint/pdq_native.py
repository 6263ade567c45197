"""PDQ hashes straight from Meta's reference C++, as compiled into the pdqhash wheel.

``pdqhash.compute`` converts the picture to luma in numpy (three float64 products and sums over
every pixel) before it calls the C++ hasher: that conversion is about half of its cost on a
640 x 360 frame. The same extension module also carries the reference's own
``fillFloatLumaFromRGB`` and ``pdqHash256FromFloatLuma`` (exported C++ symbols). Calling them
through ctypes:

* converts RGB to float luma once per sampled frame, in C++ (the reference's own coefficients
  0.299 / 0.587 / 0.114), and hashes each crop variant from that one luma plane;
* gives bit-for-bit the hash and quality ``pdqhash.compute`` gives for the same luma (tested),
  and, from RGB, the reference C++ hasher's own result.

If the symbols are missing (another build of pdqhash), :data:`AVAILABLE` is False and callers use
``pdqhash.compute``: the results agree, only the speed differs.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

__all__ = ["AVAILABLE", "DIHEDRAL", "dihedral_luma", "hash_luma", "luma_from_rgb"]

_HASH_SYMBOL = "_ZN8facebook3pdq7hashing23pdqHash256FromFloatLumaEPfS2_iiPA64_fS4_PA16_fRNS1_7Hash256ERi"
_LUMA_SYMBOL = "_ZN8facebook3pdq7hashing20fillFloatLumaFromRGBEPhS2_S2_iiiiPf"
_DIHEDRAL_SYMBOL = ("_ZN8facebook3pdq7hashing33pdqDihedralHash256esFromFloatLumaEPfS2_iiPA64_fS4_PA16_fS6_"
                    "PNS1_7Hash256ES8_S8_S8_S8_S8_S8_S8_Ri")
#: The reference's order of the eight dihedral hashes (pdqDihedralHash256esFromFloatLuma), named
#: by what each is a hash of (checked against hashing the turned picture, tests/media): the
#: picture; turned 90 degrees counter-clockwise, 180, 90 clockwise; upside down (the
#: reference's "flipX"); mirrored left-right ("flipY"); transposed; transposed about the other
#: diagonal. Each is within ~15 bits of hashing the turned picture itself.
DIHEDRAL = ("original", "rot90ccw", "rot180", "rot90cw", "flipud", "fliplr", "transpose", "antitranspose")


def _load() -> tuple[Any, Any, Any]:
    """The reference's hash, luma and dihedral C functions, or Nones where they cannot load."""
    try:
        from pdqhash import bindings

        lib = ctypes.CDLL(bindings.__file__)
        hash_fn = getattr(lib, _HASH_SYMBOL)
        luma_fn = getattr(lib, _LUMA_SYMBOL)
        dihedral_fn = getattr(lib, _DIHEDRAL_SYMBOL)
    except (ImportError, OSError, AttributeError):
        return None, None, None
    p, i = ctypes.c_void_p, ctypes.c_int
    hash_fn.argtypes = [p, p, i, i, p, p, p, p, p]
    hash_fn.restype = None
    luma_fn.argtypes = [p, p, p, i, i, i, i, p]
    luma_fn.restype = None
    dihedral_fn.argtypes = [p, p, i, i, p, p, p, p, *([p] * 8), p]
    dihedral_fn.restype = ctypes.c_bool
    return hash_fn, luma_fn, dihedral_fn


_hash, _luma, _dihedral = _load()
AVAILABLE = _hash is not None

def luma_from_rgb(rgb: np.ndarray) -> np.ndarray:
    """The reference's float32 luma of an (h, w, 3) uint8 RGB picture (any strides)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    out = np.empty((h, w), dtype=np.float32)
    base = rgb.ctypes.data
    _luma(base, base + 1, base + 2, h, w, w * 3, 3, out.ctypes.data)
    return out


def hash_luma(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ of a float32 luma plane: ((32,) uint8 packed big-endian hash, quality 0-100)."""
    h, w = luma.shape
    if h * w > _Scratch.MAX_PIXELS:
        return _hash_luma_once(luma)
    s = _scratch
    s.grow(h * w)
    plane = s.luma[: h * w].reshape(h, w)
    plane[...] = luma  # the hasher filters its input in place: hash a copy
    s.words.fill(0)
    _hash(s.luma_at, s.scratch_at, h, w, *s.fixed_at)
    return _pack(s.words), int(s.quality[0])


class _Scratch(threading.local):
    """One thread's buffers for :func:`hash_luma`, made once and reused, with their addresses
    (numpy's ``.ctypes.data`` costs microseconds each, ten a hash; a reference print makes
    ~70 hashes a second of film). Planes up to :data:`MAX_PIXELS` are copied into ``luma``."""

    MAX_PIXELS = 256 * 256

    def __init__(self) -> None:
        self.b64 = np.empty((64, 64), np.float32)
        self.b16x64 = np.empty((16, 64), np.float32)
        self.b16 = np.empty((16, 16), np.float32)
        self.words = np.zeros(16, np.uint16)
        self.quality = np.zeros(1, np.intc)
        self.fixed_at = tuple(a.ctypes.data for a in (self.b64, self.b16x64, self.b16, self.words, self.quality))
        self.luma = self.scratch = np.empty(0, np.float32)
        self.luma_at = self.scratch_at = 0

    def grow(self, n: int) -> None:
        if n > len(self.luma):
            self.luma, self.scratch = np.empty(n, np.float32), np.empty(n, np.float32)
            self.luma_at, self.scratch_at = self.luma.ctypes.data, self.scratch.ctypes.data


_scratch = _Scratch()


def _hash_luma_once(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`hash_luma` with buffers of its own (large planes: full-resolution vPDQ)."""
    luma = np.array(luma, dtype=np.float32, order="C", copy=True)
    h, w = luma.shape
    scratch = np.empty_like(luma)
    b64 = np.empty((64, 64), np.float32)
    b16x64 = np.empty((16, 64), np.float32)
    b16 = np.empty((16, 16), np.float32)
    words = np.zeros(16, np.uint16)
    quality = ctypes.c_int(0)
    _hash(luma.ctypes.data, scratch.ctypes.data, h, w, b64.ctypes.data, b16x64.ctypes.data,
          b16.ctypes.data, words.ctypes.data, ctypes.addressof(quality))
    return _pack(words), int(quality.value)


def _pack(words: np.ndarray) -> np.ndarray:
    """Meta's packed form of the reference's 16 words: bit k of the hash (bit k & 15 of word
    k >> 4) is bit 255 - k of the packed bytes, i.e. the words' little-endian bytes reversed."""
    return words.astype("<u2").view(np.uint8)[::-1].copy()


def dihedral_luma(luma: np.ndarray) -> tuple[np.ndarray, int]:
    """The eight dihedral PDQ hashes of a float32 luma plane in :data:`DIHEDRAL` order, from one
    downscale and one DCT (the reference computes the others by permuting and negating DCT
    coefficients): ((8, 32) uint8 packed hashes, quality 0-100). Row 0 equals :func:`hash_luma`."""
    luma = np.array(luma, dtype=np.float32, order="C", copy=True)
    h, w = luma.shape
    scratch = np.empty_like(luma)
    b64 = np.empty((64, 64), np.float32)
    b16x64 = np.empty((16, 64), np.float32)
    b16 = np.empty((16, 16), np.float32)
    b16aux = np.empty((16, 16), np.float32)
    words = np.zeros((8, 16), np.uint16)
    quality = ctypes.c_int(0)
    _dihedral(luma.ctypes.data, scratch.ctypes.data, h, w, b64.ctypes.data, b16x64.ctypes.data,
              b16.ctypes.data, b16aux.ctypes.data, *(words[k].ctypes.data for k in range(8)),
              ctypes.addressof(quality))
    return np.stack([_pack(words[k]) for k in range(8)]), int(quality.value)
