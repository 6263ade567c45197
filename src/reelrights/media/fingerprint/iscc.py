"""The ISCC Image-Code (ISO 24138, ``io.iscc.v0`` on the C2PA soft-binding list) of a still.

``iscc_core.gen_image_code_v0`` takes 1,024 normalised grayscale pixels. The normalisation is
iscc-sdk's (``image_normalize``), written here with PyAV and numpy so that neither iscc-sdk nor
Pillow is needed:

1. EXIF transpose: the JPEG's orientation tag (0x0112) is applied;
2. transparency filled white: alpha composited over an opaque white background;
3. grayscale as Pillow's ``convert("L")``: ``(19595 R + 38470 G + 7471 B + 2**15) >> 16``;
4. 32 x 32 bicubic as Pillow's ``resize(BICUBIC)``: a separable, antialiased convolution (the
   kernel, a = -0.5, widened by the scale factor), 22-bit fixed-point weights, horizontal pass
   then vertical, each rounded and clipped to 8 bits.

The code is a 2-byte ISCC header and a 64-bit body (the similarity hash compared by Hamming
distance). :class:`IsccPrint` is what ``output_prints`` stores as kind ``iscc``.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import BadInput, MediaError

__all__ = ["ALG", "IsccPrint", "image_code", "image_pixels", "normalise"]

ALG = "io.iscc.v0"
_PRECISION = 22  # Pillow's PRECISION_BITS for 8-bit resampling


@dataclass(frozen=True)
class IsccPrint:
    """One ISCC Image-Code: ``code`` is its bytes (header + 64-bit body)."""

    code: bytes

    @property
    def iscc(self) -> str:
        import iscc_core

        return "ISCC:" + iscc_core.encode_base32(self.code)

    @property
    def body(self) -> int:
        return int.from_bytes(self.code[2:], "big")

    def to_bytes(self) -> bytes:
        return self.code

    @classmethod
    def from_bytes(cls, data: bytes) -> IsccPrint:
        """Refuses anything but a 64-bit ISCC Content-Code of subtype Image (ValueError)."""
        import iscc_core as ic

        data = bytes(data)
        try:
            mt, st, _, length, body = ic.decode_header(data)
        except Exception as e:  # iscc_core raises bare exceptions on a bad header
            raise ValueError(f"not an ISCC code: {e}") from None
        if (mt, st, length) != (ic.MT.CONTENT, ic.ST_CC.IMAGE, 1) or len(body) != 8:
            raise ValueError("not a 64-bit ISCC Image-Code")
        return cls(data[:2] + bytes(body))

    @classmethod
    def parse(cls, value: str) -> IsccPrint:
        """An ISCC Image-Code given as its canonical string (``ISCC:EEA…``)."""
        import iscc_core as ic

        try:
            raw = ic.decode_base32(ic.iscc_clean(ic.iscc_normalize(value)))
        except Exception:
            raise ValueError(f"{value[:40]!r} is not an ISCC code") from None
        return cls.from_bytes(raw)


def image_code(path: str | os.PathLike[str]) -> IsccPrint:
    """The ISCC Image-Code of the first picture of ``path``."""
    import iscc_core as ic

    code = ic.gen_image_code_v0(image_pixels(path).tolist(), bits=64)["iscc"]
    return IsccPrint.parse(code)


def image_pixels(path: str | os.PathLike[str]) -> np.ndarray:
    """The 1,024 normalised pixels (uint8, row-major) of ``path``'s first picture."""
    import av

    from .base import check_file, media_errors

    p = check_file(path)
    with media_errors(p, "image"), av.open(str(p)) as container:
        for frame in container.decode(video=0):
            rgba = frame.to_ndarray(format="rgba")
            break
        else:
            raise MediaError(f"{p}: no picture in the file; re-export it", path=str(p))
    return normalise(rgba, _exif_orientation(p))


