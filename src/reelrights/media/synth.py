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
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

from reelrights.errors import BadInput

__all__ = ["make_audio", "make_film", "make_image", "make_pdf", "make_script", "make_video", "transcode_audio",
           "transcode_video"]  # fmt: skip

_VIDEO_CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
_AUDIO_ENCODERS = {".m4a": ("ipod", "aac"), ".mp3": ("mp3", "libmp3lame"), ".flac": ("flac", "flac")}
_BITEXACT = {"fflags": "+bitexact"}  # no random Matroska segment id, no muxer version string
_PENTATONIC = (0, 2, 4, 7, 9)  # semitones above C of the major pentatonic scale


def _video_stream(out: OutputContainer, codec: str, rate: Fraction | int,
                  options: dict[str, str]) -> VideoStream:
    stream = out.add_stream(codec, rate=rate, options=options)
    if not isinstance(stream, VideoStream):
        raise BadInput(f"{codec} is not a video encoder")
    return stream


def _audio_stream(out: OutputContainer, codec: str, rate: int) -> AudioStream:
    stream = out.add_stream(codec, rate=rate, layout="mono")
    if not isinstance(stream, AudioStream):
        raise BadInput(f"{codec} is not an audio encoder")
    return stream

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
    return _encode_video(p, fmt, width, height, fps, n_frames, scenes,
                         lambda i, scene, t: _yuv420p(_draw(looks[scene], t)), codec=codec,
                         options=_encoder_options(codec), melody=melody, sample_rate=sample_rate)


