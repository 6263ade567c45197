"""The signal registry: one small class per fingerprint kind, in the shape of python-threatexchange's
signal types (compute, serialize, compare, examples), so storage, scans and a shared test suite
can treat every kind alike.

``distance(a, b)`` is in [0, 1] and ``match_threshold`` is the largest distance that counts as a
match: for video, 1 - the vPDQ share of a's usable frames found in b (match: >= 80 % found); for
audio, the bit error rate at the best alignment (match: <= 0.35); for text, 1 - the estimated
Jaccard similarity (match: Jaccard >= 0.5).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from reelrights.media.fingerprint.audio import AudioPrint, best_alignment, fingerprint_audio
from reelrights.media.fingerprint.text import TextPrint, fingerprint_text, jaccard
from reelrights.media.fingerprint.video import VideoPrint, fingerprint_video, frame_match_share

__all__ = ["SIGNALS", "AudioSignal", "SignalExamples", "TextSignal", "VideoSignal"]



class _Print(Protocol):
    def to_bytes(self) -> bytes: ...


P = TypeVar("P", bound=_Print)


@dataclass(frozen=True)
class SignalExamples:
    """Three generated files: an original, a transformed copy of it, and unrelated content."""

    original: Path
    near_copy: Path
    unrelated: Path


class _Signal(Generic[P]):
    name: ClassVar[str]
    print_type: ClassVar[Any]  # P's class (a ClassVar cannot name a type variable)
    match_threshold: ClassVar[float]

    @classmethod
    def to_bytes(cls, fp: P) -> bytes:
        return fp.to_bytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> P:
        p: P = cls.print_type.from_bytes(blob)
        return p

    @classmethod
    def matches(cls, a: P, b: P) -> bool:
        return cls.distance(a, b) <= cls.match_threshold

    @classmethod
    def compute(cls, path: str | os.PathLike[str]) -> P:
        raise NotImplementedError

    @classmethod
    def distance(cls, a: P, b: P) -> float:
        raise NotImplementedError


class VideoSignal(_Signal[VideoPrint]):
    name = "video_pdq"
    print_type = VideoPrint
    match_threshold = 0.2

    @classmethod
    def compute(cls, path: str | os.PathLike[str]) -> VideoPrint:
        return fingerprint_video(path)

    @classmethod
    def distance(cls, a: VideoPrint, b: VideoPrint) -> float:
        return 1.0 - frame_match_share(a, b)

    @classmethod
    def examples(cls, workdir: Path) -> SignalExamples:
        from reelrights.media.synth import make_film, transcode_video

        original = make_film(workdir / "film.mp4", seconds=6, fps=8, size=(640, 360), scenes=3, seed=11)
        copy = transcode_video(original, workdir / "film-small.mp4", size=(320, 180), bitrate=300_000)
        other = make_film(workdir / "other.mp4", seconds=6, fps=8, size=(640, 360), scenes=3, seed=12)
        return SignalExamples(original, copy, other)


class AudioSignal(_Signal[AudioPrint]):
    name = "audio_chromaprint"
    print_type = AudioPrint
    match_threshold = 0.35

    @classmethod
    def compute(cls, path: str | os.PathLike[str]) -> AudioPrint:
        return fingerprint_audio(path)

    @classmethod
    def distance(cls, a: AudioPrint, b: AudioPrint) -> float:
        if not len(a) or not len(b):
            return 1.0
        return best_alignment(a.items, b.items)[1]

    @classmethod
    def examples(cls, workdir: Path) -> SignalExamples:
        from reelrights.media.synth import make_audio, transcode_audio

        original = make_audio(workdir / "song.wav", seconds=20, seed=21)
        copy = transcode_audio(original, workdir / "song.mp3")
        other = make_audio(workdir / "other.wav", seconds=20, notes=[40, 47, 52, 41, 45, 50, 38, 43])
        return SignalExamples(original, copy, other)


class TextSignal(_Signal[TextPrint]):
    name = "text_minhash"
    print_type = TextPrint
    match_threshold = 0.5

    @classmethod
    def compute(cls, path: str | os.PathLike[str]) -> TextPrint:
        return fingerprint_text(path)

    @classmethod
    def distance(cls, a: TextPrint, b: TextPrint) -> float:
        return 1.0 - jaccard(a.minhash, b.minhash)

    @classmethod
    def examples(cls, workdir: Path) -> SignalExamples:
        from reelrights.media.synth import make_script

        original = make_script(workdir / "script.fountain", title="Night Ferry", author="A. Writer", scenes=8, seed=31)
        text = original.read_text(encoding="utf-8")
        copy = workdir / "script-reformatted.txt"
        copy.write_text("\n".join("   " + line.upper() + "  " for line in text.splitlines()) + "\n", encoding="utf-8")
        other = make_script(workdir / "other.fountain", title="Dry Season", author="B. Writer", scenes=8, seed=32)
        return SignalExamples(original, copy, other)


#: Every signal kind by name.
SIGNALS: dict[str, type[_Signal]] = {s.name: s for s in (VideoSignal, AudioSignal, TextSignal)}
