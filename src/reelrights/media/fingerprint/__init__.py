"""Perceptual fingerprints of registered assets: what a scan compares to find copies.

* video and still images: PDQ hashes of frames sampled at 1 fps plus scene changes (vPDQ style),
  or of key frames only for a fast catalog pass (:mod:`.video`);
* audio, also a film's soundtrack: raw Chromaprint sub-fingerprints (:mod:`.audio`) and, when
  asked (``landmarks=True``: the engine's file job asks for every audio file and film), landmark
  prints (:mod:`.landmarks`) computed from the same decode of the audio stream;
* scripts and text (plain, Fountain, PDF): MinHash of word 5-shingles, per scene, plus exact
  hashes of normalized lines (:mod:`.text`).

:func:`fingerprint_file` picks the signals for an asset category and returns them together.
Every failure to read a file is a :class:`reelrights.errors.MediaError` naming the file, so a batch
can report it and carry on. :data:`SIGNALS` lists one class per signal kind (compute, to_bytes,
from_bytes, distance, examples). Matching at scale is :mod:`reelrights.media.index`'s job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reelrights.errors import MediaError
from reelrights.media.fingerprint.audio import (
    AudioPrint,
    Chromaprinter,
    best_alignment,
    bit_error_rate,
    fingerprint_audio,
)
from reelrights.media.fingerprint.base import check_file, hamming_matrix, media_errors
from reelrights.media.fingerprint.landmarks import LandmarkPrint, LandmarkStream
from reelrights.media.fingerprint.signals import (
    SIGNALS,
    AudioSignal,
    SignalExamples,
    TextSignal,
    VideoSignal,
)
from reelrights.media.fingerprint.text import (
    TextChunk,
    TextPrint,
    fingerprint_text,
    fingerprint_text_string,
    jaccard,
    normalize_line,
)
from reelrights.media.fingerprint.video import (
    COPY_BURST,
    PDQ_MATCH_DISTANCE,
    PDQ_MIN_QUALITY,
    REFERENCE_CROPS,
    REFERENCE_FPS,
    VideoPrint,
    fingerprint_video,
    frame_match_share,
    pdq_hash_image,
    region_mode,
    split_crops,
)

MODES = ("fast", "thorough")

__all__ = [
    "PDQ_MATCH_DISTANCE",
    "PDQ_MIN_QUALITY",
    "REFERENCE_CROPS",
    "REFERENCE_FPS",
    "MODES",
    "COPY_BURST",
    "region_mode",
    "split_crops",
    "SIGNALS",
    "AudioPrint",
    "AudioSignal",
    "FileFingerprints",
    "SignalExamples",
    "TextChunk",
    "TextPrint",
    "TextSignal",
    "VideoPrint",
    "VideoSignal",
    "best_alignment",
    "bit_error_rate",
    "fingerprint_audio",
    "fingerprint_file",
    "fingerprint_text",
    "fingerprint_text_string",
    "fingerprint_video",
    "frame_match_share",
    "hamming_matrix",
    "jaccard",
    "normalize_line",
    "pdq_hash_image",
]

CATEGORIES = ("video", "audio", "text", "document", "image")


@dataclass(frozen=True)
class FileFingerprints:
    """Every fingerprint of one file; a kind that does not apply is None (a film has video and,
    if it has a soundtrack, audio and, if asked for, landmark)."""

    video: VideoPrint | None = None
    audio: AudioPrint | None = None
    text: TextPrint | None = None
    landmark: LandmarkPrint | None = None


def fingerprint_file(
    path: str | os.PathLike[str],
    category: str,
    *,
    keyframes_only: bool = False,
    crop_variants: tuple[int, ...] = (),
    fps: float = 1.0,
    dihedral: bool = False,
    burst: int = 1,
    regions: str = "",
    landmarks: bool = False,
    aspects: tuple[float, ...] = (),
) -> FileFingerprints:
    """Fingerprint ``path`` as an asset of ``category`` (media/probe.py's categories: video, audio,
    text, document, image). A still image is a one-frame VideoPrint (mode ``"still"``). For
    registry (reference) prints pass ``crop_variants=REFERENCE_CROPS`` so that copies cropped up
    to ~10 % are found, and ``fps=REFERENCE_FPS`` so that copies cut anywhere line up (see
    :func:`fingerprint_video`); queries pass ``dihedral=True`` (flipped and turned copies) and
    ``burst=COPY_BURST`` (one frame of each burst lines up with a reference sample).
    ``landmarks=True`` adds the landmark print of an audio file or a film's soundtrack, computed
    from the decode Chromaprint reads (the audio stream is decoded once for both). ``aspects``
    (queries: the registered pictures' aspects) adds aspect cuts (:mod:`.aspect`)."""
    p = check_file(path)
    if category == "video":  # the soundtrack is decoded in the picture pass: one opening, one demux
        stream = LandmarkStream() if landmarks else None
        with Chromaprinter(p, stream.feed if stream else None) as sound:
            video = fingerprint_video(p, keyframes_only=keyframes_only, crop_variants=crop_variants, fps=fps,
                                      dihedral=dihedral, burst=burst, regions=regions, aspects=aspects,
                                      sound=sound)
            with media_errors(p, "audio"):
                audio = sound.finish()
        if audio is None:
            return FileFingerprints(video=video)
        return FileFingerprints(video=video, audio=audio, landmark=stream.finish() if stream else None)
    if category == "audio":
        return _audio_prints(p, landmarks)
    if category in ("text", "document"):
        return FileFingerprints(text=fingerprint_text(p))
    if category == "image":
        return FileFingerprints(video=fingerprint_video(p, scene_changes=False, crop_variants=crop_variants,
                                                        dihedral=dihedral))
    raise MediaError(
        f"{p}: category {category!r} has no fingerprint; use one of {', '.join(CATEGORIES)}", path=str(p)
    )


def _audio_prints(path: Path, landmarks: bool) -> FileFingerprints:
    """Chromaprint of the first audio stream and, if ``landmarks``, its landmark print, from one
    decode."""
    stream = LandmarkStream() if landmarks else None
    audio = fingerprint_audio(path, tap=stream.feed if stream else None)
    return FileFingerprints(audio=audio, landmark=stream.finish() if stream else None)
