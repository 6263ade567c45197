"""Find registered recordings in scanned audio: Chromaprint sub-fingerprint alignment search.

A Chromaprint fingerprint is a sequence of 32-bit sub-fingerprints, about 8.07 per second. An
excerpt of a registered recording (re-encoded, trimmed) has sub-fingerprints that mostly agree
with the reference at one fixed offset, with a few percent of bits flipped; unrelated audio
disagrees in about half the bits (bit error rate, BER, ~0.5). So:

1. **Candidates.** An inverted index maps the top 20 bits of each stored sub-fingerprint to its
   (recording, position). Each query item looks up its own top 20 bits and votes for the offset
   ``ref_position - query_position`` of every hit. With 5 % bit noise about a third of the items
   keep their top 20 bits intact, which is plenty of votes at the true offset; chance collisions
   spread their votes over unrelated offsets.
2. **Verification.** For the best-voted offsets, the per-item bit errors over the overlap are
   computed, the longest stretch that matches is found (maximum-sum run of
   ``c - errors`` with ``c`` halfway between ``max_ber`` and chance), and a match is reported when
   that stretch has at least ``min_items`` items and a BER of at most ``max_ber``.

Storage: immutable segments (crash-safe, :mod:`.segments`), each with the concatenated items,
per-recording starts and ids, and a CSR inverted index (offsets over the 2^20 keys, positions
sorted by key), memory-mapped on open. ``flush`` writes one segment; ``compact`` merges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import BadInput, Conflict
from .segments import SegmentDir

__all__ = ["AudioIndex", "AudioMatch"]

KEY_BITS = 20
CANDIDATES = 16  # offsets verified per segment and query


@dataclass(frozen=True)
class AudioMatch:
    """``query[query_start_items:+length_items]`` matches ``id``'s print from ``ref_offset_items``."""

    id: int
    ref_offset_items: int
    query_start_items: int
    length_items: int
    ber: float


