"""Fast mode finds copies made the way training pipelines make them: one case per transformation
family, on a generated film with pans, zooms, cuts and captions, transformed in numpy and
re-encoded with PyAV (benchmarks/scan_robustness.py measures each family at several strengths
with ffmpeg, 60 copies each). Every copy must match the film through the scan's own matcher,
with its time ranges within 1 s of the truth; an unrelated film must match nothing."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from reelrights.evidence.scan_video import match_video
from reelrights.media.fingerprint import (
    COPY_BURST,
    REFERENCE_CROPS,
    REFERENCE_FPS,
    VideoPrint,
    fingerprint_video,
)
from reelrights.media.fingerprint.frames import strip_bars
from reelrights.media.index import PDQIndex
from reelrights.media.synth import make_film

SIZE, FPS = (480, 272), 24
Frame = Callable[[np.ndarray], np.ndarray]


def transform(src: Path, dst: Path, fn: Frame | None = None, *, start: float = 0.0, duration: float = 10.0,
              speed: float = 1.0, before: Path | None = None, after: Path | None = None) -> Path:
    """``duration`` s of ``src`` from ``start`` at ``speed``, each frame through ``fn``, re-encoded
    at 24 fps; ``before``/``after`` prepend/append 8 s of other films (a compilation)."""
    def frames(path: Path) -> list[np.ndarray]:
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]

    clip = frames(src)
    picked = [clip[min(len(clip) - 1, round((start + i / FPS * speed) * FPS))] for i in range(round(duration * FPS))]
    pics = [fn(p) if fn else p for p in picked]
    pics = (frames(before)[: 8 * FPS] if before else []) + pics + (frames(after)[: 8 * FPS] if after else [])
    h, w = pics[0].shape[:2]
    with av.open(str(dst), "w") as out:
        s = out.add_stream("libx264", rate=Fraction(FPS))
        s.width, s.height, s.pix_fmt = w & ~1, h & ~1, "yuv420p"
        for i, p in enumerate(pics):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(p[: h & ~1, : w & ~1]), format="rgb24")
            f = f.reformat(format="yuv420p")
            f.pts = i
            out.mux(s.encode(f))
        out.mux(s.encode(None))
    return dst


def resize(f: float) -> Frame:
    def fn(p: np.ndarray) -> np.ndarray:
        h, w = p.shape[:2]
        frame = av.VideoFrame.from_ndarray(p, format="rgb24")
        return frame.reformat(width=round(w * f) & ~1, height=round(h * f) & ~1, interpolation="AREA").to_ndarray()
    return fn


def crop(c: float) -> Frame:
    def fn(p: np.ndarray) -> np.ndarray:
        h, w = p.shape[:2]
        dy, dx = round(h * c / 2), round(w * c / 2)
        return p[dy:h - dy, dx:w - dx]
    return fn


def letterbox(p: np.ndarray) -> np.ndarray:  # 2.35:1 picture in a 16:9 frame
    h, w = p.shape[:2]
    small = av.VideoFrame.from_ndarray(p, format="rgb24").reformat(width=w, height=round(w / 2.35) & ~1).to_ndarray()
    out = np.zeros_like(p)
    y0 = (h - small.shape[0]) // 2
    out[y0:y0 + small.shape[0]] = small
    return out


def pillarbox(p: np.ndarray) -> np.ndarray:  # 4:3 picture, grey bars
    h, w = p.shape[:2]
    small = av.VideoFrame.from_ndarray(p, format="rgb24").reformat(width=round(h * 4 / 3) & ~1, height=h).to_ndarray()
    out = np.full_like(p, 128)
    x0 = (w - small.shape[1]) // 2
    out[:, x0:x0 + small.shape[1]] = small
    return out


CASES: dict[str, tuple[dict, str]] = {  # family -> (transform arguments, expected geometry)
    "offset (excerpt from 5.37 s)": (dict(start=5.37), "none"),
    "speed x1.1": (dict(start=2.2, speed=1.1), "none"),
    "speed x0.9": (dict(start=3.1, speed=0.9), "none"),
    "re-encode + resize 25 %": (dict(start=1.6, fn=resize(0.25)), "none"),
    "resize 300 %": (dict(start=4.05, fn=resize(3.0)), "none"),
    "flip horizontal": (dict(start=2.5, fn=lambda p: p[:, ::-1]), "flipped horizontally"),
    "flip vertical": (dict(start=6.3, fn=lambda p: p[::-1]), "flipped vertically"),
    "rotate 90 clockwise": (dict(start=0.4, fn=lambda p: np.rot90(p, -1)), "rotated 90 clockwise"),
    "letterbox 2.35:1": (dict(start=3.3, fn=letterbox), "none"),
    "pillarbox 4:3": (dict(start=7.7, fn=pillarbox), "none"),
    "centred crop 10 %": (dict(start=1.1, fn=crop(0.10)), "none"),
    "compilation: 5 s inside 21 s": (dict(start=8.45, duration=5.0, compilation=True), "none"),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("robust")
    film = make_film(d / "film.mp4", seconds=20, fps=FPS, size=SIZE, scenes=4, seed=1201, zoom=0.3, captions=True)
    others = [make_film(d / f"other{i}.mp4", seconds=10, fps=FPS, size=SIZE, scenes=2, seed=1300 + i)
              for i in range(2)]
    index = PDQIndex.open(d / "pdq")
    prints: dict[int, tuple[str, str, VideoPrint]] = {}
    for seq, (name, path) in enumerate([("film", film), ("other0", others[0])], start=1):
        p = fingerprint_video(path, fps=REFERENCE_FPS, crop_variants=REFERENCE_CROPS)
        keep = np.flatnonzero(p.quality >= 50)
        index.add(np.ascontiguousarray(p.hashes[keep]), (np.int64(seq) << 24) | keep.astype(np.int64))
        prints[seq] = (name, "video", p)
    index.flush()
    return {"dir": d, "film": film, "others": others, "index": index, "prints": prints}


def scan(world: dict, path: Path) -> list[dict]:
    q = fingerprint_video(path, dihedral=True, burst=COPY_BURST)
    return match_video(None, world["index"], q, loader=lambda seqs: {s: world["prints"][s] for s in seqs})


@pytest.mark.parametrize("family", list(CASES))
def test_each_transformation_family_is_found_with_its_time_ranges(world: dict, family: str) -> None:
    args, geometry = CASES[family]
    args = dict(args)
    compilation = args.pop("compilation", False)
    if compilation:
        args.update(before=world["others"][1], after=world["others"][1])
    dst = transform(world["film"], world["dir"] / f"copy-{abs(hash(family))}.mp4", **args)
    start, speed, duration = args.get("start", 0.0), args.get("speed", 1.0), args.get("duration", 10.0)
    [m] = scan(world, dst)  # the film, and nothing else
    assert m["sha256"] == "film" and m["geometry"] == geometry, m
    assert m["rule"] == ("segment" if compilation else "share"), m
    # (a 10 % corner logo is not found in fast mode: benchmarks/scan_robustness.py, docs/scan.md)
    r = max(m["ranges"], key=lambda r: r["query_end_ms"] - r["query_start_ms"])
    q0 = 8.0 if compilation else 0.0
    truth = (q0, q0 + duration, start, start + duration * speed)
    got = (r["query_start_ms"] / 1000, r["query_end_ms"] / 1000, r["ref_start_ms"] / 1000, r["ref_end_ms"] / 1000)
    assert max(abs(a - b) for a, b in zip(got, truth, strict=True)) <= 1.0, (got, truth)
    if speed != 1.0:
        assert abs(r["rate"] - speed) <= 0.05, r


def test_an_unrelated_film_and_its_flips_match_nothing(world: dict) -> None:
    other = world["others"][1]
    assert scan(world, other) == []
    assert scan(world, transform(other, world["dir"] / "other-flipped.mp4", lambda p: p[:, ::-1])) == []


def test_bars_are_cut_and_plain_pictures_are_not() -> None:
    rng = np.random.default_rng(5)
    pic = rng.uniform(0, 255, (100, 128)).astype(np.float32)
    framed = np.vstack([np.zeros((14, 128), np.float32), pic, np.full((14, 128), 3.0, np.float32)])
    inner, cut = strip_bars(framed)
    assert cut == (15, 15, 0, 0) and inner.shape == (98, 128)  # one more row for the blended edge
    side = np.hstack([np.full((128, 20), 128.0, np.float32), rng.uniform(0, 255, (128, 88)).astype(np.float32),
                      np.full((128, 20), 128.0, np.float32)])
    assert strip_bars(side)[1] == (0, 0, 21, 21)
    assert strip_bars(pic)[1] == (0, 0, 0, 0)
    flat = np.full((128, 128), 10.0, np.float32)
    assert strip_bars(flat)[1] == (0, 0, 0, 0)  # all flat: left whole (PDQ's quality drops it)
