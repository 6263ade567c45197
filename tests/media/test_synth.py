"""The generated demo/test media: valid, deterministic, and with real content."""

from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np
import pytest

from reelrights.errors import BadInput
from reelrights.media.synth import make_audio, make_image, make_script, make_video


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _samples(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])


# --- video ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "with_audio"), [(".mp4", False), (".mkv", True)])
def test_video_is_deterministic_for_a_seed(tmp_path: Path, ext: str, with_audio: bool) -> None:
    a = make_video(tmp_path / f"a{ext}", seconds=1.0, seed=7, with_audio=with_audio)
    b = make_video(tmp_path / f"b{ext}", seconds=1.0, seed=7, with_audio=with_audio)
    c = make_video(tmp_path / f"c{ext}", seconds=1.0, seed=8, with_audio=with_audio)
    fa, fb, fc = _frames(a), _frames(b), _frames(c)
    assert len(fa) == len(fb) == 24
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb))
    # one encoder thread and bitexact muxing (no random Matroska segment id): same bytes on one build
    assert a.read_bytes() == b.read_bytes()
    assert not np.array_equal(fa[0], fc[0])


def test_video_has_motion_and_hard_scene_cuts(tmp_path: Path) -> None:
    frames = _frames(make_video(tmp_path / "cuts.mkv", seconds=3.0, fps=24, scenes=3, size=(160, 96)))
    assert len(frames) == 72
    assert frames[0].shape == (96, 160, 3)
    diffs = [float(np.abs(b.astype(int) - a.astype(int)).mean()) for a, b in zip(frames, frames[1:])]
    cuts = {23, 47}  # frame 24 and frame 48 start new scenes
    within = [d for i, d in enumerate(diffs) if i not in cuts]
    assert min(diffs[i] for i in cuts) > 5 * max(within)  # a cut is a big jump
    assert sum(d > 0.2 for d in within) > 0.9 * len(within)  # and the picture moves within a scene
    assert frames[0].std() > 10  # not a flat colour


def test_video_with_audio_has_both_streams(tmp_path: Path) -> None:
    path = make_video(tmp_path / "av.mov", seconds=2.0, fps=25, with_audio=True)
    with av.open(str(path)) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
    samples = _samples(path)
    assert abs(len(samples) - 2 * 48000) < 2048
    assert np.abs(samples).max() > 0.3


def test_video_other_codec(tmp_path: Path) -> None:
    path = make_video(tmp_path / "m4v.mkv", seconds=0.5, fps=10, codec="mpeg4")
    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.name == "mpeg4"
    assert len(_frames(path)) == 5


def test_video_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"clip\.avi: make_video writes"):
        make_video(tmp_path / "clip.avi")
    with pytest.raises(BadInput, match="even"):
        make_video(tmp_path / "odd.mp4", size=(321, 240))
    with pytest.raises(BadInput, match="at least one frame"):
        make_video(tmp_path / "none.mp4", seconds=0.0)
    with pytest.raises(BadInput, match="codec='no-such-codec'"):
        make_video(tmp_path / "x.mp4", codec="no-such-codec")


# --- audio ---------------------------------------------------------------------------------------


def test_wav_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    a = make_audio(tmp_path / "a.wav", seed=3)
    b = make_audio(tmp_path / "b.wav", seed=3)
    c = make_audio(tmp_path / "c.wav", seed=4)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_wav_samples_length_level_and_pitch(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "a4.wav", seconds=1.0, sample_rate=22050, notes=[69])  # A4 = 440 Hz
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        assert (stream.codec_context.name, stream.sample_rate, stream.channels) == ("pcm_s16le", 22050, 1)
    samples = _samples(path).astype(np.float64)
    assert len(samples) == 22050
    assert 0.75 * 32767 < np.abs(samples).max() <= 0.8 * 32767 + 1
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * 22050 / len(samples) - 440) <= 2  # 1 Hz bins


def test_default_melody_has_several_notes(tmp_path: Path) -> None:
    samples = _samples(make_audio(tmp_path / "m.wav", seconds=2.0, sample_rate=8000)).astype(np.float64)
    pitches = set()
    for k in range(8):  # four notes a second, each 2000 samples
        part = samples[k * 2000 : (k + 1) * 2000]
        pitches.add(round(np.argmax(np.abs(np.fft.rfft(part))) * 8000 / len(part)))
    assert len(pitches) >= 3


def test_m4a_is_aac(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "t.m4a", seconds=1.0)
    with av.open(str(path)) as c:
        assert c.streams.audio[0].codec_context.name == "aac"
    assert np.abs(_samples(path)).max() > 0.3


def test_audio_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"t\.aiff: make_audio writes"):
        make_audio(tmp_path / "t.aiff")
    with pytest.raises(BadInput, match="notes"):
        make_audio(tmp_path / "t.wav", notes=[])


# --- scripts -------------------------------------------------------------------------------------


def test_script_is_deterministic_and_seed_dependent(tmp_path: Path) -> None:
    a = make_script(tmp_path / "a.fountain", title="Night Ferry", author="A. Writer", seed=1)
    b = make_script(tmp_path / "b.fountain", title="Night Ferry", author="A. Writer", seed=1)
    c = make_script(tmp_path / "c.fountain", title="Night Ferry", author="A. Writer", seed=2)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_script_is_fountain_shaped(tmp_path: Path) -> None:
    text = make_script(tmp_path / "s.fountain", title="Night Ferry", author="A. Writer", scenes=5).read_text()
    lines = text.split("\n")
    assert lines[:3] == ["Title: Night Ferry", "Credit: Written by", "Author: A. Writer"]
    assert lines[3] == ""  # the title page ends at the first blank line
    headings = [line for line in lines if re.fullmatch(r"(INT|EXT)\. [A-Z ]+ - [A-Z]+", line)]
    assert len(headings) == 5
    cues = [i for i, line in enumerate(lines) if re.fullmatch(r"[A-Z]{2,}", line)]
    assert len(cues) >= 10  # at least two speeches a scene
    assert all(lines[i - 1] == "" and lines[i + 1] for i in cues)  # a cue follows a blank line, dialogue follows it
    assert text.endswith("> THE END <\n")
    assert "\r" not in text and "===" not in text


def test_script_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="title"):
        make_script(tmp_path / "s.fountain", title="two\nlines", author="A")
    with pytest.raises(BadInput, match="scenes"):
        make_script(tmp_path / "s.fountain", title="T", author="A", scenes=0)


# --- images --------------------------------------------------------------------------------------


def test_png_decodes_and_is_deterministic(tmp_path: Path) -> None:
    a = make_image(tmp_path / "a.png", size=(33, 17), seed=5)  # odd sizes are fine for PNG
    b = make_image(tmp_path / "b.png", size=(33, 17), seed=5)
    c = make_image(tmp_path / "c.png", size=(33, 17), seed=6)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    pixels = _frames(a)[0]
    assert pixels.shape == (17, 33, 3)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10


def test_jpeg_decodes(tmp_path: Path) -> None:
    pixels = _frames(make_image(tmp_path / "a.jpg", size=(64, 32)))[0]
    assert pixels.shape == (32, 64, 3)
    png = _frames(make_image(tmp_path / "a.png", size=(64, 32)))[0]
    assert np.abs(pixels.astype(int) - png.astype(int)).mean() < 8  # the same picture, lossy


def test_image_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"a\.gif: make_image writes"):
        make_image(tmp_path / "a.gif")
    with pytest.raises(BadInput, match="even for JPEG"):
        make_image(tmp_path / "a.jpg", size=(33, 17))