def normalise(rgba: np.ndarray, orientation: int = 1) -> np.ndarray:
    """iscc-sdk's normalisation of an (h, w, 4) uint8 RGBA picture: 1,024 uint8 pixels."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or min(rgba.shape[:2]) < 1:
        raise BadInput("an ISCC Image-Code needs an RGBA picture")
    rgba = _transpose(rgba, orientation)
    if (rgba[..., 3] != 255).any():
        # Image.alpha_composite over opaque white, in Pillow's fixed point (7 bits, /255).
        a = rgba[..., 3:4].astype(np.int64)
        t = 128 * (rgba[..., :3].astype(np.int64) * a + 255 * (255 - a)) + (0x80 << 7)
        rgb = ((((t >> 8) + t) >> 8) >> 7).astype(np.uint32)
    else:
        rgb = rgba[..., :3].astype(np.uint32)
    gray = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
    out = _resample(_resample(gray.astype(np.float64), 32, axis=1), 32, axis=0)
    return out.astype(np.uint8).reshape(-1)


def _bicubic(x: np.ndarray) -> np.ndarray:
    a = -0.5
    x = np.abs(x)
    return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1,
                    np.where(x < 2.0, (((x - 5) * x + 8) * x - 4) * a, 0.0))


def _weights(in_size: int, out_size: int) -> np.ndarray:
    """Pillow's ``precompute_coeffs`` + ``normalize_coeffs_8bpc``: (out, in) integer weights."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    w = np.zeros((out_size, in_size))
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size)
        k = _bicubic((np.arange(xmin, xmax) - center + 0.5) / filterscale)
        total = k.sum()
        if total != 0:
            k = k / total
        w[xx, xmin:xmax] = k
    return np.where(w < 0, np.trunc(-0.5 + w * (1 << _PRECISION)),
                    np.trunc(0.5 + w * (1 << _PRECISION)))


def _resample(img: np.ndarray, size: int, axis: int) -> np.ndarray:
    """One pass along ``axis``; float64 holds the integer sums exactly (< 2**40)."""
    if img.shape[axis] == size:
        return img
    w = _weights(img.shape[axis], size)
    acc = img @ w.T if axis == 1 else w @ img
    acc = np.floor((acc + (1 << (_PRECISION - 1))) / (1 << _PRECISION))
    return np.clip(acc, 0, 255)


def _transpose(img: np.ndarray, orientation: int) -> np.ndarray:
    """Pillow's ``ImageOps.exif_transpose`` for orientations 2-8."""
    ops = {2: lambda m: m[:, ::-1], 3: lambda m: m[::-1, ::-1], 4: lambda m: m[::-1],
           5: lambda m: m.transpose(1, 0, 2), 6: lambda m: np.rot90(m, -1),
           7: lambda m: m[::-1, ::-1].transpose(1, 0, 2), 8: lambda m: np.rot90(m, 1)}
    op = ops.get(orientation)
    return np.ascontiguousarray(op(img)) if op else img


def _exif_orientation(path: Path) -> int:
    """The EXIF orientation of a JPEG (1 when there is none or the file is not a JPEG)."""
    try:
        with open(path, "rb") as f:
            head = f.read(256 * 1024)
    except OSError:
        return 1
    if head[:2] != b"\xff\xd8":
        return 1
    i = 2
    while i + 4 <= len(head) and head[i] == 0xFF:
        marker, size = head[i + 1], struct.unpack(">H", head[i + 2:i + 4])[0]
        if marker == 0xE1 and head[i + 4:i + 10] == b"Exif\0\0":
            return _tiff_orientation(head[i + 10:i + 2 + size])
        if marker in (0xDA, 0xD9):
            break
        i += 2 + size
    return 1


def _tiff_orientation(tiff: bytes) -> int:
    try:
        end = {b"II": "<", b"MM": ">"}[tiff[:2]]
        (ifd,) = struct.unpack(end + "I", tiff[4:8])
        (n,) = struct.unpack(end + "H", tiff[ifd:ifd + 2])
        for k in range(n):
            at = ifd + 2 + 12 * k
            tag, typ, _count = struct.unpack(end + "HHI", tiff[at:at + 8])
            if tag == 0x0112 and typ == 3:
                (value,) = struct.unpack(end + "H", tiff[at + 8:at + 10])
                return value if 1 <= value <= 8 else 1
    except (KeyError, struct.error):
        pass
    return 1
