"""Audio fingerprints: raw Chromaprint sub-fingerprints, and a reference alignment by bit error rate.

Why Chromaprint: it is the open fingerprint behind AcoustID (tens of millions of recordings), its
32-bit sub-fingerprints survive lossy re-encoding (WAV vs MP3 differ in well under 1 % of bits),
and an excerpt can be located by sliding it over the reference and counting differing bits.

Decoding: PyAV decodes any file's first audio stream (also a film's soundtrack) and FFmpeg's
resampler converts it to 16-bit mono at 11,025 Hz, Chromaprint's internal rate, so libchromaprint
(through pyacoustid's ``chromaprint`` ctypes module) does no resampling of its own. The raw
uint32 sub-fingerprints are read with ``chromaprint_get_raw_fingerprint`` (no base64 round trip).
One item covers :attr:`AudioPrint.item_ms` (about 123.8 ms: a hop of 1,365 samples at 11,025 Hz).
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import chromaprint
import numpy as np

from reelrights.errors import BadInput, MediaError
from reelrights.media.fingerprint.base import BlobReader, check_file, media_errors, pack_header

__all__ = ["CHROMAPRINT_RATE", "AudioPrint", "Chromaprinter", "best_alignment", "bit_error_rate", "fingerprint_audio",
           "fingerprint_soundtrack"]

CHROMAPRINT_RATE = 11025
_KIND, _VERSION = b"A", 1
_lib = chromaprint._libchromaprint
_lib.chromaprint_get_raw_fingerprint.argtypes = (
    ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_uint32)), ctypes.POINTER(ctypes.c_int),
)  # fmt: skip
_lib.chromaprint_get_raw_fingerprint.restype = ctypes.c_int
_lib.chromaprint_get_item_duration_ms.argtypes = (ctypes.c_void_p,)
_lib.chromaprint_get_item_duration_ms.restype = ctypes.c_int
_lib.chromaprint_get_item_duration.argtypes = (ctypes.c_void_p,)
_lib.chromaprint_get_item_duration.restype = ctypes.c_int


@dataclass(frozen=True, eq=False)
class AudioPrint:
    """Chromaprint sub-fingerprints of one recording: ``items[k]`` describes the audio around
    ``k * item_ms`` milliseconds; ``duration_ms`` is the length of the decoded audio."""

    items: np.ndarray
    item_ms: float
    duration_ms: int

    def __len__(self) -> int:
        return int(self.items.shape[0])

    def to_bytes(self) -> bytes:
        head = struct.pack("<Idq", len(self), self.item_ms, self.duration_ms)
        return pack_header(_KIND, _VERSION) + head + np.ascontiguousarray(self.items, dtype="<u4").tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> AudioPrint:
        r = BlobReader(blob, _KIND, (_VERSION,), "audio")
        n, item_ms, duration_ms = r.unpack("<Idq")
        items = r.array("<u4", n)
        r.done()
        return cls(items, item_ms, duration_ms)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioPrint):
            return NotImplemented
        return (self.item_ms, self.duration_ms) == (other.item_ms, other.duration_ms) and np.array_equal(
            self.items, other.items
        )

    __hash__ = None  # type: ignore[assignment]


def fingerprint_audio(path: str | os.PathLike[str], *,
                      tap: Callable[[np.ndarray], None] | None = None) -> AudioPrint:
    """Chromaprint (default algorithm, TEST2 as fpcalc uses) of the first audio stream of
    ``path``, decoded by streaming. Audio shorter than about 3 s gives few or no items.
    ``tap``, if given, is also handed every decoded piece (int16 mono at 11,025 Hz), so another
    signal (landmarks: :class:`.landmarks.LandmarkStream`) is computed in the same decode."""
    p = check_file(path)
    out = _chromaprint(p, tap)
    if out is None:
        raise MediaError(f"{p}: has no audio stream; pick a file with sound", path=str(p))
    return out


def fingerprint_soundtrack(path: str | os.PathLike[str], *,
                           tap: Callable[[np.ndarray], None] | None = None) -> AudioPrint | None:
    """:func:`fingerprint_audio` of a film: None when it has no audio stream. One opening of the
    file, not two (a check, then the print): opening probes the streams, which for a 720p H.264
    film costs about as much CPU as the soundtrack's landmark print (~20 ms)."""
    return _chromaprint(check_file(path), tap)


