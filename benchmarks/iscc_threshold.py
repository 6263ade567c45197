"""The Hamming threshold for ISCC Image-Code (``io.iscc.v0``) soft-binding lookups.

Generated pictures (synth images and film frames, 320 x 240, as benchmarks/recovery_robustness.py
uses) are hashed, then copies of them (lossless re-encode, JPEG at a low quality + resize 50 %,
resize 50 %, crops) are hashed; the distance of each copy to its original is compared with the
distances between unrelated pictures (every pair). Prints the distributions and, per candidate
threshold, the share of copies found and of unrelated pairs that would match.

    PYTHONPATH=src python benchmarks/iscc_threshold.py [--pictures 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import iscc_core as ic
import numpy as np

from reelrights.media import synth
from reelrights.media.fingerprint.iscc import IsccPrint, normalise
from reelrights.media.fingerprint.stills import load_rgb


def code(rgb: np.ndarray) -> int:
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    return IsccPrint.parse(ic.gen_image_code_v0(normalise(rgba).tolist(), bits=64)["iscc"]).body


def jpeg(rgb: np.ndarray, q: int, half: bool) -> np.ndarray:
    h, w = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:h, :w]), format="rgb24")
    if half:
        frame = frame.reformat(width=w // 2, height=h // 2)
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt, enc.time_base = frame.width, frame.height, "yuvj420p", \
        Fraction(1, 1)
    enc.qmin = enc.qmax = q
    f = frame.reformat(format="yuvj420p")
    f.pts = 0
    data = b"".join(bytes(p) for p in [*enc.encode(f), *enc.encode(None)])
    return av.CodecContext.create("mjpeg", "r").decode(av.Packet(data))[0].to_ndarray(format="rgb24")


def half(rgb: np.ndarray) -> np.ndarray:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(width=rgb.shape[1] // 2, height=rgb.shape[0] // 2).to_ndarray(
        format="rgb24")


def crop(rgb: np.ndarray, f: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[round(h * f):h - round(h * f), round(w * f):w - round(w * f)]


CASES = {
    "JPEG q2 (about quality 90)": lambda x: jpeg(x, 2, False),
    "resize 50 %": half,
    "JPEG q10 + resize 50 %": lambda x: jpeg(x, 10, True),
    "JPEG q20 + resize 50 %": lambda x: jpeg(x, 20, True),
    "crop centred 5 %": lambda x: crop(x, 0.025),
    "crop centred 10 %": lambda x: crop(x, 0.05),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pictures", type=int, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pics = []
        for i in range(args.pictures):
            if i % 2:
                pics.append(load_rgb(synth.make_image(root / f"p{i}.png", size=(320, 240),
                                                      seed=600 + i)))
            else:
                pics.append(load_rgb(synth.make_film(root / f"f{i}.mp4", seconds=1.0, fps=4,
                                                     size=(320, 240), scenes=1, seed=700 + i,
                                                     captions=True)))
    codes = np.array([code(p) for p in pics], dtype=np.uint64)
    x = codes[:, None] ^ codes[None, :]
    bits = np.unpackbits(x.view(np.uint8), axis=-1).reshape(len(codes), len(codes), 64).sum(-1)
    unrelated = bits[np.triu_indices(len(codes), 1)]
    print(f"# {len(pics)} generated pictures (320 x 240), {len(unrelated)} unrelated pairs")
    print(f"unrelated: min {unrelated.min()}, 1st percentile {np.percentile(unrelated, 1):.0f}, "
          f"median {np.median(unrelated):.0f}")
    thresholds = (4, 6, 8, 10, 12, 14, 16)
    print("| copy | max | median | " + " | ".join(f"<= {t}" for t in thresholds) + " |")
    print("|---|---|---|" + "---|" * len(thresholds))
    for case, f in CASES.items():
        d = np.array([bin(code(f(p)) ^ int(c)).count("1") for p, c in zip(pics, codes,
                                                                          strict=True)])
        print(f"| {case} | {d.max()} | {np.median(d):.0f} | "
              + " | ".join(f"{np.mean(d <= t):.2f}" for t in thresholds) + " |")
    print("| unrelated pairs (false matches) | | | "
          + " | ".join(f"{np.mean(unrelated <= t):.4f}" for t in thresholds) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
