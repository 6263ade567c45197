"""Generated copies for the robustness tests and benchmarks: what a training pipeline does to a
recording or a script, done in numpy and plain Python (nothing is downloaded).

* :func:`make_babble`: speech-like sound (a voiced source at 100-160 Hz through two formant
  resonators that change every syllable, syllables of 0.25 s, pauses and fricative noise), the
  "speech" a recording is mixed under;
* :func:`mix_equal`: two recordings summed at equal RMS loudness (0 dB), written as WAV;
* :func:`resample_speed`: a tempo-and-pitch change (the samples played at another rate);
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

__all__ = ["make_babble", "mix_equal", "paraphrase_scenes", "read_wav", "reorder_scenes", "resample_speed",
           "write_wav"]

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
    b = _to_rate(b, rb, rate)
    if len(b) < len(a):
        b = np.tile(b, len(a) // max(1, len(b)) + 1)
    b = b[:len(a)]
    rms_a, rms_b = float(np.sqrt(np.mean(a * a))), float(np.sqrt(np.mean(b * b)))
    if rms_a == 0 or rms_b == 0:
        raise BadInput(f"{work} or {bed} is silent; mix two recordings with sound")
    return write_wav(out, a + b * (rms_a / rms_b), rate)


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
