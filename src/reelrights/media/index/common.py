"""What the three PDQ indexes share: the match table, input checks, flat search and persistence.

Every PDQ index keeps its rows in immutable segments (see :mod:`.segments`): ``add`` buffers rows
in memory (searchable at once), ``flush`` writes them as one small *flat* delta segment, and each
index decides how segments merge (``_after_flush``) and what a merged segment is (``_build_main``):
a multi-index-hashing table for :class:`~.pdq.PDQIndex`, a flat block for
:class:`~.flat.FlatPDQIndex`, an IVF index for :class:`~.approx.ApproxPDQIndex`.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import BadInput
from .segments import SegmentDir

__all__ = ["PDQMatches", "SegmentedPDQIndex", "brute_force", "check_hashes", "check_queries"]

HASH_BYTES = 32  # 256-bit PDQ
EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))


@dataclass(frozen=True)
class PDQMatches:
    """Parallel arrays, one entry per (query row, stored hash) pair within the radius.

    Sorted by query, then distance, then id. ``query`` is the row in the query array.
    """

    query: np.ndarray  # int64
    id: np.ndarray  # int64
    distance: np.ndarray  # int32

    def __len__(self) -> int:
        return int(self.query.shape[0])

    def pairs(self) -> set[tuple[int, int, int]]:
        """The matches as a set of (query, id, distance), for comparisons."""
        return set(zip(self.query.tolist(), self.id.tolist(), self.distance.tolist()))

    @classmethod
    def build(cls, query: np.ndarray, ids: np.ndarray, dist: np.ndarray) -> PDQMatches:
        q = np.asarray(query, np.int64)
        i = np.asarray(ids, np.int64)
        d = np.asarray(dist, np.int32)
        order = np.lexsort((i, d, q))
        return cls(q[order], i[order], d[order])


def check_hashes(hashes: Any, what: str = "hashes") -> np.ndarray:
    """``hashes`` as a C-contiguous (n, 32) uint8 array, or a one-line BadInput."""
    arr = np.asarray(hashes)
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != HASH_BYTES:
        raise BadInput(f"PDQ {what} must be an (n, 32) uint8 array (256 bits packed), got "
                       f"{arr.shape} {arr.dtype}; pack bits with np.packbits")
    return np.ascontiguousarray(arr)


def check_queries(queries: Any, radius: Any) -> tuple[np.ndarray, int]:
    q = check_hashes(queries, "queries")
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or not 0 <= radius <= 256:
        raise BadInput(f"radius must be an integer Hamming distance 0..256 (PDQ match: 31), got {radius!r}")
    return q, int(radius)


def words(codes: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 viewed as (n, 4) native uint64: what XOR + popcount runs on."""
    return np.ascontiguousarray(codes).view(np.uint64).reshape(-1, 4)


