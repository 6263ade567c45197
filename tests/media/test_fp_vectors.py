"""Known-answer tests against Meta's public PDQ / vPDQ vectors (tests/assets/fp, see SOURCES.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import numpy as np
import pdqhash
import pytest

from reelrights.media.fingerprint import (
    PDQ_MATCH_DISTANCE,
    PDQ_MIN_QUALITY,
    VideoPrint,
    fingerprint_file,
    fingerprint_video,
    hamming_matrix,
    pdq_hash_image,
)

FP = Path(__file__).resolve().parents[1] / "assets" / "fp"
EXPECTED = json.loads((FP / "expected.json").read_text())


def _hex(h: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(h), dtype=np.uint8)


def _dist(a: np.ndarray, b: np.ndarray) -> int:
    return int(hamming_matrix(a[None, :], b[None, :])[0, 0])


def _decode_rgb(path: Path) -> np.ndarray:
    """JPEG decoded with PyAV (FFmpeg's mjpeg decoder, no Pillow), converted to RGB by swscale."""
    with av.open(str(path)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24")


def _vpdq_file(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [line.split(",") for line in (FP / "vpdq_hashes" / f"{name}.txt").read_text().splitlines() if line]
    quality = np.array([int(r[1]) for r in rows])
    hashes = np.stack([_hex(r[2]) for r in rows])
    seconds = np.array([float(r[3]) for r in rows])
    return hashes, quality, seconds


def test_vectors_are_the_upstream_files() -> None:
    assert len(EXPECTED["files"]) == 20
    for rel, meta in EXPECTED["files"].items():
        data = (FP / rel).read_bytes()
        assert len(data) == meta["bytes"], rel
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], rel


@pytest.mark.parametrize("name", ["bridge-1-original.jpg", "bridge-5-flipx.jpg"])
def test_pdq_within_10_bits_of_the_cpp_reference(name: str) -> None:
    packed, quality = pdq_hash_image(_decode_rgb(FP / "pdq_images" / name))
    assert quality >= 80
    assert _dist(packed, _hex(EXPECTED["pdq_cpp_reference"][name])) <= 10


def test_pdq_dihedral_hashes_match_the_cpp_rotations() -> None:
    """The C++ tool hashed 8 rotated/flipped copies of the bridge; pdqhash's dihedral variants of
    the original must land within 10 bits of each."""
    hashes, quality = pdqhash.compute_dihedral(_decode_rgb(FP / "pdq_images" / "bridge-1-original.jpg"))
    ours = np.stack([np.packbits(np.asarray(h, dtype=np.uint8)) for h in hashes])
    expected = np.stack([_hex(h) for h in EXPECTED["pdq_cpp_reference"].values()])
    assert quality >= 80
    assert (hamming_matrix(expected, ours).min(axis=1) <= 10).all()


COPIED = sorted(n for n in EXPECTED["pdq_python_reference"] if (FP / "pdq_images" / n).exists())


@pytest.mark.parametrize("name", COPIED)
def test_pdq_against_the_python_reference(name: str) -> None:
    path = FP / "pdq_images" / name
    packed, quality = pdq_hash_image(_decode_rgb(path))
    expected = _hex(EXPECTED["pdq_python_reference"][name])
    if quality >= 80:
        assert _dist(packed, expected) <= 16  # upstream's own tolerance for this test
    else:  # q0003, q0004 and small.jpg are flat: PDQ must say so, and they may not be trusted
        assert quality < PDQ_MIN_QUALITY


@pytest.mark.parametrize("name", ["shrink-a-lot.jpg", "square-128x128.jpg", "square-256x256.jpg", "wee.jpg"])
def test_pdq_against_the_wasm_reference(name: str) -> None:
    packed, quality = pdq_hash_image(_decode_rgb(FP / "pdq_images" / name))
    assert quality >= 80
    assert _dist(packed, _hex(EXPECTED["pdq_wasm_reference"][name])) <= 10


def test_still_image_is_a_one_frame_print_that_matches_the_reference() -> None:
    fp = fingerprint_file(FP / "pdq_images" / "bridge-1-original.jpg", "image")
    assert fp.audio is None and fp.text is None
    v = fp.video
    assert isinstance(v, VideoPrint)
    assert (len(v), v.mode, v.width, v.height, v.time_ms.tolist()) == (1, "still", 1600, 1004, [0])
    # hashed at 640 px (the default for every frame), so within the match threshold, not bit-exact
    assert _dist(v.hashes[0], _hex(EXPECTED["pdq_cpp_reference"]["bridge-1-original.jpg"])) <= PDQ_MATCH_DISTANCE
    assert VideoPrint.from_bytes(v.to_bytes()) == v


@pytest.mark.parametrize("name", ["doorknob-hd-no-bar", "pattern-sd-grey-bar"])
def test_vpdq_1fps_hashes_match_the_upstream_sample_hashes(name: str) -> None:
    ref_hashes, ref_quality, ref_seconds = _vpdq_file(name)
    # 1 fps + scenes on the 128 px canvas; bars kept, as vPDQ hashes them (pattern-sd-grey-bar has
    # grey pillarbox bars, which the default cuts away: 76-96 bits from vPDQ's hashes)
    vp = fingerprint_video(FP / "vpdq_videos" / f"{name}.mp4", bars=False)
    assert len(vp) >= 4 and vp.mode == "1fps+scenes"
    assert vp.time_ms[0] == 0 and (np.diff(vp.time_ms) > 0).all()
    checked = 0
    for i, t in enumerate(vp.time_ms):
        j = int(np.argmin(np.abs(ref_seconds - t / 1000)))
        assert abs(ref_seconds[j] * 1000 - t) <= 40  # the same frame, at the same timestamp
        if vp.quality[i] >= PDQ_MIN_QUALITY and ref_quality[j] >= PDQ_MIN_QUALITY:
            assert _dist(vp.hashes[i], ref_hashes[j]) <= PDQ_MATCH_DISTANCE, (name, t)
            checked += 1
    assert checked >= 2


def test_vpdq_every_frame_at_full_resolution_matches_upstream() -> None:
    """vpdq's own acceptance test: same frame count, every frame of quality >= 50 within 31 bits."""
    ref_hashes, ref_quality, _ = _vpdq_file("pattern-sd-grey-bar")
    vp = fingerprint_video(FP / "vpdq_videos" / "pattern-sd-grey-bar.mp4", fps=1000, scene_changes=False, canvas=0,
                            max_side=0)
    assert len(vp) == len(ref_hashes) == 206
    usable = (vp.quality >= PDQ_MIN_QUALITY) & (ref_quality >= PDQ_MIN_QUALITY)
    assert usable.sum() >= 200
    d = np.bitwise_count(vp.hashes ^ ref_hashes).sum(axis=1)
    assert (d[usable] <= PDQ_MATCH_DISTANCE).all()
    assert np.median(d[usable]) <= 4  # full resolution is close to bit-exact on this clip


def test_hash_list_radius_table() -> None:
    def load(name: str) -> np.ndarray:
        lines = (FP / "pdq_hash_lists" / name).read_text().split()
        return np.stack([_hex(h) for h in lines])

    needles, haystack = load("needles.txt"), load("haystack.txt")
    assert needles.shape == (100, 32) and haystack.shape == (1350, 32)
    d = hamming_matrix(needles, haystack)
    table = EXPECTED["hash_list_radius_table"]
    for radius, want in table["summary_by_radius"].items():
        within = d <= int(radius)
        assert int(within.sum()) == want["pairs"], radius
        assert int(within.any(axis=1).sum()) == want["needles_with_match"], radius
    pairs = sorted([int(n), int(h), int(d[n, h])] for n, h in zip(*np.nonzero(d <= 31)))
    assert pairs == sorted(table["pairs_within_31"])