def _chromaprint(p: Path, tap: Callable[[np.ndarray], None] | None) -> AudioPrint | None:
    with media_errors(p, "audio"), Chromaprinter(p, tap) as sink, av.open(str(p)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        sink.start(stream)
        for frame in container.decode(stream):
            sink.feed(frame)
        return sink.finish()


class Chromaprinter:
    """Chromaprint of one audio stream fed frame by frame: :func:`fingerprint_audio`'s decode
    loop, or a film's picture pass (:func:`.video.fingerprint_video`'s ``sound``), which then
    decodes the soundtrack in its own demux of the file (one opening, one read, not two).

    ``start(stream)`` when the file has an audio stream, ``feed`` each of its decoded frames,
    ``finish()`` for the print (None if never started); ``tap`` as for :func:`fingerprint_audio`.
    Use as a context manager (frees libchromaprint's context)."""

    def __init__(self, path: Path, tap: Callable[[np.ndarray], None] | None = None) -> None:
        self.path, self.tap = path, tap
        self.samples = 0
        self.resampler: av.AudioResampler | None = None
        self.ctx = _lib.chromaprint_new(chromaprint.Fingerprinter.ALGORITHM_DEFAULT)
        if not self.ctx:
            raise MediaError(f"{path}: libchromaprint could not allocate a context; check its install", path=str(path))

    def __enter__(self) -> Chromaprinter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.ctx:
            _lib.chromaprint_free(self.ctx)
            self.ctx = None

    def start(self, stream: av.AudioStream) -> None:
        if _lib.chromaprint_start(self.ctx, CHROMAPRINT_RATE, 1) != 1:
            raise MediaError(f"{self.path}: libchromaprint refused to start; check its install", path=str(self.path))
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=CHROMAPRINT_RATE)

    def feed(self, frame: av.AudioFrame) -> None:
        assert self.resampler is not None, "start() first"
        for chunk in self.resampler.resample(frame):
            self.samples += _feed(self.ctx, chunk, self.tap)

    def finish(self) -> AudioPrint | None:
        if self.resampler is None:
            return None
        p = self.path
        for chunk in self.resampler.resample(None):
            self.samples += _feed(self.ctx, chunk, self.tap)
        if self.samples == 0:
            raise MediaError(f"{p}: no decodable audio; the file is corrupt or truncated: re-export it", path=str(p))
        if _lib.chromaprint_finish(self.ctx) != 1:
            raise MediaError(f"{p}: libchromaprint could not finish the fingerprint", path=str(p))
        items = _raw_items(self.ctx)
        item_ms = 1000.0 * _lib.chromaprint_get_item_duration(self.ctx) / CHROMAPRINT_RATE
        return AudioPrint(items=items, item_ms=item_ms, duration_ms=round(1000 * self.samples / CHROMAPRINT_RATE))


def _feed(ctx: int, chunk: av.AudioFrame, tap: Callable[[np.ndarray], None] | None = None) -> int:
    pcm = np.ascontiguousarray(chunk.to_ndarray().reshape(-1), dtype=np.int16)
    if tap is not None:
        tap(pcm)
    if len(pcm) and _lib.chromaprint_feed(ctx, pcm.ctypes.data_as(ctypes.POINTER(ctypes.c_char)), len(pcm)) != 1:
        raise RuntimeError("libchromaprint rejected the audio data")
    return len(pcm)


def _raw_items(ctx: int) -> np.ndarray:
    ptr = ctypes.POINTER(ctypes.c_uint32)()
    size = ctypes.c_int()
    if _lib.chromaprint_get_raw_fingerprint(ctx, ctypes.byref(ptr), ctypes.byref(size)) != 1:
        raise RuntimeError("libchromaprint returned no fingerprint")
    try:
        if size.value <= 0:
            return np.zeros(0, dtype=np.uint32)
        return np.ctypeslib.as_array(ptr, shape=(size.value,)).astype(np.uint32, copy=True)
    finally:
        _lib.chromaprint_dealloc(ptr)


def bit_error_rate(a_items: np.ndarray, b_items: np.ndarray, offset: int) -> float:
    """The share of differing bits where ``a_items[i]`` lies over ``b_items[i + offset]``
    (``offset`` may be negative), over the overlap only. 0.0 is identical audio, about 0.5
    unrelated audio; 1.0 if the two do not overlap at all."""
    a = np.asarray(a_items, dtype=np.uint32)
    b = np.asarray(b_items, dtype=np.uint32)
    lo, hi = max(0, -offset), min(len(a), len(b) - offset)
    if hi <= lo:
        return 1.0
    diff = np.bitwise_count(a[lo:hi] ^ b[lo + offset : hi + offset])
    return float(diff.sum(dtype=np.int64)) / (32.0 * (hi - lo))


def best_alignment(query: np.ndarray, reference: np.ndarray, max_offset: int | None = None) -> tuple[int, float]:
    """Slide ``query`` over ``reference`` and return (offset, BER) of the lowest bit error rate,
    where ``query[i]`` lies over ``reference[i + offset]``. Offsets range over ``[-max_offset,
    max_offset]`` (default: every offset leaving an overlap of at least half the shorter print).
    Brute force, O(len(query) x offsets): the correct reference the fast index search is tested
    against. Ties go to the smallest absolute offset."""
    q = np.asarray(query, dtype=np.uint32)
    r = np.asarray(reference, dtype=np.uint32)
    if not len(q) or not len(r):
        raise BadInput("best_alignment: an empty print cannot be aligned; the audio is too short (< ~3 s)")
    min_overlap = max(1, min(len(q), len(r)) // 2)
    lo, hi = -(len(q) - min_overlap), len(r) - min_overlap
    if max_offset is not None:
        lo, hi = max(lo, -max_offset), min(hi, max_offset)
    best = (1.0, 0, 0)
    for off in range(lo, hi + 1):
        ber = bit_error_rate(q, r, off)
        key = (ber, abs(off), off)
        if key < best:
            best = key
    return best[2], best[0]