class _AudioSegment:
    def __init__(self, items: np.ndarray, starts: np.ndarray, ids: np.ndarray,
                 offsets: np.ndarray | None = None, order: np.ndarray | None = None) -> None:
        self.items, self.starts, self.ids = items, starts, ids
        if offsets is None or order is None:
            offsets, order = self.build(items)
        self.offsets, self.order = offsets, order

    @staticmethod
    def build(items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = items >> np.uint32(32 - KEY_BITS)
        order = np.argsort(keys, kind="stable").astype(np.int64)
        offsets = np.zeros((1 << KEY_BITS) + 1, np.int64)
        np.cumsum(np.bincount(keys, minlength=1 << KEY_BITS), out=offsets[1:])
        return offsets, order

    def track_bounds(self, t: int) -> tuple[int, int]:
        end = int(self.starts[t + 1]) if t + 1 < self.starts.shape[0] else int(self.items.shape[0])
        return int(self.starts[t]), end

    def candidates(self, query: np.ndarray) -> list[tuple[int, int]]:
        """(track index, offset) pairs ranked by votes."""
        keys = (query >> np.uint32(32 - KEY_BITS)).astype(np.int64)
        lo, hi = self.offsets[keys], self.offsets[keys + 1]
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return []
        first = np.cumsum(counts) - counts
        pos = self.order[np.repeat(lo - first, counts) + np.arange(total)]
        qpos = np.repeat(np.arange(query.shape[0]), counts)
        track = np.searchsorted(self.starts, pos, side="right") - 1
        local = pos - self.starts[track] - qpos  # offset of the query start in the track
        vote = track * (1 << 40) + (local + (1 << 39))
        uniq, n = np.unique(vote, return_counts=True)
        best = uniq[np.argsort(-n, kind="stable")[:CANDIDATES]]
        return [(int(v >> 40), int((v & ((1 << 40) - 1)) - (1 << 39))) for v in best]

    def verify(self, query: np.ndarray, t: int, off: int, max_ber: float,
               min_items: int) -> AudioMatch | None:
        a, b = self.track_bounds(t)
        j0, j1 = max(0, -off), min(query.shape[0], b - a - off)
        if j1 - j0 < min_items:
            return None
        ref = self.items[a + j0 + off:a + j1 + off]
        errors = np.bitwise_count(query[j0:j1] ^ ref).astype(np.float64)
        c = 32.0 * (max_ber + 0.5) / 2
        s = np.concatenate([[0.0], np.cumsum(c - errors)])
        low = np.minimum.accumulate(s)  # best start at or before each end
        end = int(np.argmax(s - low))
        start = int(np.flatnonzero(s[:end + 1] == low[end])[-1]) if end > 0 else 0
        length = end - start
        if length < min_items:
            return None
        ber = float(errors[start:end].sum()) / (32.0 * length)
        if ber > max_ber:
            return None
        return AudioMatch(int(self.ids[t]), j0 + start + off, j0 + start, length, ber)


def _check_items(items: Any, what: str) -> np.ndarray:
    arr = np.asarray(items)
    if arr.ndim != 1 or arr.dtype != np.uint32:
        raise BadInput(f"{what} must be a 1-D uint32 array of Chromaprint sub-fingerprints, "
                       f"got {arr.shape} {arr.dtype}")
    return np.ascontiguousarray(arr)


class AudioIndex:
    """Alignment search over Chromaprint prints, persisted in ``directory``."""

    def __init__(self, store: SegmentDir) -> None:
        self._store = store
        self._segments: dict[str, _AudioSegment] = {}
        self._pending: list[tuple[int, np.ndarray]] = []
        self._pending_seg: _AudioSegment | None = None
        self._ids: set[int] = set()
        self._reload(store.read_manifest())

    @classmethod
    def open(cls, directory: Path | str) -> AudioIndex:
        return cls(SegmentDir(Path(directory), "audio-chromaprint"))

    def _reload(self, manifest: dict[str, Any]) -> None:
        segs = {}
        for e in manifest["segments"]:
            name, n, k = e["name"], int(e["count"]), int(e["tracks"])
            if name in self._segments:
                segs[name] = self._segments[name]
                continue
            load = self._store.load_array
            segs[name] = _AudioSegment(
                load(f"{name}.items.npy", (n,), np.uint32), load(f"{name}.starts.npy", (k,), np.int64),
                load(f"{name}.ids.npy", (k,), np.int64),
                load(f"{name}.offsets.npy", ((1 << KEY_BITS) + 1,), np.int64),
                load(f"{name}.order.npy", (n,), np.int64))
            self._ids.update(int(i) for i in segs[name].ids)
        self._segments = segs

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, id: int, items: Any) -> None:
        """Index one recording's print (searchable at once; ``flush`` makes it durable)."""
        arr = _check_items(items, f"audio print for id {id}")
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise BadInput(f"audio id must be an integer, got {id!r}")
        if int(id) in self._ids:
            existing = self._print_of(int(id))
            if existing is not None and np.array_equal(existing, arr):
                return  # the same print again (a re-run): nothing to do
            raise Conflict(f"audio id {id} is already indexed with another print; use a new id")
        if arr.shape[0] == 0:
            raise BadInput(f"audio print for id {id} is empty; fingerprint at least a few seconds")
        self._ids.add(int(id))
        self._pending.append((int(id), arr.copy()))
        self._pending_seg = None

    def _print_of(self, id: int) -> np.ndarray | None:
        for pid, items in self._pending:
            if pid == id:
                return items
        for seg in self._segments.values():
            hit = np.flatnonzero(seg.ids == id)
            if hit.size:
                a, b = seg.track_bounds(int(hit[0]))
                return seg.items[a:b]
        return None

    @staticmethod
    def _concat(prints: list[tuple[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        items = np.concatenate([p for _, p in prints])
        lengths = np.array([p.shape[0] for _, p in prints], np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return items, starts, np.array([i for i, _ in prints], np.int64)

    def _write(self, manifest: dict[str, Any], items: np.ndarray, starts: np.ndarray,
               ids: np.ndarray) -> dict[str, Any]:
        name = self._store.new_segment_name(manifest)
        offsets, order = _AudioSegment.build(items)
        arrays = {"items": items, "starts": starts, "ids": ids, "offsets": offsets, "order": order}
        for part, arr in arrays.items():
            self._store.write_array(f"{name}.{part}.npy", arr)
        return {"name": name, "kind": "audio", "count": int(items.shape[0]), "tracks": int(ids.shape[0]),
                "files": [f"{name}.{part}.npy" for part in arrays]}

    def flush(self) -> None:
        """Write recordings added since the last flush as one segment (durable on return)."""
        if not self._pending:
            return
        with self._store.locked() as manifest:
            manifest["segments"].append(self._write(manifest, *self._concat(self._pending)))
            manifest = self._store.commit(manifest)
            self._reload(manifest)
        self._pending, self._pending_seg = [], None

    def compact(self) -> None:
        """Flush, then merge all segments into one."""
        self.flush()
        with self._store.locked() as manifest:
            self._reload(manifest)
            if len(manifest["segments"]) > 1:
                segs = [self._segments[e["name"]] for e in manifest["segments"]]
                prints = []
                for seg in segs:
                    for t in range(seg.ids.shape[0]):
                        a, b = seg.track_bounds(t)
                        prints.append((int(seg.ids[t]), seg.items[a:b]))
                manifest["segments"] = [self._write(manifest, *self._concat(prints))]
                manifest = self._store.commit(manifest)
                self._store.collect_garbage(manifest)
                self._reload(manifest)

    def search(self, query: Any, *, max_ber: float = 0.35, min_items: int = 40) -> list[AudioMatch]:
        """Stored recordings that ``query`` overlaps for >= ``min_items`` items at BER <= ``max_ber``.

        One match per (recording, alignment), lowest BER first.
        """
        q = _check_items(query, "audio query")
        if not 0.0 <= max_ber < 0.5:
            raise BadInput(f"max_ber must be in [0, 0.5) (0.5 is chance), got {max_ber!r}")
        segs = list(self._segments.values())
        if self._pending:
            if self._pending_seg is None:
                self._pending_seg = _AudioSegment(*self._concat(self._pending))
            segs.append(self._pending_seg)
        found: dict[tuple[int, int], AudioMatch] = {}
        for seg in segs:
            for t, off in seg.candidates(q):
                m = seg.verify(q, t, off, max_ber, min_items)
                if m is None:
                    continue
                key = (m.id, m.ref_offset_items - m.query_start_items)
                near = [k for k in found if k[0] == m.id and abs(k[1] - key[1]) <= 2]
                if near and all(found[k].ber <= m.ber for k in near):
                    continue
                for k in near:
                    del found[k]
                found[key] = m
        return sorted(found.values(), key=lambda m: (m.ber, m.id, m.ref_offset_items))
