"""Audio fingerprints (Chromaprint through libchromaprint) and the reference alignment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelrights.errors import BadInput, MediaError
from reelrights.media.fingerprint import (
    AudioPrint,
    best_alignment,
    bit_error_rate,
    fingerprint_audio,
    fingerprint_file,
)
from reelrights.media.synth import make_audio, make_film, transcode_audio


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fp_audio")
    song = make_audio(d / "song.wav", seconds=40, seed=3)
    return {
        "song": song,
        "mp3": transcode_audio(song, d / "song.mp3"),
        "aac": transcode_audio(song, d / "song.m4a"),
        "excerpt": transcode_audio(song, d / "excerpt.m4a", start=10.0, duration=20.0),
        "unrelated": make_audio(d / "other.wav", seconds=40, notes=[40, 47, 52, 41, 45, 50, 38, 43] * 5),
    }


@pytest.fixture(scope="module")
def reference(media: dict[str, Path]) -> AudioPrint:
    return fingerprint_audio(media["song"])


def test_print_shape(reference: AudioPrint) -> None:
    assert reference.items.dtype == np.uint32
    assert reference.item_ms == pytest.approx(1000 * 1365 / 11025)  # Chromaprint's hop at 11,025 Hz
    assert reference.duration_ms == 40_000
    # one item per hop once the first 4096-sample frame and the 16-frame filter window are full
    assert 0 < 40_000 / reference.item_ms - len(reference) < 30
    assert len(np.unique(reference.items)) > 0.9 * len(reference)  # real content, not a constant


@pytest.mark.parametrize("copy", ["mp3", "aac"])
def test_reencoded_copy_aligns_at_zero(media: dict[str, Path], reference: AudioPrint, copy: str) -> None:
    query = fingerprint_audio(media[copy])
    assert bit_error_rate(query.items, reference.items, 0) < 0.2
    offset, ber = best_alignment(query.items, reference.items)
    assert offset == 0 and ber < 0.2


def test_excerpt_is_found_at_its_offset(media: dict[str, Path], reference: AudioPrint) -> None:
    query = fingerprint_audio(media["excerpt"])
    assert abs(query.duration_ms - 20_000) < 50
    offset, ber = best_alignment(query.items, reference.items)
    assert abs(offset - 10_000 / reference.item_ms) <= 1  # 10 s in
    assert ber < 0.2
    assert bit_error_rate(query.items, reference.items, offset + 10) > 0.3  # a wrong offset is far


def test_unrelated_audio_is_far(media: dict[str, Path], reference: AudioPrint) -> None:
    other = fingerprint_audio(media["unrelated"])
    assert bit_error_rate(other.items, reference.items, 0) > 0.35
    assert best_alignment(other.items, reference.items)[1] > 0.35


def test_soundtrack_of_a_film(tmp_path: Path) -> None:
    film = make_film(tmp_path / "film.mkv", seconds=8, fps=6, size=(320, 180), scenes=2, with_audio=True)
    fp = fingerprint_file(film, "video")
    assert fp.audio is not None and len(fp.audio) > 40
    assert fingerprint_file(film, "audio").audio == fp.audio


def test_bit_error_rate_known_answers() -> None:
    a = np.array([0, 0xFFFFFFFF, 0x0F0F0F0F, 7], dtype=np.uint32)
    assert bit_error_rate(a, a, 0) == 0.0
    assert bit_error_rate(a, ~a, 0) == 1.0
    assert bit_error_rate(a, a ^ np.uint32(1), 0) == 1 / 32
    # a[i] over b[i + 2]: only a[0:2] overlap b[2:4]
    b = np.concatenate([np.array([5, 5], np.uint32), a[:2]])
    assert bit_error_rate(a, b, 2) == 0.0
    assert bit_error_rate(b, a, -2) == bit_error_rate(b[2:], a[:2], 0) == 0.0
    assert bit_error_rate(a, b, 10) == 1.0  # no overlap at all


def test_best_alignment_finds_a_planted_excerpt() -> None:
    rng = np.random.default_rng(5)
    ref = rng.integers(0, 2**32, 600, dtype=np.uint32)
    query = ref[123:323].copy()
    flips = rng.random((200, 32)) < 0.1  # 10 % of bits flipped: a lossy copy
    query ^= (flips * (1 << np.arange(32, dtype=np.uint64))).sum(axis=1).astype(np.uint32)
    offset, ber = best_alignment(query, ref)
    assert offset == 123 and 0.07 < ber < 0.13
    assert best_alignment(query, ref, max_offset=100)[1] > 0.4  # the true offset is out of range
    # the query may also start before the reference (negative offset)
    assert best_alignment(ref[:300], ref[40:])[0] == -40
    with pytest.raises(BadInput):
        best_alignment(np.zeros(0, np.uint32), ref)


def test_serialization_roundtrip(reference: AudioPrint) -> None:
    blob = reference.to_bytes()
    assert len(blob) == 6 + 20 + 4 * len(reference)
    assert AudioPrint.from_bytes(blob) == reference
    with pytest.raises(BadInput):
        AudioPrint.from_bytes(blob[:-1])
    with pytest.raises(BadInput, match="magic"):
        AudioPrint.from_bytes(b"RRFPV\x01" + blob[6:])


def test_corrupt_and_unsupported_files_raise_media_error(tmp_path: Path) -> None:
    garbage = tmp_path / "noise.mp3"
    garbage.write_bytes(np.random.default_rng(1).integers(0, 256, 30_000, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError) as err:
        fingerprint_audio(garbage)
    assert str(garbage) in str(err.value) and err.value.path == str(garbage)
    silent_film = make_film(tmp_path / "silent.mp4", seconds=1, fps=6, size=(160, 96))
    with pytest.raises(MediaError, match="no audio stream"):
        fingerprint_audio(silent_film)
    text = tmp_path / "notes.txt"
    text.write_text("not audio at all\n")
    with pytest.raises(MediaError, match="notes.txt"):
        fingerprint_audio(text)


def test_truncated_file_raises_media_error(tmp_path: Path) -> None:
    song = make_audio(tmp_path / "song.m4a", seconds=12, seed=2)
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(song.read_bytes()[: song.stat().st_size // 2])  # the MP4 index is at the end
    with pytest.raises(MediaError) as err:
        fingerprint_audio(cut)
    assert str(cut) in str(err.value)
