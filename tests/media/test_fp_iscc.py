"""ISCC Image-Code (io.iscc.v0): the normalisation reproduces iscc-sdk's (Pillow) exactly on
PNG, transparency is filled white, EXIF orientation is applied, and only 64-bit Image-Codes are
accepted as prints."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from reelrights.errors import MediaError
from reelrights.media import synth
from reelrights.media.fingerprint.iscc import IsccPrint, _exif_orientation, image_code
from reelrights.media.fingerprint.stills import load_rgb

# Computed with iscc-sdk's normalisation (Pillow 13: exif_transpose, alpha_composite over
# white, convert("L"), resize((32, 32), BICUBIC)) and iscc_core.gen_image_code_v0 1.5.0, on the
# very files these tests write.
VECTORS = {"s1": "ISCC:EEA3GCC3GLOSE7UZ", "s2": "ISCC:EEA2GPB4YPBTYR6D",
           "alpha": "ISCC:EEA76V22SJSKQ5EB"}


def _write(path: Path, pixels: np.ndarray, fmt: str) -> Path:
    with av.open(str(path), "w", format="image2") as out:
        s = out.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = pixels.shape[1], pixels.shape[0], fmt
        for p in [*s.encode(av.VideoFrame.from_ndarray(pixels, format=fmt)), *s.encode()]:
            out.mux(p)
    return path


def _jpeg(rgb: np.ndarray, orientation: int | None = None) -> bytes:
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt, enc.time_base = rgb.shape[1], rgb.shape[0], "yuvj420p", \
        Fraction(1, 1)
    f = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(
        format="yuvj420p")
    f.pts = 0
    data = b"".join(bytes(p) for p in [*enc.encode(f), *enc.encode(None)])
    if orientation is None:
        return data
    tiff = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 1) \
        + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    app1 = b"Exif\0\0" + tiff
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]


def _bits(a: IsccPrint, b: IsccPrint) -> int:
    return (a.body ^ b.body).bit_count()


def test_codes_equal_iscc_sdk_normalisation(tmp_path: Path) -> None:
    s1 = synth.make_image(tmp_path / "s1.png", size=(128, 96), seed=3)
    s2 = synth.make_image(tmp_path / "s2.png", size=(300, 200), seed=11)
    h, w = 90, 120
    y, x = np.mgrid[0:h, 0:w]
    rgba = np.dstack([(x * 2) % 256, (y * 3) % 256, ((x + y) * 5) % 256,
                      x * 255 // (w - 1)]).astype(np.uint8)
    alpha = _write(tmp_path / "alpha.png", rgba, "rgba")
    got = {"s1": image_code(s1).iscc, "s2": image_code(s2).iscc, "alpha": image_code(alpha).iscc}
    assert got == VECTORS
    # transparency counts as white: the same picture without its alpha gives another code
    assert image_code(_write(tmp_path / "opaque.png", np.ascontiguousarray(rgba[..., :3]),
                             "rgb24")).iscc != VECTORS["alpha"]


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    upright = load_rgb(synth.make_image(tmp_path / "u.png", size=(160, 96), seed=21))
    (tmp_path / "u.jpg").write_bytes(_jpeg(upright))
    # stored turned a quarter anticlockwise; orientation 6 says "rotate 90 clockwise to show"
    (tmp_path / "r6.jpg").write_bytes(_jpeg(np.rot90(upright, 1), 6))
    (tmp_path / "r0.jpg").write_bytes(_jpeg(np.rot90(upright, 1)))
    assert _exif_orientation(tmp_path / "r6.jpg") == 6 and _exif_orientation(tmp_path / "u.jpg") == 1
    base = image_code(tmp_path / "u.jpg")
    assert _bits(image_code(tmp_path / "r6.jpg"), base) <= 4
    assert _bits(image_code(tmp_path / "r0.jpg"), base) > 8  # without the tag: another picture


def test_only_image_codes_are_prints(tmp_path: Path) -> None:
    import iscc_core as ic

    code = image_code(synth.make_image(tmp_path / "s.png", size=(64, 64), seed=1))
    assert IsccPrint.from_bytes(code.to_bytes()) == code and len(code.to_bytes()) == 10
    assert IsccPrint.parse(code.iscc) == code
    text = ic.gen_text_code_v0("a few words of text", bits=64)["iscc"]
    with pytest.raises(ValueError, match="Image-Code"):
        IsccPrint.parse(text)
    with pytest.raises(ValueError):
        IsccPrint.from_bytes(b"\x00\x01")
    with pytest.raises(ValueError, match="not an ISCC"):
        IsccPrint.parse("ISCC:not-a-code!")
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    with pytest.raises(MediaError):
        image_code(tmp_path / "bad.png")
