"""Deterministic generated media for the demo and the tests: nothing is downloaded.

Every function writes one file and returns its path; the same arguments give the same content.

* :func:`make_video`: H.264 (or another PyAV encoder) in MP4, QuickTime or Matroska. Frames are
  drawn with numpy: each scene has its own colour gradient, drifting over time, and a circle and a
  square that move across it, so perceptual fingerprints see real motion and hard scene cuts.
  Colour conversion to yuv420p is done in numpy, the encoder runs on one thread and the muxer is
  bitexact, so the output depends on neither the CPU count nor its vector instructions: the same
  seed gives the same bytes on one PyAV/FFmpeg build, and the same decoded frames.
* :func:`make_audio`: a short melody (sines with harmonics under a pluck envelope) as WAV (16-bit
  PCM, written with the standard library), M4A (AAC), MP3 or FLAC, by extension.
* :func:`make_script`: a short Fountain screenplay built from a small vocabulary.
* :func:`make_image`: PNG (a minimal pure-Python writer) or JPEG (PyAV's mjpeg encoder).
"""

from __future__ import annotations

import os
import random
import struct
import wave
import zlib
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from reelrights.errors import BadInput

__all__ = ["make_audio", "make_image", "make_script", "make_video"]

_VIDEO_CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
_AUDIO_ENCODERS = {".m4a": ("ipod", "aac"), ".mp3": ("mp3", "libmp3lame"), ".flac": ("flac", "flac")}
_BITEXACT = {"fflags": "+bitexact"}  # no random Matroska segment id, no muxer version string
_PENTATONIC = (0, 2, 4, 7, 9)  # semitones above C of the major pentatonic scale


