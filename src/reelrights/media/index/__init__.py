"""Matching indexes: find registered works in scanned media by their fingerprints.

* :class:`PDQIndex` - exact PDQ (256-bit) radius search by multi-index hashing, persisted in
  crash-safe segments and updated incrementally; :class:`FlatPDQIndex` - the FAISS flat
  baseline with the same API; :class:`ApproxPDQIndex` - FAISS IVF, approximate (``exact = False``).
* :class:`ScriptIndex` - MinHash LSH over script chunks.
* :class:`AudioIndex` - Chromaprint sub-fingerprint alignment search.
* :class:`LandmarkSegmentIndex` - landmark peak-pair search (pitch, tempo, 0 dB mixes), the
  hash-sorted reference tables memory-mapped.
"""

from __future__ import annotations

from .approx import ApproxPDQIndex
from .audio import AudioIndex, AudioMatch
from .common import PDQMatches
from .flat import FlatPDQIndex
from .landmarks import LandmarkSegmentIndex
from .pdq import PDQIndex
from .scripts import ScriptIndex

__all__ = ["ApproxPDQIndex", "AudioIndex", "AudioMatch", "FlatPDQIndex", "LandmarkSegmentIndex", "PDQIndex",
           "PDQMatches", "ScriptIndex"]
