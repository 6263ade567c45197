"""Audio matches for a scan: landmark prints first, Chromaprint for what landmarks do not cover.

**Landmarks** (:mod:`reelrights.media.fingerprint.landmarks`) decide for every registered asset
that has a ``landmark`` print: audio files, and films' soundtracks (made from the same decode of
the audio stream as Chromaprint, since docs/scan.md's soundtrack figures). They find re-encodes,
excerpts, +-5 % pitch, tempo and speed changes and the work under music or speech at 0 dB (30/30
copies of each family in ``benchmarks/recovery_robustness.py``), with 2 false matches in 333
queries of a hard generator; a film's soundtrack is found the same way inside a re-encoded video,
under other pictures or ripped to an audio file (a match of the film's asset, ``signal`` audio).
The index is built in memory, once per scan and only when an item with sound comes along, from
the stored compact hashes (``fingerprints`` rows of kind ``landmark``): index id = the row's ``seq``.

**Chromaprint** is not a first pass: on the same benchmark it misses 0 dB mixes and pitch
changes (0-50 % recall), so its silence cannot spare the landmark search, and it matched a wrong
melody of the same generator in 23-29 of 30 copies, so its hits cannot be trusted alone either.
It is kept for what has no landmarks: assets fingerprinted before landmarks existed (audio
files) or before soundtracks got them (films), until ``reelrights fingerprint --force``. A
Chromaprint hit on an asset that has a landmark print is dropped: landmarks already judged it.

A landmark match: ``signal`` ``audio``, ``method`` ``landmarks``, ``similarity`` =
1 - 1/contrast (contrast: the best time offset's votes over the next best offset's; accepted
from 3.5, i.e. similarity >= 0.714), ``votes``, ``contrast``, ``pitch`` and ``tempo`` (the copy's
factors relative to the work), and one range in copy and work (ms, within about 0.5 s).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ..store.fingerprint_tables import fingerprints

__all__ = ["LandmarkRegistry", "match_landmarks"]


class LandmarkRegistry:
    """The registered recordings' landmark index, loaded from the database on first use."""

    def __init__(self) -> None:
        self.index: Any = None
        self.sha: dict[int, str] = {}

    def load(self, conn: Connection) -> LandmarkRegistry:
        if self.index is not None:
            return self
        from ..media.fingerprint.landmarks import (
            LandmarkHashes,
            LandmarkIndex,
            landmarks_from_bytes,
        )

        self.index = LandmarkIndex()
        rows = conn.execute(select(fingerprints.c.seq, fingerprints.c.sha256, fingerprints.c.data)
                            .where(fingerprints.c.kind == "landmark",
                                   fingerprints.c.status == "ok")
                            .order_by(fingerprints.c.seq))
        for r in rows:
            p = landmarks_from_bytes(bytes(r.data))
            self.index.add(int(r.seq), p if isinstance(p, LandmarkHashes) else p.compact())
            self.sha[int(r.seq)] = r.sha256
        return self

    @property
    def covered(self) -> set[str]:
        """Assets whose audio landmarks decide (their Chromaprint hits are dropped)."""
        return set(self.sha.values())


def match_landmarks(reg: LandmarkRegistry, query: Any) -> list[dict[str, Any]]:
    if reg.index is None or not len(reg.index) or not len(query):
        return []
    out = []
    for h in reg.index.search(query):
        sha = reg.sha.get(int(h.id))
        if sha is None:
            continue
        out.append({"signal": "audio", "method": "landmarks", "sha256": sha,
                    "similarity": round(1 - 1 / max(h.contrast, 1.0), 6),
                    "votes": h.votes, "contrast": h.contrast, "pitch": h.pitch, "tempo": h.tempo,
                    "ranges": [{"query_start_ms": round(1000 * h.query_start_s),
                                "query_end_ms": round(1000 * h.query_end_s),
                                "ref_start_ms": max(0, round(1000 * h.ref_start_s)),
                                "ref_end_ms": round(1000 * h.ref_end_s)}]})
    return out
