"""Crops that change the aspect (a different share of width and height cut) are found by aspect
cuts (``media.fingerprint.aspect``): the copy's aspect against the registered ones says how much
more one dimension was cut, and the copy is cut back to a same-share crop. Fast mode: centred
crops of up to 10 % of either dimension; thorough mode: up to 20 % of either, anywhere. Each on a
generated film through the scan's own matcher, ranges within 1 s; an unrelated film with the same
crop matches nothing (benchmarks/scan_robustness.py measures the families with ffmpeg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference_world import reference_world
from test_fp_robustness import FPS, SIZE, transform

from reelrights.evidence.scan_video import match_video
from reelrights.media.fingerprint import (
    COPY_BURST,
    fingerprint_video,
    region_mode,
)
from reelrights.media.fingerprint.aspect import aspect_cuts, registered_aspects


def cut(cx: float, cy: float, left: float | None = None, top: float | None = None) -> object:
    """Cut ``cx`` of the width and ``cy`` of the height; ``left``/``top`` of the frame go first
    (None: centred). The copy keeps the crop's own aspect."""
    def fn(p: np.ndarray) -> np.ndarray:
        h, w = p.shape[:2]
        x = round(w * (cx / 2 if left is None else left))
        y = round(h * (cy / 2 if top is None else top))
        return p[y:y + round(h * (1 - cy)), x:x + round(w * (1 - cx))]
    return fn


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = reference_world(tmp_path_factory.mktemp("aspect"), fps=FPS, size=SIZE, others=2)
    out["aspects"] = registered_aspects((p.width, p.height) for _, _, p in out["fast"][1].values())
    return out


def scan(world: dict, path: Path, mode: str, *, aspects: bool = True) -> list[dict]:
    index, prints = world[mode]
    q = fingerprint_video(path, dihedral=True, burst=COPY_BURST, regions=region_mode(mode, reference=False),
                          aspects=world["aspects"] if aspects else ())
    return match_video(None, index, q, loader=lambda seqs: {s: prints[s] for s in seqs})


CASES = {  # family -> (mode, crop, start)
    "centred, 10 % of the width only": ("fast", cut(0.10, 0.0), 2.3),
    "centred, 10 % of the height only": ("fast", cut(0.0, 0.10), 5.6),
    "centred, 5 % of the width and 10 % of the height": ("fast", cut(0.05, 0.10), 8.15),
    "15 % of the width from 5 % from the left, 5 % of the height from the top":
        ("thorough", cut(0.15, 0.05, left=0.05, top=0.0), 1.7),
    "20 % of the width, from the left edge, height whole": ("thorough", cut(0.20, 0.0, left=0.0, top=0.0), 4.4),
    "20 % of the height, 13 % from the top, width whole": ("thorough", cut(0.0, 0.20, left=0.0, top=0.13), 9.05),
}


def test_the_registry_aspect_gives_the_cut_of_each_crop() -> None:
    [a] = registered_aspects([(480, 272), (1920, 1088), (482, 272)])
    assert a == pytest.approx(480 / 272)
    assert aspect_cuts(a * 0.9, [a], 0.12) == [pytest.approx(0.9)]  # 10 % of the width: keep 90 % of the height
    assert aspect_cuts(a, [a], 0.22) == []                          # a same-share crop: nothing more to hash
    assert aspect_cuts(a / 0.8, [a], 0.12) == []                    # 20 % of the height: thorough mode's
    assert aspect_cuts(a / 0.8, [a], 0.22) == [pytest.approx(1.25)]
    assert aspect_cuts(a * 0.5, [a], 0.22) == []                    # squashed to another aspect: no crop


@pytest.mark.parametrize("family", list(CASES))
def test_aspect_changing_crops_are_found_with_their_time_ranges(world: dict, family: str) -> None:
    mode, fn, start = CASES[family]
    dst = transform(world["film"], world["dir"] / f"copy-{abs(hash(family))}.mp4", fn, start=start)
    [m] = scan(world, dst, mode)  # the film, and nothing else
    assert m["sha256"] == "film" and m["rule"] == "share" and m["geometry"] == "none", m
    r = max(m["ranges"], key=lambda r: r["query_end_ms"] - r["query_start_ms"])
    truth = (0.0, 10.0, start, start + 10.0)
    got = (r["query_start_ms"] / 1000, r["query_end_ms"] / 1000, r["ref_start_ms"] / 1000, r["ref_end_ms"] / 1000)
    assert max(abs(a - b) for a, b in zip(got, truth, strict=True)) <= 1.0, (got, truth)


def test_without_the_registered_aspects_a_width_only_crop_is_missed(world: dict) -> None:
    dst = transform(world["film"], world["dir"] / "no-aspects.mp4", cut(0.20, 0.0, left=0.0, top=0.0), start=4.4)
    assert scan(world, dst, "thorough", aspects=False) == []  # what aspect cuts add


@pytest.mark.parametrize("family", list(CASES))
def test_an_unrelated_film_with_the_same_crop_matches_nothing(world: dict, family: str) -> None:
    mode, fn, _ = CASES[family]
    other = world["others"][1]
    dst = transform(other, world["dir"] / f"other-{abs(hash(family))}.mp4", fn, duration=12.0)
    assert scan(world, dst, mode) == []
