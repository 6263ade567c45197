"""Video fingerprints on generated films: sampling, the transformations a copy goes through, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelrights.errors import BadInput, MediaError
from reelrights.media.fingerprint import (
    PDQ_MIN_QUALITY,
    REFERENCE_CROPS,
    VideoPrint,
    fingerprint_file,
    fingerprint_video,
    frame_match_share,
)
from reelrights.media.synth import make_audio, make_film, transcode_video

SECONDS, FPS, SCENES = 16, 8, 5  # cuts at 3.2, 6.4, 9.6 and 12.8 s: between the 1 fps samples


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fp_video")
    film = make_film(d / "film.mp4", seconds=SECONDS, fps=FPS, size=(1280, 720), scenes=SCENES, seed=3, gop=16)
    return {
        "film": film,
        "reencoded": transcode_video(film, d / "reencoded.mkv", codec="mpeg4", bitrate=1_500_000),
        "resized": transcode_video(film, d / "resized.mp4", size=(640, 360)),
        "cropped": transcode_video(film, d / "cropped.mp4", crop=0.10),
        "trimmed": transcode_video(film, d / "trimmed.mp4", start=7.0),
        "unrelated": make_film(d / "unrelated.mp4", seconds=8, fps=FPS, size=(1280, 720), scenes=3, seed=99),
    }


@pytest.fixture(scope="module")
def reference(media: dict[str, Path]) -> VideoPrint:
    return fingerprint_video(media["film"])


def test_samples_every_second_plus_each_scene_cut(reference: VideoPrint) -> None:
    times = reference.time_ms.tolist()
    assert reference.mode == "1fps+scenes"
    assert (reference.width, reference.height, reference.duration_ms) == (1280, 720, SECONDS * 1000)
    assert set(range(0, SECONDS * 1000, 1000)) <= set(times)  # the 1 fps grid (frames at k/8 s)
    n = SECONDS * FPS  # make_film's scene k starts at the first frame i with i * SCENES // n == k
    cuts = [1000 * min(i for i in range(n) if i * SCENES // n == k) // FPS for k in range(1, SCENES)]
    assert cuts == [3250, 6500, 9625, 12875]
    assert set(cuts) <= set(times)  # the first frame of every new scene
    assert len(times) == SECONDS + len(cuts)  # and no false cuts on the pans and the moving square
    assert times == sorted(times)
    assert reference.hashes.shape == (len(times), 32) and reference.hashes.dtype == np.uint8
    assert (reference.quality >= PDQ_MIN_QUALITY).all()  # the film has enough texture to hash


def test_without_scene_changes_only_the_grid(media: dict[str, Path], reference: VideoPrint) -> None:
    grid = fingerprint_video(media["film"], scene_changes=False, fps=2.0)
    assert grid.mode == "2fps"
    assert grid.time_ms.tolist() == list(range(0, SECONDS * 1000, 500))
    shared = np.isin(reference.time_ms, grid.time_ms)
    # the same frames give the same hashes, whatever the sampling
    for t, h in zip(reference.time_ms[shared], reference.hashes[shared]):
        assert np.array_equal(h, grid.hashes[grid.time_ms.tolist().index(t)])


def test_keyframes_only(media: dict[str, Path], reference: VideoPrint) -> None:
    kf = fingerprint_video(media["film"], keyframes_only=True)
    assert kf.mode == "keyframes"
    assert kf.time_ms.tolist() == list(range(0, SECONDS * 1000, 2000))  # gop 16 at 8 fps
    assert frame_match_share(kf, reference) == 1.0


def test_frame_threads_give_the_same_print(media: dict[str, Path], reference: VideoPrint) -> None:
    assert fingerprint_video(media["film"], threads=0) == reference


@pytest.fixture(scope="module")
def reference_with_crops(media: dict[str, Path]) -> VideoPrint:
    return fingerprint_video(media["film"], crop_variants=REFERENCE_CROPS)


@pytest.mark.parametrize("copy", ["reencoded", "resized", "cropped", "trimmed"])
def test_transformed_copy_is_found(media: dict[str, Path], reference_with_crops: VideoPrint, copy: str) -> None:
    query = fingerprint_video(media[copy])
    assert len(query) >= 8
    share = frame_match_share(query, reference_with_crops)
    assert share >= 0.8, (copy, share)


@pytest.mark.parametrize("copy", ["reencoded", "resized", "trimmed"])
def test_whole_frame_hashes_alone_survive_all_but_cropping(
    media: dict[str, Path], reference: VideoPrint, copy: str
) -> None:
    assert frame_match_share(fingerprint_video(media[copy]), reference) >= 0.8


def test_crop_variants(media: dict[str, Path], reference: VideoPrint, reference_with_crops: VideoPrint) -> None:
    ref = reference_with_crops
    k = 1 + len(REFERENCE_CROPS)
    assert ref.mode == "1fps+scenes+crops" and len(ref) == k * len(reference)
    assert ref.crop.tolist() == [0, *REFERENCE_CROPS] * len(reference)
    primary = ref.primary()  # the whole-frame rows are exactly the plain print
    assert np.array_equal(primary.hashes, reference.hashes) and np.array_equal(primary.time_ms, reference.time_ms)
    assert (ref.time_ms.reshape(-1, k) == reference.time_ms[:, None]).all()
    assert VideoPrint.from_bytes(ref.to_bytes()) == ref
    # PDQ alone does not survive a 10 % crop: that is why references carry crop variants
    cropped = fingerprint_video(media["cropped"])
    assert frame_match_share(cropped, reference) < 0.5 <= frame_match_share(cropped, ref)
    with pytest.raises(BadInput):
        fingerprint_video(media["film"], crop_variants=(60,))


def test_trimmed_copy_keeps_its_own_timeline(media: dict[str, Path]) -> None:
    query = fingerprint_video(media["trimmed"])
    assert query.time_ms[0] == 0
    assert abs(query.duration_ms - (SECONDS - 7) * 1000) <= 1000 // FPS


def test_unrelated_film_stays_far(media: dict[str, Path], reference: VideoPrint) -> None:
    other = fingerprint_video(media["unrelated"])
    assert frame_match_share(other, reference) <= 0.1
    assert frame_match_share(reference, other) <= 0.1


def test_serialization_roundtrip(reference: VideoPrint) -> None:
    blob = reference.to_bytes()
    assert len(blob) < 45 * len(reference) + 64  # 32 + 1 + 8 bytes a frame, a small header
    back = VideoPrint.from_bytes(blob)
    assert back == reference
    assert back.pdq_hex(0) == reference.hashes[0].tobytes().hex() and len(back.pdq_hex(0)) == 64
    with pytest.raises(BadInput, match="truncated"):
        VideoPrint.from_bytes(blob[:-3])
    with pytest.raises(BadInput, match="trailing"):
        VideoPrint.from_bytes(blob + b"\0")
    with pytest.raises(BadInput, match="magic"):
        VideoPrint.from_bytes(b"RRFPA\x01" + blob[6:])


def test_film_with_sound_has_both_prints(tmp_path: Path) -> None:
    film = make_film(tmp_path / "talkie.mkv", seconds=6, fps=6, size=(320, 180), scenes=2, with_audio=True)
    fp = fingerprint_file(film, "video")
    assert fp.video is not None and fp.audio is not None and fp.text is None
    assert len(fp.audio) > 20 and abs(fp.audio.duration_ms - 6000) < 200
    silent = fingerprint_file(make_film(tmp_path / "silent.mp4", seconds=2, fps=6, size=(320, 180)), "video")
    assert silent.video is not None and silent.audio is None


def test_corrupt_file_raises_media_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError) as err:
        fingerprint_video(bad)
    assert str(bad) in str(err.value) and err.value.path == str(bad) and "\n" not in str(err.value)
    with pytest.raises(MediaError, match="empty"):
        (tmp_path / "empty.mp4").write_bytes(b"")
        fingerprint_file(tmp_path / "empty.mp4", "video")
    with pytest.raises(MediaError, match="not found"):
        fingerprint_video(tmp_path / "missing.mp4")


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_truncated_file_raises_media_error(tmp_path: Path, ext: str) -> None:
    film = make_film(tmp_path / f"whole{ext}", seconds=6, fps=6, size=(320, 180), scenes=2)
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(film.read_bytes()[: film.stat().st_size * 6 // 10])
    with pytest.raises(MediaError) as err:
        fingerprint_video(cut)
    assert str(cut) in str(err.value)


def test_wrong_kind_of_file(tmp_path: Path) -> None:
    song = make_audio(tmp_path / "song.wav", seconds=2)
    with pytest.raises(MediaError, match="no video stream"):
        fingerprint_video(song)
    with pytest.raises(MediaError, match="category"):
        fingerprint_file(song, "spreadsheet")
    with pytest.raises(BadInput):
        fingerprint_video(song, fps=0)


def test_native_pdq_is_bit_identical_to_pdqhash(media: dict[str, Path]) -> None:
    """The reference C++ called directly (one luma plane per frame, crops sliced from it) gives
    exactly pdqhash.compute's hash and quality, on film frames, their crops and odd sizes."""
    import av
    import pdqhash

    from reelrights.media.fingerprint import pdq_native

    assert pdq_native.AVAILABLE  # the pdqhash wheel this project installs exports the symbols
    rng = np.random.default_rng(7)
    pictures = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in ((97, 131), (64, 64), (360, 640))]
    with av.open(str(media["film"])) as c:
        pictures += [f.to_ndarray(format="rgb24") for n, f in enumerate(c.decode(video=0)) if n % 40 == 0]
    for rgb in pictures:
        h, w = rgb.shape[:2]
        for dy, dx in ((0, 0), (h // 20, w // 20)):
            part = rgb[dy : h - dy, dx : w - dx]
            bits, quality = pdqhash.compute(np.ascontiguousarray(part))
            luma = pdq_native.luma_from_rgb(rgb)[dy : h - dy, dx : w - dx]
            packed, q = pdq_native.hash_luma(luma)
            assert q == quality and packed.tobytes() == np.packbits(bits.astype(np.uint8)).tobytes()
