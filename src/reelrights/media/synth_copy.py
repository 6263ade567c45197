"""Generated copies for the robustness tests and benchmarks: what a training pipeline does to a
recording or a script, done in numpy and plain Python (nothing is downloaded).

* :func:`make_babble`: speech-like sound (a voiced source at 100-160 Hz through two formant
  resonators that change every syllable, syllables of 0.25 s, pauses and fricative noise), the
  "speech" a recording is mixed under;
* :func:`mix_equal`: two recordings summed at equal RMS loudness (0 dB), written as WAV;
* :func:`resample_speed`: a tempo-and-pitch change (the samples played at another rate);
* :func:`read_soundtrack`, :func:`pitch_shift`, :func:`change_tempo`, :func:`mix_samples` and
  :func:`with_soundtrack`: a film's soundtrack decoded, pitch-shifted or sped up (FFmpeg's
  ``asetrate``, ``aresample`` and ``atempo`` through PyAV) or mixed with another sound at 0 dB,
  and put back under the film's (re-encoded) pictures or another film's;
* :func:`reorder_scenes` / :func:`paraphrase_scenes`: a screenplay's scenes shuffled, and a share
  of each scene's dialogue lines rewritten (words swapped for others and reordered).
"""

from __future__ import annotations

import os
import random
import re
import wave
from pathlib import Path

import numpy as np

from reelrights.errors import BadInput

__all__ = ["change_tempo", "make_babble", "mix_equal", "mix_samples", "paraphrase_scenes", "pitch_shift",
           "read_soundtrack", "read_wav", "reorder_scenes", "resample_speed", "with_soundtrack", "write_wav"]

_HEADING = re.compile(r"^(INT\.|EXT\.)")
_FORMANTS = ((700, 1200), (300, 2300), (500, 900), (400, 1900), (600, 1700), (350, 800))


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int) -> Path:
    p = Path(path)
    x = np.asarray(samples, dtype=np.float64)
    peak = float(np.abs(x).max()) if len(x) else 0.0
    x = x * (0.8 / peak) if peak > 0.8 else x
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.rint(x * 32767).astype("<i2").tobytes())
    return p


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV (as make_audio writes) as float samples in [-1, 1] and its rate."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise BadInput(f"{path}: read_wav reads 16-bit mono WAV; convert it first")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.astype(np.float64) / 32767, w.getframerate()


def _resonator(x: np.ndarray, freq: float, rate: int, bandwidth: float = 100.0) -> np.ndarray:
    """A two-pole resonator (a formant), run sample by sample in blocks via the closed form."""
    r = np.exp(-np.pi * bandwidth / rate)
    c1, c2 = 2 * r * np.cos(2 * np.pi * freq / rate), -r * r
    y = np.zeros(len(x) + 2)
    for i in range(len(x)):  # short syllables: a plain loop is fast enough for tests
        y[i + 2] = (1 - r) * x[i] + c1 * y[i + 1] + c2 * y[i]
    return y[2:]


