"""Audio matches for a scan: landmark prints first, Chromaprint for what landmarks do not cover.

**Landmarks** (:mod:`reelrights.media.fingerprint.landmarks`) decide for every registered asset
that has a ``landmark`` print: audio files, and films' soundtracks (made from the same decode of
the audio stream as Chromaprint, since docs/scan.md's soundtrack figures). They find re-encodes,
excerpts, +-5 % pitch, tempo and speed changes and the work under music or speech at 0 dB (30/30
copies of each family in ``benchmarks/recovery_robustness.py``), with 2 false matches in 333
queries of a hard generator; a film's soundtrack is found the same way inside a re-encoded video,
under other pictures or ripped to an audio file (a match of the film's asset, ``signal`` audio).
The registered prints are searched in the home's persistent landmark index (``index/landmarks``,
:class:`reelrights.media.index.LandmarkSegmentIndex`, written when prints are computed and by
``fingerprint --rebuild-index``), memory-mapped once per scan when an item with sound comes
along: index id = the ``fingerprints`` row's ``seq``. The scan reads only ``seq`` and ``sha256`` of
the ok ``landmark`` rows: an indexed seq no longer there (a recomputed print) gets no votes, and
ok rows the index lacks (a crash between the database commit and the index flush, or a home
indexed before landmarks had an index) are read with their data into an in-memory table searched
together with the index, so no asset is silently missed; ``fingerprint --rebuild-index`` makes
that read unnecessary again.

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

from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from ..store.fingerprint_tables import fingerprints

__all__ = ["LandmarkRegistry", "match_landmarks"]


class LandmarkRegistry:
    """The registered recordings' landmark tables, opened on first use: the home's landmark
    index (memory-mapped) and, in memory, the ok rows it lacks."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.tables: list[Any] | None = None
        self.sha: dict[int, str] = {}
        self.ignore = np.zeros(0, np.int64)
        self.unindexed = 0  # ok rows read from the database because the index lacks them

    def load(self, conn: Connection) -> LandmarkRegistry:
        if self.tables is not None:
            return self
        from ..media.fingerprint.landmarks import LandmarkIndex, landmarks_from_bytes
        from ..media.index import LandmarkSegmentIndex

        self.sha = {int(r.seq): r.sha256 for r in conn.execute(
            select(fingerprints.c.seq, fingerprints.c.sha256)
            .where(fingerprints.c.kind == "landmark", fingerprints.c.status == "ok"))}
        tables: list[Any] = []
        indexed = np.zeros(0, np.int64)
        if self.directory is not None and self.directory.is_dir():
            index = LandmarkSegmentIndex.open(self.directory)
            tables += index.tables()
            indexed = index.ids
        known = np.fromiter(self.sha, np.int64, len(self.sha))
        self.ignore = indexed[~np.isin(indexed, known)]  # recomputed since: stale
        missing = sorted(known[~np.isin(known, indexed)].tolist())
        memory = LandmarkIndex()
        for i in range(0, len(missing), 500):
            for r in conn.execute(select(fingerprints.c.seq, fingerprints.c.data)
                                  .where(fingerprints.c.seq.in_(missing[i:i + 500]))
                                  .order_by(fingerprints.c.seq)):
                memory.add(int(r.seq), landmarks_from_bytes(bytes(r.data)))
        self.unindexed = len(memory)
        if len(memory):
            tables.append(memory.table())
        self.tables = tables
        return self

    @property
    def covered(self) -> set[str]:
        """Assets whose audio landmarks decide (their Chromaprint hits are dropped)."""
        return set(self.sha.values())

    def search(self, query: Any) -> list[Any]:
        from ..media.fingerprint.landmarks import search_tables

        return search_tables(self.tables or [], query, ignore=self.ignore)


def match_landmarks(reg: LandmarkRegistry, query: Any) -> list[dict[str, Any]]:
    if not reg.tables or not len(query):
        return []
    out = []
    for h in reg.search(query):
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
