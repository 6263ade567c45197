"""What every fingerprint signal shares: the binary envelope, error wrapping, Hamming distances.

Serialized fingerprints are derived data (anyone can recompute them from the file), but they are
stored in the registry and shipped to matchers, so the format is compact, little-endian and
versioned: ``b"RRFP"``, one byte for the signal kind (``V`` video PDQ, ``A`` audio Chromaprint,
``T`` text MinHash, ``L`` landmark print, ``M`` landmark hashes), one byte for the format
version, then the kind's fixed header and raw arrays.
A blob that does not parse raises :class:`reelrights.errors.BadInput` naming what is wrong.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np

from reelrights.errors import BadInput, MediaError

__all__ = ["MAGIC", "BlobReader", "check_file", "hamming_matrix", "media_errors", "pack_header"]

MAGIC = b"RRFP"


def pack_header(kind: bytes, version: int) -> bytes:
    return MAGIC + kind + bytes([version])


class BlobReader:
    """Reads one serialized fingerprint front to back, refusing short or foreign blobs."""

    def __init__(self, blob: bytes, kind: bytes, versions: tuple[int, ...], what: str) -> None:
        self.buf = memoryview(bytes(blob))
        self.what = what
        if len(self.buf) < 6 or bytes(self.buf[:4]) != MAGIC or bytes(self.buf[4:5]) != kind:
            raise BadInput(f"{what} blob: not a reelrights {what} fingerprint (bad magic); recompute it")
        self.version = self.buf[5]
        if self.version not in versions:
            raise BadInput(f"{what} blob: format version {self.version} is not supported; recompute it")
        self.pos = 6

    def unpack(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        self._need(size)
        out = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return out

    def array(self, dtype: str, count: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
        dt = np.dtype(dtype)
        self._need(dt.itemsize * count)
        arr = np.frombuffer(self.buf, dtype=dt, count=count, offset=self.pos).astype(dt.newbyteorder("="))
        self.pos += dt.itemsize * count
        return arr.reshape(shape) if shape else arr

    def raw(self, size: int) -> bytes:
        self._need(size)
        out = bytes(self.buf[self.pos : self.pos + size])
        self.pos += size
        return out

    def done(self) -> None:
        if self.pos != len(self.buf):
            raise BadInput(f"{self.what} blob: {len(self.buf) - self.pos} trailing bytes; recompute it")

    def _need(self, size: int) -> None:
        if self.pos + size > len(self.buf):
            raise BadInput(f"{self.what} blob: truncated at byte {self.pos}; recompute it")


@contextmanager
def media_errors(path: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Turn PyAV/OS/ctypes failures while reading ``path`` into one-line MediaErrors naming it."""
    p = str(path)
    try:
        yield
    except MediaError:
        raise
    except FileNotFoundError:
        raise MediaError(f"{p}: file not found; check the path", path=p) from None
    except (av.FFmpegError, OSError, EOFError, ValueError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MediaError(
            f"{p}: cannot decode {what} ({reason}); the file is corrupt, truncated or not {what}: re-export it",
            path=p,
        ) from None


def check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{p}: file not found; check the path", path=str(p))
    if p.stat().st_size == 0:
        raise MediaError(f"{p}: the file is empty; re-export it", path=str(p))
    return p


def hamming_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between packed bit rows: (n, k) x (m, k) uint8 -> (n, m) int32.

    A brute-force reference for small sets (tests, signal distance); the index module does the
    fast search at scale."""
    a = np.ascontiguousarray(a, dtype=np.uint8)
    b = np.ascontiguousarray(b, dtype=np.uint8)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise BadInput(f"hamming_matrix: shapes {a.shape} and {b.shape} do not match; pass (n, k) and (m, k) uint8")
    aw = a.view(np.uint64) if a.shape[1] % 8 == 0 else a
    bw = b.view(np.uint64) if b.shape[1] % 8 == 0 else b
    return np.bitwise_count(aw[:, None, :] ^ bw[None, :, :]).sum(axis=2, dtype=np.int32)