def make_video(
    path: str | os.PathLike[str],
    *,
    seconds: float = 4.0,
    fps: int = 24,
    size: tuple[int, int] = (320, 240),
    seed: int = 0,
    scenes: int = 3,
    codec: str = "libx264",
    with_audio: bool = False,
) -> Path:
    """Write ``round(seconds * fps)`` frames of ``size`` (width, height; both even) in ``scenes``
    equal scenes, with a mono AAC melody if ``with_audio``. The container follows the extension:
    .mp4, .mov or .mkv."""
    p = Path(path)
    fmt = _VIDEO_CONTAINERS.get(p.suffix.lower())
    width, height = size
    n_frames = round(seconds * fps)
    if fmt is None:
        raise BadInput(f"{p}: make_video writes .mp4, .mov or .mkv; change the extension")
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise BadInput(f"size={size}: width and height must be positive and even for yuv420p")
    if n_frames < 1 or scenes < 1 or fps <= 0:
        raise BadInput(f"seconds={seconds}, fps={fps}, scenes={scenes}: need at least one frame and one scene")
    _require_encoder(codec, "use libx264")
    rng = np.random.default_rng(seed)
    looks = [_scene_look(rng, width, height) for _ in range(scenes)]
    sample_rate = 48000
    melody = _melody(n_frames / fps, sample_rate, rng, None) if with_audio else None
    p.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(p), "w", format=fmt, options=_BITEXACT) as out:
        stream = out.add_stream(codec, rate=Fraction(fps), options=_encoder_options(codec))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if melody is not None:
            audio = out.add_stream("aac", rate=sample_rate, layout="mono")
        for i in range(n_frames):
            scene = min(i * scenes // n_frames, scenes - 1)
            t = i - scene * n_frames / scenes  # frames since the scene began
            frame = av.VideoFrame.from_ndarray(_yuv420p(_draw(looks[scene], t)), format="yuv420p")
            frame.pts = i
            out.mux(stream.encode(frame))
            if melody is not None:
                lo, hi = i * sample_rate // fps, (i + 1) * sample_rate // fps
                chunk = av.AudioFrame.from_ndarray(melody[None, lo:hi], format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = sample_rate, lo
                out.mux(audio.encode(chunk))
        out.mux(stream.encode(None))
        if melody is not None:
            out.mux(audio.encode(None))
    return p


def _require_encoder(codec: str, fix: str) -> None:
    try:
        av.codec.Codec(codec, "w")
    except av.codec.codec.UnknownCodecError:
        raise BadInput(f"codec={codec!r}: this PyAV build has no such encoder; {fix}") from None


def _encoder_options(codec: str) -> dict[str, str]:
    """One encoder thread, so the output does not depend on the machine's CPU count."""
    return {"threads": "1", "preset": "veryfast"} if codec == "libx264" else {"threads": "1"}


def _scene_look(rng: np.random.Generator, width: int, height: int) -> dict[str, object]:
    """Random but fixed-by-seed colours, gradient, sizes and velocities of one scene."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    f32 = np.float32
    return {
        "xx": xx, "yy": yy, "size": np.array([width, height], dtype=np.float64),
        "base": xx * f32(np.cos(angle) / width) + yy * f32(np.sin(angle) / height),
        "c0": rng.uniform(0, 255, 3).astype(f32), "c1": rng.uniform(0, 255, 3).astype(f32),
        "drift": rng.uniform(0.005, 0.02),
        "disc": rng.uniform(0, 255, 3).astype(f32), "r": rng.uniform(0.08, 0.2) * min(width, height),
        "p0": rng.uniform(0, 1, 2) * (width, height), "v0": rng.uniform(-4, 4, 2),
        "box": rng.uniform(0, 255, 3).astype(f32), "s": rng.uniform(0.1, 0.25) * min(width, height),
        "p1": rng.uniform(0, 1, 2) * (width, height), "v1": rng.uniform(-3, 3, 2),
    }  # fmt: skip


def _bounce(start: np.ndarray, velocity: np.ndarray, t: float, limit: np.ndarray) -> np.ndarray:
    """Position after t frames of moving at ``velocity``, bouncing inside [0, limit]."""
    q = np.mod(start + velocity * t, 2 * limit)
    return np.where(q > limit, 2 * limit - q, q)


def _draw(look: dict, t: float) -> np.ndarray:
    """One frame of a scene, t frames after it began: float32 R, G, B planes in [0, 255], (3, h, w).

    Only float32 adds, multiplies, floors and compares (no transcendental functions on arrays and
    no reductions), so the pixels do not depend on the CPU's vector instructions."""
    xx, yy, f32 = look["xx"], look["yy"], np.float32
    ramp = look["base"] + f32(look["drift"] * t)
    ramp = np.abs(ramp - f32(2) * np.floor(ramp * f32(0.5)) - f32(1))  # a drifting triangle wave in [0, 1]
    img = look["c0"][:, None, None] + (look["c1"] - look["c0"])[:, None, None] * ramp
    cx, cy = (f32(v) for v in _bounce(look["p0"], look["v0"], t, look["size"]))
    disc = (xx - cx) ** 2 + (yy - cy) ** 2 < f32(look["r"] ** 2)
    bx, by = (f32(v) for v in _bounce(look["p1"], look["v1"], t, look["size"]))
    half = f32(look["s"] / 2)
    box = (np.abs(xx - bx) < half) & (np.abs(yy - by) < half)
    for plane, disc_colour, box_colour in zip(img, look["disc"], look["box"]):
        plane[disc], plane[box] = disc_colour, box_colour
    return img


def _yuv420p(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range yuv420p of (3, h, w) RGB planes, stacked as PyAV wants: (h * 3 / 2, w) uint8."""
    r, g, b = rgb
    y = 16 + r * np.float32(65.481 / 255) + g * np.float32(128.553 / 255) + b * np.float32(24.966 / 255)
    u = 128 - r * np.float32(37.797 / 255) - g * np.float32(74.203 / 255) + b * np.float32(112.0 / 255)
    v = 128 + r * np.float32(112.0 / 255) - g * np.float32(93.786 / 255) - b * np.float32(18.214 / 255)
    h, w = y.shape

    def half(c: np.ndarray) -> np.ndarray:  # the mean of each 2x2 block, rows of two half-rows
        return ((c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]) * np.float32(0.25)).reshape(h // 4, w)

    return np.rint(np.concatenate([y, half(u), half(v)])).astype(np.uint8)


def make_audio(
    path: str | os.PathLike[str],
    *,
    seconds: float = 3.0,
    sample_rate: int = 44100,
    seed: int = 0,
    notes: Sequence[float] | None = None,
) -> Path:
    """Write a mono melody lasting ``seconds``: ``notes`` (MIDI note numbers, played in equal
    slots), or by default four notes a second on a seeded walk of the C major pentatonic scale.
    The format follows the extension: .wav (16-bit PCM), .m4a (AAC), .mp3 or .flac."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext != ".wav" and ext not in _AUDIO_ENCODERS:
        raise BadInput(f"{p}: make_audio writes .wav, .m4a, .mp3 or .flac; change the extension")
    if round(seconds * sample_rate) < 1 or sample_rate <= 0:
        raise BadInput(f"seconds={seconds}, sample_rate={sample_rate}: need at least one sample")
    if notes is not None and len(notes) == 0:
        raise BadInput("notes=[]: give at least one MIDI note number, or None for a generated melody")
    signal = _melody(seconds, sample_rate, np.random.default_rng(seed), notes)
    p.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".wav":
        with wave.open(str(p), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(np.rint(signal * 32767).astype("<i2").tobytes())
        return p
    fmt, codec = _AUDIO_ENCODERS[ext]
    _require_encoder(codec, "write .wav or .m4a instead")
    with av.open(str(p), "w", format=fmt, options=_BITEXACT) as out:
        stream = out.add_stream(codec, rate=sample_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(signal[None, :], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = sample_rate, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return p


def _melody(seconds: float, sample_rate: int, rng: np.random.Generator, notes: Sequence[float] | None) -> np.ndarray:
    """float32 samples in [-0.8, 0.8]: each note a plucked tone with two overtones."""
    n = round(seconds * sample_rate)
    if notes is None:
        steps = np.cumsum(rng.integers(-2, 3, max(1, round(seconds * 4))))
        notes = [60 + 12 * (s // 5) + _PENTATONIC[s % 5] for s in (steps % 15).tolist()]
    out = np.zeros(n, dtype=np.float64)
    bounds = [round(k * n / len(notes)) for k in range(len(notes) + 1)]
    for note, lo, hi in zip(notes, bounds, bounds[1:]):
        if hi == lo:
            continue
        t = np.arange(hi - lo) / sample_rate
        freq = 440.0 * 2 ** ((note - 69) / 12)
        tone = sum(a * np.sin(2 * np.pi * k * freq * t) for k, a in ((1, 1.0), (2, 0.5), (3, 0.25)))
        length = max(t[-1], 1e-3)  # attack 10 ms, decay over the note, release 5 ms: no clicks
        envelope = np.minimum(1.0, t / 0.01) * np.exp(-3.0 * t / length) * np.minimum(1.0, (t[-1] - t) / 0.005)
        out[lo:hi] = tone * envelope
    peak = np.abs(out).max()
    return (out * (0.8 / peak if peak else 0)).astype(np.float32)


_LOCATIONS = ["KITCHEN", "WAREHOUSE", "ROOFTOP", "DINER", "PARKING GARAGE", "LIGHTHOUSE", "TRAIN PLATFORM",
              "HOSPITAL CORRIDOR", "FERRY DECK", "RECORDING STUDIO", "MOTEL ROOM", "ORCHARD"]  # fmt: skip
_TIMES = ["DAY", "NIGHT", "DAWN", "DUSK", "CONTINUOUS", "LATER"]
_NAMES = ["MAYA", "THEO", "ROSA", "DESMOND", "IKE", "JUNE", "PRIYA", "OTIS", "VERA", "SOL"]
_SUBJECTS = ["The rain", "A radio", "The kettle", "A stray dog", "The neon sign", "A siren", "The door"]
_VERBS = ["hums", "rattles", "flickers", "stops", "starts again", "goes quiet", "creaks open"]
_ACTIONS = ["stares at the floor", "pockets a key", "checks the time", "lights a match", "sits down hard",
            "turns away", "reads the letter twice", "laughs without meaning it"]  # fmt: skip
_WORDS = ["you", "never", "told", "me", "about", "the", "money", "map", "night", "it", "was", "yours",
          "we", "can", "still", "leave", "before", "they", "find", "out", "why", "now", "here", "again",
          "nobody", "remembers", "that", "song", "trust", "tomorrow"]  # fmt: skip
_MOODS = ["quietly", "beat", "not looking up", "to herself", "to himself", "smiling", "too fast"]


def make_script(
    path: str | os.PathLike[str], *, title: str, author: str, scenes: int = 3, seed: int = 0, page_breaks: bool = False
) -> Path:
    """Write a short Fountain screenplay: a title page, then ``scenes`` scenes (INT./EXT. heading,
    action, character cues with dialogue), joined by ``CUT TO:``. With ``page_breaks`` a ``===``
    line starts a new page before each scene after the first. UTF-8, ``\\n`` line ends."""
    p = Path(path)
    for name, value in (("title", title), ("author", author)):
        if not value.strip() or "\n" in value or "\r" in value:
            raise BadInput(f"{name}={value!r}: give a non-empty, single-line {name}")
    if scenes < 1:
        raise BadInput(f"scenes={scenes}: a script needs at least one scene")
    rng = random.Random(seed)
    out = [f"Title: {title.strip()}", "Credit: Written by", f"Author: {author.strip()}", ""]
    for n in range(scenes):
        if n:
            out += ["> CUT TO:", ""] + (["===", ""] if page_breaks else [])
        cast = rng.sample(_NAMES, 2)
        where = rng.choice(["INT.", "EXT."])
        out += [f"{where} {rng.choice(_LOCATIONS)} - {rng.choice(_TIMES)}", ""]
        out += [f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)}. {cast[0].title()} {rng.choice(_ACTIONS)}.", ""]
        for turn in range(rng.randint(2, 5)):
            out.append(cast[turn % 2])
            if rng.random() < 0.3:
                out.append(f"({rng.choice(_MOODS)})")
            words = rng.choices(_WORDS, k=rng.randint(3, 10))
            out += [" ".join(words).capitalize() + rng.choice([".", "?", "!", "..."]), ""]
            if rng.random() < 0.25:
                out += [f"{cast[turn % 2].title()} {rng.choice(_ACTIONS)}.", ""]
    out += ["> THE END <"]
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(out) + "\n", encoding="utf-8", newline="\n")
    return p


def make_image(path: str | os.PathLike[str], *, size: tuple[int, int] = (256, 256), seed: int = 0) -> Path:
    """Write a ``size`` (width, height) picture of a seeded gradient with discs: .png (pure Python,
    8-bit RGB) or .jpg/.jpeg (PyAV mjpeg, even sizes only)."""
    p = Path(path)
    ext, (width, height) = p.suffix.lower(), size
    if ext not in (".png", ".jpg", ".jpeg"):
        raise BadInput(f"{p}: make_image writes .png, .jpg or .jpeg; change the extension")
    if width <= 0 or height <= 0 or (ext != ".png" and (width % 2 or height % 2)):
        raise BadInput(f"size={size}: width and height must be positive (and even for JPEG)")
    rng = np.random.default_rng(seed)
    planes = _draw(_scene_look(rng, width, height), float(rng.integers(0, 100)))
    rgb = np.ascontiguousarray(np.rint(planes).astype(np.uint8).transpose(1, 2, 0))
    p.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".png":
        p.write_bytes(_png(rgb))
        return p
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt, codec.time_base = width, height, "yuvj420p", Fraction(1, 1)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
    frame.pts = 0
    p.write_bytes(b"".join(bytes(packet) for packet in [*codec.encode(frame), *codec.encode(None)]))
    return p


def _png(rgb: np.ndarray) -> bytes:
    """A PNG file (8-bit RGB, filter 0 on every row, zlib level 9) of an uint8 height x width x 3 array."""
    height, width, _ = rgb.shape
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
