"""Thorough mode (region hashes) finds what a global hash cannot: one case per family on a generated
film (off-centre crop, corner logo with text, picture-in-picture, a few seconds inside a
compilation of another film's picture-in-picture), each through the scan's own matcher with its
time ranges within 1 s; unrelated films, also with logos and insets, match nothing. Fast mode's
quadrant hashes find a corner logo too (benchmarks/scan_robustness.py measures every family in
both modes with ffmpeg; docs/scan.md has the figures)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from reference_world import reference_world
from test_fp_robustness import FPS, SIZE, crop, transform

from reelrights.errors import BadInput
from reelrights.evidence.scan_video import match_video
from reelrights.media.fingerprint import (
    COPY_BURST,
    fingerprint_video,
    region_mode,
)
from reelrights.media.fingerprint.frames import canvas_luma, strip_bars
from reelrights.media.fingerprint.regions import InsetFinder


def corner_crop(c: float, top: float = 0.0, left: float = 0.0) -> object:
    def fn(p: np.ndarray) -> np.ndarray:  # keep the top-left corner, or cut top and left first
        h, w = p.shape[:2]
        y, x = round(h * top), round(w * left)
        return p[y:y + round(h * (1 - c)), x:x + round(w * (1 - c))]
    return fn


def logo(area: float) -> object:
    def fn(p: np.ndarray) -> np.ndarray:  # a white box with black "text" strokes, top right
        h, w = p.shape[:2]
        f = float(np.sqrt(area))
        bh, bw = round(h * f), round(w * f)
        out = p.copy()
        out[8:8 + bh, w - bw - 8:w - 8] = 235
        for k in range(3):
            y = 8 + bh // 4 + k * bh // 5
            out[y:y + max(2, bh // 12), w - bw:w - 16] = 10
        return out
    return fn


def pip(inset: float, background: Path) -> object:
    with av.open(str(background)) as c:
        bg = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    count = [0]

    def fn(p: np.ndarray) -> np.ndarray:
        h, w = p.shape[:2]
        out = bg[count[0] % len(bg)].copy()
        count[0] += 1
        small = av.VideoFrame.from_ndarray(p, format="rgb24").reformat(
            width=round(w * inset) & ~1, height=round(h * inset) & ~1, interpolation="AREA").to_ndarray()
        y, x = round(h * 0.1), round(w * 0.45)
        out[y:y + small.shape[0], x:x + small.shape[1]] = small
        return out
    return fn


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = reference_world(tmp_path_factory.mktemp("thorough"), fps=FPS, size=SIZE, others=3)
    return out


def scan(world: dict, path: Path, mode: str = "thorough") -> list[dict]:
    index, prints = world[mode]
    q = fingerprint_video(path, dihedral=True, burst=COPY_BURST, regions=region_mode(mode, reference=False))
    return match_video(None, index, q, loader=lambda seqs: {s: prints[s] for s in seqs})


CASES = {  # family -> transform arguments (pip: the inset, over another film)
    "off-centre crop 20 % (top-left corner)": dict(start=1.3, fn=corner_crop(0.20)),
    "off-centre crop 10 % (top-left corner)": dict(start=6.2, fn=corner_crop(0.10)),
    # between the reference windows' 5 % grid points: found by the copy's boxes
    "off-centre crop 17.5 % (7.5 % from the left, 2.5 % from the top)":
        dict(start=3.1, fn=corner_crop(0.175, top=0.025, left=0.075)),
    "off-centre crop 12 % (3.7 % from the left, 8.1 % from the top)":
        dict(start=9.35, fn=corner_crop(0.12, top=0.081, left=0.037)),
    "corner logo with text, 20 % of the frame": dict(start=2.45, fn=logo(0.20)),
    "picture-in-picture, inset 50 %": dict(start=4.6, pip=0.5),
    "compilation: 5 s inside 21 s, with a 10 % crop": dict(start=8.45, duration=5.0, fn=crop(0.10),
                                                          compilation=True),
}


@pytest.mark.parametrize("family", list(CASES))
def test_thorough_mode_finds_each_family_with_its_time_ranges(world: dict, family: str) -> None:
    args = dict(CASES[family])
    compilation = args.pop("compilation", False)
    if compilation:
        args.update(before=world["others"][1], after=world["others"][2])
    if "pip" in args:
        args["fn"] = pip(args.pop("pip"), world["others"][2])
    dst = transform(world["film"], world["dir"] / f"copy-{abs(hash(family))}.mp4", **args)
    start, duration = args.get("start", 0.0), args.get("duration", 10.0)
    [m] = scan(world, dst)  # the film, and nothing else
    assert m["sha256"] == "film" and m["geometry"] == "none", m
    assert m["rule"] == ("segment" if compilation else "share"), m
    r = max(m["ranges"], key=lambda r: r["query_end_ms"] - r["query_start_ms"])
    q0 = 8.0 if compilation else 0.0
    truth = (q0, q0 + duration, start, start + duration)
    got = (r["query_start_ms"] / 1000, r["query_end_ms"] / 1000, r["ref_start_ms"] / 1000, r["ref_end_ms"] / 1000)
    assert max(abs(a - b) for a, b in zip(got, truth, strict=True)) <= 1.0, (got, truth)


def test_a_small_inset_found_late_is_located_from_its_first_second(world: dict) -> None:
    """A 30 % inset over a busy film: its edges stand out only after a few samples (before the
    inset buffer, its range started 3.1 s late); the samples before are hashed with its rectangle
    too, so both ends of both ranges are within 1 s."""
    start = 1.3
    dst = transform(world["film"], world["dir"] / "pip-small.mp4", pip(0.3, world["others"][2]), start=start)
    [m] = scan(world, dst)
    assert m["sha256"] == "film" and m["rule"] == "share", m
    r = max(m["ranges"], key=lambda r: r["query_end_ms"] - r["query_start_ms"])
    got = (r["query_start_ms"] / 1000, r["query_end_ms"] / 1000, r["ref_start_ms"] / 1000, r["ref_end_ms"] / 1000)
    truth = (0.0, 10.0, start, start + 10.0)
    assert max(abs(a - b) for a, b in zip(got, truth, strict=True)) <= 1.0, (got, truth)


def test_fast_mode_quadrants_find_a_corner_logo_but_not_a_corner_crop(world: dict) -> None:
    logo_copy = transform(world["film"], world["dir"] / "fast-logo.mp4", logo(0.10), start=3.7)
    [m] = scan(world, logo_copy, "fast")
    assert m["sha256"] == "film" and m["rule"] == "share", m
    cropped = transform(world["film"], world["dir"] / "fast-corner.mp4", corner_crop(0.20), start=3.7)
    assert scan(world, cropped, "fast") == []  # fast mode has no off-centre windows: thorough's job


def test_unrelated_films_with_logos_and_insets_match_nothing(world: dict) -> None:
    other = world["others"][1]
    assert scan(world, other) == []
    assert scan(world, transform(other, world["dir"] / "o-logo.mp4", logo(0.20), duration=12.0)) == []
    # an unregistered film as an inset over a registered-looking background film (other2)
    inset = transform(other, world["dir"] / "o-pip.mp4", pip(0.5, world["others"][2]), duration=12.0)
    assert scan(world, inset) == []
    assert scan(world, transform(other, world["dir"] / "o-crop.mp4", corner_crop(0.2), duration=12.0)) == []


def test_the_inset_finder_finds_a_static_inset_and_nothing_in_a_plain_film(world: dict) -> None:
    clip = transform(world["film"], world["dir"] / "pip-find.mp4", pip(0.5, world["others"][2]), duration=4.0)
    finder, found = InsetFinder(), []
    with av.open(str(clip)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % FPS == 0:
                found = finder.update(strip_bars(canvas_luma(f))[0])
    top, bottom, left, right = found[0]  # the inset: 10 % down, 45 % across, half the size
    assert abs(top - 12.8) <= 2 and abs(left - 57.6) <= 2
    assert abs(bottom - top - 64) <= 2 and abs(right - left - 64) <= 2
    with pytest.raises(BadInput, match="regions"):
        fingerprint_video(clip, regions="everything")
    with pytest.raises(BadInput, match="fast or thorough"):
        region_mode("slow", reference=True)