def make_babble(path: str | os.PathLike[str], *, seconds: float = 20.0, rate: int = 16000, seed: int = 0) -> Path:
    """Write speech-like babble (see the module docstring) as 16-bit mono WAV."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    f0 = 130 + 25 * np.sin(2 * np.pi * 0.6 * t + rng.uniform(0, 6)) + 15 * np.sin(2 * np.pi * 2.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    source = np.sum([np.sin(k * phase) / k for k in range(1, 25)], axis=0)
    out = np.zeros(n)
    syl = round(0.25 * rate)
    for s in range(0, n, syl):
        seg = source[s:s + syl]
        if rng.random() < 0.15:
            continue  # a pause
        f1, f2 = _FORMANTS[int(rng.integers(len(_FORMANTS)))]
        voiced = _resonator(seg, f1, rate) + 0.6 * _resonator(seg, f2, rate)
        env = np.sin(np.pi * np.arange(len(seg)) / len(seg)) ** 0.5
        out[s:s + len(seg)] = voiced * env
        if rng.random() < 0.3:  # a fricative at the syllable's end
            k = len(seg) // 4
            out[s + len(seg) - k:s + len(seg)] += 0.3 * np.abs(voiced).max() * rng.normal(size=k)
    return write_wav(path, out / max(1e-9, np.abs(out).max()) * 0.8, rate)


def mix_equal(work: str | os.PathLike[str], bed: str | os.PathLike[str], out: str | os.PathLike[str], *,
              start_s: float = 0.0, seconds: float = 15.0, rate: int = 44100) -> Path:
    """``seconds`` of ``work`` from ``start_s`` with ``bed`` (from its start) mixed in at the same
    RMS loudness (0 dB), written as WAV at ``rate``. Both inputs are WAV files."""
    a, ra = read_wav(work)
    b, rb = read_wav(bed)
    a = _to_rate(a, ra, rate)[round(start_s * rate):round((start_s + seconds) * rate)]
    try:
        return write_wav(out, mix_samples(a, _to_rate(b, rb, rate)), rate)
    except BadInput:
        raise BadInput(f"{work} or {bed} is silent; mix two recordings with sound") from None


def mix_samples(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a`` with ``b`` (looped or cut to ``a``'s length) added at the same RMS loudness (0 dB)."""
    if len(b) and len(b) < len(a):
        b = np.tile(b, len(a) // len(b) + 1)
    b = b[:len(a)]
    rms_a = float(np.sqrt(np.mean(a * a))) if len(a) else 0.0
    rms_b = float(np.sqrt(np.mean(b * b))) if len(b) else 0.0
    if rms_a == 0 or rms_b == 0:
        raise BadInput("one of the two recordings is silent; mix two recordings with sound")
    return a + b * (rms_a / rms_b)


def read_soundtrack(path: str | os.PathLike[str], rate: int = 44100) -> np.ndarray:
    """The first audio stream of ``path`` (a film or a recording) as float mono samples in [-1, 1]."""
    import av

    chunks = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise BadInput(f"{path}: has no audio stream; pick a film with a soundtrack")
        rs = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(container.streams.audio[0]):
            chunks += [c.to_ndarray().reshape(-1) for c in rs.resample(frame)]
        chunks += [c.to_ndarray().reshape(-1) for c in rs.resample(None)]
    return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0)