def _encode_video(p: Path, fmt: str, width: int, height: int, fps: int, n_frames: int,
                  scenes: int, planes: Callable[[int, int, float], np.ndarray], *, codec: str,
                  options: dict[str, str], bitrate: int | None = None,
                  melody: np.ndarray | None = None, sample_rate: int = 48000) -> Path:
    """Write ``n_frames`` yuv420p frames in ``scenes`` equal scenes; ``planes(i, scene, t)`` gives
    frame i, t frames into its scene. ``melody``, if given, becomes a mono AAC track."""
    p.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(p), "w", format=fmt, options=_BITEXACT) as out:
        stream = _video_stream(out, codec, Fraction(fps), options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if bitrate:
            stream.bit_rate = int(bitrate)
        if melody is not None:
            audio = _audio_stream(out, "aac", sample_rate)
        for i in range(n_frames):
            scene = min(i * scenes // n_frames, scenes - 1)
            t = i - scene * n_frames / scenes  # frames since the scene began
            frame = av.VideoFrame.from_ndarray(planes(i, scene, t), format="yuv420p")
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
        stream = _audio_stream(out, codec, sample_rate)
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


# --- films with texture, and the transformations a scan must survive ------------------------------
# Added for the fingerprint tests and benchmark: make_video's smooth gradients give PDQ quality
# below 50 (too little texture to hash reliably) and encode to well under 1 Mbps, so neither the
# robustness tests nor a realistic decode benchmark can use them.


def make_film(
    path: str | os.PathLike[str],
    *,
    seconds: float = 16.0,
    fps: int = 24,
    size: tuple[int, int] = (1280, 720),
    scenes: int = 4,
    seed: int = 0,
    bitrate: int | None = None,
    grain: int = 0,
    gop: int | None = None,
    with_audio: bool = False,
    zoom: float = 0.0,
    captions: bool = False,
) -> Path:
    """Write a textured H.264 film in ``scenes`` equal shots: each shot is a camera pan over its
    own natural-looking (1/f noise) colour texture, so PDQ quality is high, with a square moving
    across it, and hard cuts between shots. ``grain`` adds changing film grain of that amplitude (0-32; it makes
    the bitrate realistic), ``bitrate`` (bits/s) switches x264 to average-bitrate mode, ``gop`` is
    the keyframe interval in frames. ``zoom`` (0-0.5) makes every other shot a camera zoom, in
    and out by turns, of up to that fraction; ``captions`` burns in a subtitle line of block
    glyphs at the bottom that changes every 2 s (both off by default: the same seed then gives
    the same film as before they existed). Frames are slices of a precomputed yuv420p texture per shot
    (integer numpy per frame), so generation stays fast at 720p; the same seed gives the same
    film on one machine (the textures come from numpy's FFT)."""
    p = Path(path)
    fmt = _VIDEO_CONTAINERS.get(p.suffix.lower())
    width, height = size
    n_frames = round(seconds * fps)
    if fmt is None:
        raise BadInput(f"{p}: make_film writes .mp4, .mov or .mkv; change the extension")
    if width < 64 or height < 64 or width % 4 or height % 4:
        raise BadInput(f"size={size}: width and height must be multiples of 4 and at least 64")
    if n_frames < 1 or scenes < 1 or fps <= 0 or not 0 <= grain <= 32:
        raise BadInput(f"seconds={seconds}, fps={fps}, scenes={scenes}, grain={grain}: out of range")
    rng = np.random.default_rng(seed)
    margin = (max(width, height) // 8) & ~1
    looks = [_film_look(rng, width, height, margin) for _ in range(scenes)]
    grains = [rng.integers(-grain, grain + 1, (height, width), dtype=np.int16) for _ in range(7)] if grain else []
    sample_rate = 48000
    melody = _melody(n_frames / fps, sample_rate, rng, None) if with_audio else None
    options = _encoder_options("libx264")
    if gop:
        options.update({"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"})
    if not 0 <= zoom <= 0.5:
        raise BadInput(f"zoom={zoom}: give a fraction in [0, 0.5]")
    lines = _caption_lines(np.random.default_rng([seed, 7]), n_frames // (2 * fps) + 1) if captions else []
    shot = n_frames / scenes

    def frame(i: int, scene: int, t: float) -> np.ndarray:
        planes = _film_frame(looks[scene], t, width, height, margin, grains[i % 7] if grains else None)
        if zoom and scene % 2:
            z = zoom * (t / shot if scene % 4 == 1 else 1 - t / shot)
            planes = _zoomed(planes, width, height, 1 / (1 + z))
        if lines:
            _burn_caption(planes, lines[i // (2 * fps)], width, height)
        return planes

    return _encode_video(
        p, fmt, width, height, fps, n_frames, scenes, frame,
        codec="libx264", options=options, bitrate=bitrate, melody=melody, sample_rate=sample_rate)


def _zoomed(planes: np.ndarray, width: int, height: int, window: float) -> np.ndarray:
    """The centre ``window`` (a fraction of each side) of a yuv420p frame, scaled back up to
    full size (nearest neighbour): a camera zoom."""
    y = planes[:height]
    u = planes[height:height + height // 4].reshape(height // 2, width // 2)
    v = planes[height + height // 4:].reshape(height // 2, width // 2)

    def scale(p: np.ndarray) -> np.ndarray:
        h, w = p.shape
        rows = ((np.arange(h) + 0.5) * window + h * (1 - window) / 2).astype(np.int64).clip(0, h - 1)
        cols = ((np.arange(w) + 0.5) * window + w * (1 - window) / 2).astype(np.int64).clip(0, w - 1)
        return p[rows][:, cols]

    return np.concatenate([scale(y), scale(u).reshape(height // 4, width), scale(v).reshape(height // 4, width)])


def _caption_lines(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """``count`` subtitle lines, each a row of 5 x 7 block glyphs with word gaps, as bool masks."""
    glyphs = rng.random((40, 7, 5)) < 0.45
    out = []
    for _ in range(count):
        cells = []
        for _ in range(int(rng.integers(3, 6))):  # words
            for g in rng.integers(0, 40, int(rng.integers(2, 7))):
                cells += [glyphs[g], np.zeros((7, 1), bool)]
            cells.append(np.zeros((7, 3), bool))
        out.append(np.concatenate(cells[:-1], axis=1))
    return out


def _burn_caption(planes: np.ndarray, mask: np.ndarray, width: int, height: int) -> None:
    """Draw ``mask`` white (with a dark one-pixel shadow) centred near the bottom of the luma."""
    k = max(1, height // 120)
    big = np.kron(mask, np.ones((k, k), bool))[:, : width - 8]
    h, w = big.shape
    y0, x0 = height - h - height // 12, (width - w) // 2
    y = planes[:height]
    y[y0 + 1 : y0 + h + 1, x0 + 1 : x0 + w + 1][big] = 16
    y[y0 : y0 + h, x0 : x0 + w][big] = 235


def _film_look(rng: np.random.Generator, width: int, height: int, margin: int) -> dict[str, object]:
    """One shot's texture (Y at full size, U and V at half size, with a pan margin) and motion.

    The texture is 1/f ("pink") noise, the spectrum of natural images: detail at every scale, so
    PDQ quality is high and perceptual hashes behave as on real footage (blocky or purely smooth
    synthetic pictures are far more fragile under crops and rescaling than photographs)."""
    tw, th = width + 2 * margin, height + 2 * margin
    luma = _pink(rng, th, tw, 1.4) * 45 + 128
    chroma = [_pink(rng, th // 2, tw // 2, 1.6) * 30 + 128 for _ in range(2)]
    return {
        "y": np.clip(luma, 16, 235).astype(np.int16), "u": np.clip(chroma[0], 16, 240).astype(np.uint8),
        "v": np.clip(chroma[1], 16, 240).astype(np.uint8), "pan0": rng.uniform(0, 2 * margin, 2),
        "pan_v": rng.uniform(-3, 3, 2), "box0": rng.uniform(0, 1, 2) * (width, height),
        "box_v": rng.uniform(-6, 6, 2), "box_s": int(rng.uniform(0.05, 0.1) * min(width, height)),
        "box_y": int(rng.choice([20, 230])),
    }  # fmt: skip


def _pink(rng: np.random.Generator, height: int, width: int, alpha: float) -> np.ndarray:
    """Zero-mean, unit-variance noise with power falling as 1/f**(2 * alpha), (height, width)."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f = np.hypot(fx, fy)
    f[0, 0] = 1.0
    spectrum = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f**alpha
    spectrum[0, 0] = 0.0
    img = np.fft.irfft2(spectrum, s=(height, width))
    return (img - img.mean()) / img.std()


def _film_frame(look: dict, t: float, width: int, height: int, margin: int, grain: np.ndarray | None) -> np.ndarray:
    """The yuv420p planes of one frame, t frames into its shot, stacked as PyAV wants."""
    limit = np.array([2 * margin, 2 * margin], dtype=np.float64)
    x0, y0 = (int(v) & ~1 for v in _bounce(look["pan0"], look["pan_v"], t, limit))
    y = look["y"][y0 : y0 + height, x0 : x0 + width]
    y = (y + grain if grain is not None else y.copy()).clip(16, 235).astype(np.uint8)
    u = look["u"][y0 // 2 : y0 // 2 + height // 2, x0 // 2 : x0 // 2 + width // 2]
    v = look["v"][y0 // 2 : y0 // 2 + height // 2, x0 // 2 : x0 // 2 + width // 2]
    bx, by = (int(c) for c in _bounce(look["box0"], look["box_v"], t, np.array([width, height], np.float64)))
    s = look["box_s"]
    y[max(0, by - s) : by + s, max(0, bx - s) : bx + s] = look["box_y"]
    return np.concatenate([y, u.reshape(height // 4, width), v.reshape(height // 4, width)])


def transcode_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    codec: str = "libx264",
    bitrate: int | None = None,
    size: tuple[int, int] | None = None,
    crop: float = 0.0,
    start: float = 0.0,
    duration: float | None = None,
    crop_origin: tuple[float, float] | None = None,
) -> Path:
    """Re-encode the first video stream of ``src`` into ``dst`` (video only): optionally cut to
    [start, start + duration) seconds, crop ``crop`` (a fraction, e.g. 0.1) off each side's total
    (half from each edge, or from ``crop_origin``: the fractions cut from the top and the left,
    each at most ``crop``), scale to ``size``, with ``codec`` at ``bitrate``. The transformations a
    pirate copy goes through, so tests can prove the fingerprints survive them."""
    s, d = Path(src), Path(dst)
    fmt = _VIDEO_CONTAINERS.get(d.suffix.lower())
    if fmt is None:
        raise BadInput(f"{d}: transcode_video writes .mp4, .mov or .mkv; change the extension")
    if not 0 <= crop < 0.5:
        raise BadInput(f"crop={crop}: give a fraction in [0, 0.5)")
    top, left = crop_origin if crop_origin is not None else (crop / 2, crop / 2)
    if not (0 <= top <= crop and 0 <= left <= crop):
        raise BadInput(f"crop_origin={crop_origin}: give the top and left cuts, each within 0..crop")
    _require_encoder(codec, "use libx264")
    d.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(s)) as inp, av.open(str(d), "w", format=fmt, options=_BITEXACT) as out:
        vin = inp.streams.video[0]
        rate = vin.average_rate or Fraction(24)
        stream = None
        n = 0
        for frame in inp.decode(vin):
            t = float(frame.time or 0.0)
            if t < start - 1e-6:
                continue
            if duration is not None and t >= start + duration - 1e-6:
                break
            img = frame.to_ndarray(format="rgb24")
            if crop:
                h, w = img.shape[:2]
                dy, dx = round(h * top), round(w * left)
                img = img[dy : dy + round(h * (1 - crop)), dx : dx + round(w * (1 - crop))]
            h, w = img.shape[:2]
            ow, oh = size if size else (w & ~1, h & ~1)
            if stream is None:
                stream = _video_stream(out, codec, rate, _encoder_options(codec))
                stream.width, stream.height, stream.pix_fmt = ow, oh, "yuv420p"
                if bitrate:
                    stream.bit_rate = int(bitrate)
            new = av.VideoFrame.from_ndarray(np.ascontiguousarray(img, dtype=np.uint8),
                                             format="rgb24")
            new = new.reformat(width=ow, height=oh, format="yuv420p")
            new.pts = n
            n += 1
            out.mux(stream.encode(new))
        if stream is None:
            raise BadInput(f"{s}: no video frames in [{start}, {start + (duration or 0)}) s; change start/duration")
        out.mux(stream.encode(None))
    return d


def transcode_audio(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], *, start: float = 0.0, duration: float | None = None
) -> Path:
    """Re-encode the first audio stream of ``src`` as mono ``dst`` (.wav, .m4a, .mp3 or .flac by
    extension), optionally only [start, start + duration) seconds: a re-encoded recording or an
    excerpt of it."""
    s, d = Path(src), Path(dst)
    ext = d.suffix.lower()
    if ext != ".wav" and ext not in _AUDIO_ENCODERS:
        raise BadInput(f"{d}: transcode_audio writes .wav, .m4a, .mp3 or .flac; change the extension")
    with av.open(str(s)) as inp:
        ain = inp.streams.audio[0]
        rate = ain.codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        parts = [r.to_ndarray().reshape(-1) for f in inp.decode(ain) for r in resampler.resample(f)]
    signal = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    lo = round(start * rate)
    hi = len(signal) if duration is None else min(len(signal), lo + round(duration * rate))
    signal = np.ascontiguousarray(signal[lo:hi], dtype=np.float32)
    if not len(signal):
        raise BadInput(f"{s}: no audio in [{start}, ...) s; change start/duration")
    d.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".wav":
        with wave.open(str(d), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(np.rint(np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())
        return d
    fmt, codec = _AUDIO_ENCODERS[ext]
    _require_encoder(codec, "write .wav or .m4a instead")
    with av.open(str(d), "w", format=fmt, options=_BITEXACT) as out:
        stream = _audio_stream(out, codec, rate)
        frame = av.AudioFrame.from_ndarray(signal[None, :], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return d


def make_pdf(path: str | os.PathLike[str], text: str, *, lines_per_page: int = 54, font_size: int = 10) -> Path:
    """Write ``text`` as a PDF with a real text layer (Helvetica, one PDF text line per input
    line, ``lines_per_page`` a page), like a screenplay exported from a writing app. Minimal
    hand-written PDF 1.4 (no dependency); characters outside Latin-1 become ``?``."""
    p = Path(path)
    if p.suffix.lower() != ".pdf":
        raise BadInput(f"{p}: make_pdf writes .pdf; change the extension")
    if lines_per_page < 1 or font_size < 1:
        raise BadInput(f"lines_per_page={lines_per_page}, font_size={font_size}: must be positive")
    lines = text.splitlines() or [""]
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 "
                            b"/BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]  # fmt: skip
    kids = []
    for page in pages:
        body = [f"BT /F1 {font_size} Tf {round(font_size * 1.2)} TL 72 760 Td".encode()]
        for line in page:
            raw = line.encode("latin-1", errors="replace")
            body.append(b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b") Tj T*")
        body.append(b"ET")
        stream = b"\n".join(body)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       b"/Contents %d 0 R >>" % len(objects))  # fmt: skip
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(bytes(out))
    return p