def brute_force(codes64: np.ndarray, q64: np.ndarray, radius: int) -> tuple[np.ndarray, ...]:
    """All (query row, stored row, distance) within ``radius`` by scanning every code.

    This is the oracle the exact indexes are tested against, and how small delta segments are
    searched. Blocks of queries keep the XOR temporary near 16 MB.
    """
    n = codes64.shape[0]
    if n == 0 or q64.shape[0] == 0:
        return EMPTY
    block = max(1, (1 << 19) // n)
    out_q, out_r, out_d = [], [], []
    for lo in range(0, q64.shape[0], block):
        x = np.bitwise_xor(q64[lo:lo + block, None, :], codes64[None, :, :])
        d = np.bitwise_count(x).sum(axis=2, dtype=np.int32)
        qi, ri = np.nonzero(d <= radius)
        out_q.append(qi.astype(np.int64) + lo)
        out_r.append(ri.astype(np.int64))
        out_d.append(d[qi, ri])
    return np.concatenate(out_q), np.concatenate(out_r), np.concatenate(out_d)


class Segment:
    """A loaded segment: codes and ids (memory-mapped), plus whatever its kind adds."""

    def __init__(self, entry: dict[str, Any], codes: np.ndarray, ids: np.ndarray) -> None:
        self.entry = entry
        self.codes = codes
        self.codes64 = words(codes) if codes.size else np.zeros((0, 4), np.uint64)
        self.ids = ids

    @property
    def count(self) -> int:
        return int(self.ids.shape[0])

    def search(self, q: np.ndarray, q64: np.ndarray, radius: int) -> tuple[np.ndarray, ...]:
        return brute_force(self.codes64, q64, radius)


class SegmentedPDQIndex:
    """Base of the PDQ indexes: buffered adds, durable flushes, segment search and merging."""

    KIND: ClassVar[str] = ""
    #: the kind of segment ``compact`` produces
    MAIN_KIND: ClassVar[str] = "flat"
    exact: ClassVar[bool] = True
    #: queries per task: big enough that a slot's probes hit its tables densely (fewer cache
    #: misses per probe), small enough to bound the per-task arrays (~100 MB at 10M codes)
    CHUNK: ClassVar[int] = 8192
    #: flat delta segments kept before they are concatenated (see ``_consolidate_deltas``)
    MAX_DELTAS: ClassVar[int] = 16
    #: batches smaller than this are searched in-process (a fork costs more than it saves)
    PARALLEL_MIN: ClassVar[int] = 4096

    def __init__(self, store: SegmentDir, **options: Any) -> None:
        self._store = store
        self._options = options
        self._pending_codes: list[np.ndarray] = []
        self._pending_ids: list[np.ndarray] = []
        self._loaded: dict[str, Segment] = {}
        self._reload(store.read_manifest())

    @classmethod
    def open(cls, directory: Path | str, **options: Any) -> SegmentedPDQIndex:
        """Open the index stored in ``directory``, creating an empty one if it is missing."""
        return cls(SegmentDir(Path(directory), cls.KIND), **options)

    # --- segments -------------------------------------------------------------------------------

    def _reload(self, manifest: dict[str, Any]) -> None:
        self._manifest = manifest
        keep: dict[str, Segment] = {}
        for entry in manifest["segments"]:
            name = entry["name"]
            keep[name] = self._loaded.get(name) or self._load_segment(entry)
        self._loaded = keep
        self._segments = [keep[e["name"]] for e in manifest["segments"]]
        self._changed()

    def _load_codes_ids(self, entry: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        n = int(entry["count"])
        codes = self._store.load_array(f"{entry['name']}.codes.npy", (n, HASH_BYTES), np.uint8)
        ids = self._store.load_array(f"{entry['name']}.ids.npy", (n,), np.int64)
        return codes, ids

    def _load_segment(self, entry: dict[str, Any]) -> Segment:
        codes, ids = self._load_codes_ids(entry)
        return Segment(entry, codes, ids)

    def _changed(self) -> None:
        """Hook: the set of segments or pending rows changed (drop caches)."""

    def _write_codes_ids(self, name: str, codes: np.ndarray, ids: np.ndarray) -> list[str]:
        self._store.write_array(f"{name}.codes.npy", codes)
        self._store.write_array(f"{name}.ids.npy", ids)
        return [f"{name}.codes.npy", f"{name}.ids.npy"]

    def _write_flat(self, manifest: dict[str, Any], codes: np.ndarray, ids: np.ndarray) -> dict:
        name = self._store.new_segment_name(manifest)
        files = self._write_codes_ids(name, codes, ids)
        return {"name": name, "kind": "flat", "count": int(ids.shape[0]), "files": files}

    def _build_main(self, manifest: dict[str, Any], codes: np.ndarray, ids: np.ndarray) -> dict:
        """Write one merged segment holding ``codes``/``ids`` and return its manifest entry."""
        return self._write_flat(manifest, codes, ids)

    def _after_flush(self, manifest: dict[str, Any]) -> None:
        """Hook: merge segments in ``manifest`` (under the lock) after a delta was added."""

    def _consolidate_deltas(self, manifest: dict[str, Any]) -> None:
        """Many small flushes (one per file ingested) would leave many tiny delta segments, each
        scanned separately: past ``MAX_DELTAS`` they are concatenated into one flat delta."""
        deltas = [e for e in manifest["segments"] if e["kind"] == "flat"]
        if len(deltas) > self.MAX_DELTAS:
            self._merge(manifest, deltas, build=self._write_flat)

    def _merge(self, manifest: dict[str, Any], entries: list[dict[str, Any]],
               build: Any = None) -> dict[str, Any]:
        """Replace ``entries`` by one merged segment (a main one unless ``build`` says otherwise)."""
        segs = [self._loaded.get(e["name"]) or self._load_segment(e) for e in entries]
        codes = np.concatenate([s.codes for s in segs]) if segs else np.zeros((0, 32), np.uint8)
        ids = np.concatenate([s.ids for s in segs]) if segs else np.zeros(0, np.int64)
        merged = (build or self._build_main)(manifest, codes, ids)
        names = {e["name"] for e in entries}
        segments = manifest["segments"]
        at = min(i for i, e in enumerate(segments) if e["name"] in names)
        rest = [e for e in segments if e["name"] not in names]
        manifest["segments"] = rest[:at] + [merged] + rest[at:]
        return merged

    # --- public API -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(s.count for s in self._segments) + sum(int(i.shape[0]) for i in self._pending_ids)

    def add(self, hashes: Any, ids: Any) -> None:
        """Buffer rows (searchable at once); ``flush`` makes them durable."""
        codes = check_hashes(hashes)
        idarr = np.asarray(ids)
        if idarr.ndim != 1 or idarr.shape[0] != codes.shape[0] or not np.issubdtype(idarr.dtype, np.integer):
            raise BadInput(f"ids must be a 1-D integer array with one id per hash ({codes.shape[0]}), "
                           f"got {idarr.shape} {idarr.dtype}")
        if codes.shape[0] == 0:
            return
        self._pending_codes.append(codes.copy())
        self._pending_ids.append(idarr.astype(np.int64))
        self._changed()

    def flush(self) -> None:
        """Write buffered rows as a delta segment and publish it (durable when this returns)."""
        if not self._pending_ids:
            return
        codes = np.concatenate(self._pending_codes)
        ids = np.concatenate(self._pending_ids)
        with self._store.locked() as manifest:
            manifest["segments"].append(self._write_flat(manifest, codes, ids))
            self._loaded_from(manifest)
            self._after_flush(manifest)
            manifest = self._store.commit(manifest)
            self._store.collect_garbage(manifest)
        self._pending_codes, self._pending_ids = [], []
        self._reload(manifest)

    def _loaded_from(self, manifest: dict[str, Any]) -> None:
        """Load any segment another writer published since we opened (so merges can read it)."""
        for entry in manifest["segments"]:
            if entry["name"] not in self._loaded:
                self._loaded[entry["name"]] = self._load_segment(entry)

    def compact(self) -> None:
        """Flush, then merge every segment into one main segment."""
        self.flush()
        with self._store.locked() as manifest:
            segs = manifest["segments"]
            if not segs or (len(segs) == 1 and segs[0]["kind"] == self.MAIN_KIND):
                self._reload(manifest)
                return
            self._loaded_from(manifest)
            self._merge(manifest, list(manifest["segments"]))
            manifest = self._store.commit(manifest)
            self._store.collect_garbage(manifest)
        self._reload(manifest)

    def _pending_segment(self) -> Segment | None:
        if not self._pending_ids:
            return None
        if len(self._pending_ids) > 1:
            self._pending_codes = [np.concatenate(self._pending_codes)]
            self._pending_ids = [np.concatenate(self._pending_ids)]
        return Segment({"name": "<pending>", "kind": "flat"}, self._pending_codes[0], self._pending_ids[0])

    def _search_targets(self) -> list[Segment]:
        pending = self._pending_segment()
        return self._segments + ([pending] if pending is not None else [])

    def search(self, queries: Any, radius: int = 31, *, threads: int | None = None) -> PDQMatches:
        """Every stored hash within ``radius`` bits of each query (see the class for exactness).

        ``threads`` (default: all cores) is the number of workers. A batch big enough to split
        is searched by forked worker processes, each taking a share of the queries: the numpy
        steps are too short to overlap well under the GIL, while the memory-mapped segments are
        shared between processes for free (same page cache). Small batches run in-process.
        """
        q, radius = check_queries(queries, radius)
        targets = self._search_targets()
        if q.shape[0] == 0 or not targets:
            return PDQMatches.build(*EMPTY)
        workers = max(1, threads if threads is not None else (os.cpu_count() or 1))
        if q.shape[0] < self.PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
            workers = 1
        size = min(self.CHUNK, -(-q.shape[0] // workers))
        spans = [(lo, min(lo + size, q.shape[0])) for lo in range(0, q.shape[0], size)]
        global _FORKED
        _FORKED = (targets, q, words(q), radius)
        try:
            if workers == 1:
                results = [_search_span(span) for span in spans]
            else:
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    results = pool.map(_search_span, spans, chunksize=1)
        finally:
            _FORKED = None
        return PDQMatches.build(*(np.concatenate([r[k] for r in results]) for k in range(3)))


#: what forked search workers read (set by the parent just before the fork)
_FORKED: tuple[list[Segment], np.ndarray, np.ndarray, int] | None = None


def _search_span(span: tuple[int, int]) -> tuple[np.ndarray, ...]:
    assert _FORKED is not None
    targets, q, q64, radius = _FORKED
    lo, hi = span
    parts_q, parts_i, parts_d = [], [], []
    for seg in targets:
        qi, rows, d = seg.search(q[lo:hi], q64[lo:hi], radius)
        parts_q.append(qi + lo)
        parts_i.append(seg.ids[rows])
        parts_d.append(d)
    return np.concatenate(parts_q), np.concatenate(parts_i), np.concatenate(parts_d)