def pitch_shift(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """``x`` with every pitch times ``factor`` and the same duration (FFmpeg's asetrate +
    aresample + atempo, as the robustness benchmarks' ffmpeg CLI copies)."""
    if not 0.5 <= factor <= 2.0:
        raise BadInput(f"factor={factor}: give a pitch factor between 0.5 and 2")
    return _ffmpeg_filters(x, rate, [("asetrate", f"r={round(rate * factor)}"), ("aresample", str(rate)),
                                     ("atempo", f"{1 / factor:.6f}")])


def change_tempo(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """``x`` played ``factor`` times faster at the same pitch (FFmpeg's atempo)."""
    if not 0.5 <= factor <= 2.0:
        raise BadInput(f"factor={factor}: give a tempo factor between 0.5 and 2")
    return _ffmpeg_filters(x, rate, [("atempo", f"{factor:.6f}")])


def _ffmpeg_filters(x: np.ndarray, rate: int, filters: list[tuple[str, str]]) -> np.ndarray:
    """Mono float samples through a chain of FFmpeg audio filters (PyAV's filter graph)."""
    import av

    g = av.filter.Graph()
    chain = [g.add_abuffer(format="flt", sample_rate=rate, layout="mono"),
             *(g.add(name, arg) for name, arg in filters), g.add("abuffersink")]
    for a, b in zip(chain, chain[1:]):
        a.link_to(b)
    g.configure()
    out: list[np.ndarray] = []

    def drain() -> None:
        while True:
            try:
                out.append(g.pull().to_ndarray().reshape(-1))
            except (av.BlockingIOError, av.EOFError):
                return

    step = rate // 10
    for i in range(0, len(x), step):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[None, i:i + step], dtype=np.float32),
                                           format="flt", layout="mono")
        frame.sample_rate, frame.pts = rate, i
        g.push(frame)
        drain()
    g.push(None)
    drain()
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def with_soundtrack(pictures: str | os.PathLike[str], audio: np.ndarray, rate: int,
                    dst: str | os.PathLike[str], *, start_s: float = 0.0, seconds: float | None = None) -> Path:
    """``pictures``' video (from ``start_s``, ``seconds`` long: default to its end) re-encoded
    (H.264, CRF 30) with ``audio`` as its mono AAC soundtrack, as an MP4 (a re-upload of a film,
    or another film's pictures over this soundtrack)."""
    import av

    d = Path(dst)
    x = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    with av.open(str(pictures)) as inp, av.open(str(d), "w", format="mp4") as out:
        vin = inp.streams.video[0]
        v = out.add_stream("libx264", rate=vin.average_rate or 24, options={"crf": "30", "threads": "1"})
        v.width, v.height, v.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        a = out.add_stream("aac", rate=rate, layout="mono")
        i = 0
        for frame in inp.decode(vin):
            t = float(frame.time or 0.0)
            if t < start_s - 1e-6 or (seconds is not None and t >= start_s + seconds - 1e-6):
                continue
            f = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24").reformat(format="yuv420p")
            f.pts = i
            i += 1
            out.mux(v.encode(f))
        out.mux(v.encode(None))
        for i in range(0, len(x), rate):
            chunk = av.AudioFrame.from_ndarray(x[None, i:i + rate], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = rate, i
            out.mux(a.encode(chunk))
        out.mux(a.encode(None))
    return d


def _to_rate(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x
    m = int(len(x) * dst / src)
    return np.interp(np.arange(m) * src / dst, np.arange(len(x)), x)


def resample_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` played ``factor`` times faster at the same rate (tempo and pitch times ``factor``)."""
    m = int(len(x) / factor)
    return np.interp(np.arange(m) * factor, np.arange(len(x)), x)


def _scenes(text: str) -> tuple[list[str], list[list[str]]]:
    """(lines before the first heading, [scene lines]); ``CUT TO:`` and ``THE END`` lines dropped."""
    head: list[str] = []
    scenes: list[list[str]] = []
    for line in text.splitlines():
        if line.strip() in ("> CUT TO:", "> THE END <", "==="):
            continue
        if _HEADING.match(line):
            scenes.append([line])
        elif scenes:
            scenes[-1].append(line)
        else:
            head.append(line)
    return head, scenes


def reorder_scenes(text: str, *, seed: int = 0, keep: int | None = None) -> str:
    """The screenplay with its scenes shuffled (``keep``: only that many of them)."""
    head, scenes = _scenes(text)
    rng = random.Random(seed)
    rng.shuffle(scenes)
    if keep is not None:
        scenes = scenes[:keep]
    return "\n".join(head + [line for s in scenes for line in s + ["", "> CUT TO:", ""]]) + "\n"


_SWAP = {"you": "ye", "never": "not once", "told": "said to", "me": "myself", "money": "cash", "night": "evening",
         "leave": "go", "find": "discover", "why": "how come", "now": "right now", "nobody": "no one",
         "remembers": "recalls", "song": "tune", "trust": "believe", "tomorrow": "the next day", "again": "once more",
         "before": "ahead of", "still": "yet", "map": "chart", "about": "regarding"}  # fmt: skip


def paraphrase_scenes(text: str, share: float, *, seed: int = 0) -> str:
    """``share`` of each scene's dialogue lines rewritten: common words swapped for synonyms and
    the line's two halves exchanged, so no rewritten line survives verbatim."""
    if not 0.0 <= share <= 1.0:
        raise BadInput(f"share={share}: give a fraction between 0 and 1")
    rng = random.Random(seed)
    lines = text.splitlines()
    out = []
    prev_cue = False
    for line in lines:
        s = line.strip()
        is_dialogue = prev_cue and s and not s.startswith("(")
        prev_cue = bool(s) and s.isupper() and not _HEADING.match(s) and not s.startswith(">") or \
            (prev_cue and s.startswith("("))
        if is_dialogue and rng.random() < share:
            words = [_SWAP.get(w.lower().strip(".?!"), w.lower().strip(".?!")) for w in s.split()]
            half = len(words) // 2
            words = words[half:] + ["and"] + words[:half]
            line = " ".join(words).capitalize() + "."
        out.append(line)
    return "\n".join(out) + "\n"
