"""Find registered recordings by their landmark peak pairs: a persistent, memory-mapped table.

The search is :func:`reelrights.media.fingerprint.landmarks.search_tables` (the query's pairs
hashed again for each pitch x tempo factor, looked up in hash-sorted reference tables, votes for
(recording, offset)); this module keeps the reference tables on disk so that opening an index of
thousands of films costs page-table set-up, not a read of every print.

Storage: immutable segments (crash-safe, :mod:`.segments`), each with its pairs sorted by hash in
three parallel arrays (``hash`` uint32, ``time`` anchor frames float32, ``rec`` uint32: a position
in the segment's ``ids``: 12 bytes a pair, about 2 kB per second of a film's soundtrack) and per
recording its ``ids`` (int64) and ``pairs`` (int64, how many it has). A recording's pairs are all
in one segment. ``add`` buffers recordings in memory (searchable at once; past
:attr:`LandmarkSegmentIndex.FLUSH_PAIRS` pairs it flushes them), ``flush`` writes them as one
segment (one of at least :attr:`LandmarkSegmentIndex.OFFSETS_MIN` pairs also stores where each
hash value's run starts, so its lookups are reads, not binary searches); segments of a size
tier (a factor of 4 in pairs) are merged when :data:`FANIN` of them are there, by a stable
counting merge over the 23-bit hashes written straight into memory-mapped output files (memory:
two 64 MB count arrays and a chunk, whatever the size), so a home holds O(log n) segments.
``compact`` merges them all into one. All the segments' hits vote together, so results do not
depend on how recordings are split into segments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...errors import BadInput, Conflict
from ..fingerprint.landmarks import (
    LandmarkHashes,
    LandmarkMatch,
    LandmarkPrint,
    SortedHashes,
    search_tables,
    sorted_table,
)
from .segments import SegmentDir

__all__ = ["LandmarkSegmentIndex"]

KIND = "landmark-hashes"
KEYS = 1 << 23        # landmark hashes are 23 bits
FANIN = 4             # segments of one size tier merged together
CHUNK = 1 << 22       # pairs moved per step of a merge
PARTS = ("hash", "time", "rec", "ids", "pairs")


class _Segment(SortedHashes):
    def __init__(self, hash: np.ndarray, time: np.ndarray, rec: np.ndarray, ids: np.ndarray,
                 pairs: np.ndarray, offsets: np.ndarray | None = None) -> None:
        super().__init__(hash, time, rec, ids, offsets)
        self.rec_ids, self.pairs = ids, pairs


def _tier(pairs: int) -> int:
    return int(np.log2(max(pairs, 1)) // 2)


def _as_hashes(print_: Any, id: int) -> LandmarkHashes:
    if isinstance(print_, LandmarkPrint):
        return print_.compact()
    if not isinstance(print_, LandmarkHashes):
        raise BadInput(f"landmark print for id {id} must be a LandmarkHashes or LandmarkPrint, "
                       f"got {type(print_).__name__}")
    return print_


class LandmarkSegmentIndex:
    """Landmark search over registered recordings, persisted in ``directory``."""

    #: pairs buffered by ``add`` before it flushes them itself (256 MB of pairs as they arrive,
    #: about 27 two-hour films), so a rebuild or a big batch holds at most this much in memory
    FLUSH_PAIRS = 1 << 25
    #: segments of at least this many pairs (48 MB) also store each hash value's run start
    #: (``offsets``, 2^23 + 1 uint32: 32 MB), so a lookup is two reads, not two binary searches
    OFFSETS_MIN = 1 << 22

    def __init__(self, store: SegmentDir) -> None:
        self._store = store
        self._pending_pairs = 0
        self._segments: dict[str, _Segment] = {}
        self._where: dict[int, str] = {}  # id -> segment name
        self._pending: list[tuple[int, LandmarkHashes]] = []
        self._pending_table: SortedHashes | None = None
        self._reload(store.read_manifest())

    @classmethod
    def open(cls, directory: Path | str) -> LandmarkSegmentIndex:
        """Open the index stored in ``directory``, creating an empty one if it is missing."""
        return cls(SegmentDir(Path(directory), KIND))

    # --- segments -------------------------------------------------------------------------------

    def _load(self, entry: dict[str, Any]) -> _Segment:
        name, n, k = entry["name"], int(entry["count"]), int(entry["recordings"])
        load = self._store.load_array
        offsets = load(f"{name}.offsets.npy", (KEYS + 1,), np.uint32) if entry.get("offsets") else None
        return _Segment(load(f"{name}.hash.npy", (n,), np.uint32), load(f"{name}.time.npy", (n,), np.float32),
                        load(f"{name}.rec.npy", (n,), np.uint32), load(f"{name}.ids.npy", (k,), np.int64),
                        load(f"{name}.pairs.npy", (k,), np.int64), offsets)

    def _reload(self, manifest: dict[str, Any]) -> None:
        segs = {}
        for e in manifest["segments"]:
            segs[e["name"]] = self._segments.get(e["name"]) or self._load(e)
        self._segments = segs
        self._where = {int(i): name for name, s in segs.items() for i in s.rec_ids.tolist()}

    def _entry(self, name: str, n: int, k: int, starts: np.ndarray) -> dict[str, Any]:
        """The manifest entry of a written segment; ``starts``: each hash value's run start."""
        files = [f"{name}.{part}.npy" for part in PARTS]
        if n >= self.OFFSETS_MIN and n < 1 << 32:
            self._store.write_array(f"{name}.offsets.npy", starts.astype(np.uint32))
            files.append(f"{name}.offsets.npy")
        return {"name": name, "kind": "landmarks", "count": n, "recordings": k,
                "offsets": len(files) > len(PARTS), "files": files}

    def _write(self, manifest: dict[str, Any], prints: list[tuple[int, LandmarkHashes]]) -> dict[str, Any]:
        """One segment from in-memory recordings (sorted here)."""
        name = self._store.new_segment_name(manifest)
        lengths = np.array([len(p) for _, p in prints], np.int64)
        h = np.concatenate([p.hash.astype(np.uint32) for _, p in prints])
        order = np.argsort(h, kind="stable")
        t = np.concatenate([p.t1.astype(np.float32) for _, p in prints])
        rec = np.repeat(np.arange(len(prints), dtype=np.uint32), lengths)
        arrays = {"hash": h[order], "time": t[order], "rec": rec[order],
                  "ids": np.array([i for i, _ in prints], np.int64), "pairs": lengths}
        for part, arr in arrays.items():
            self._store.write_array(f"{name}.{part}.npy", arr)
        starts = np.zeros(KEYS + 1, np.int64)
        if h.shape[0] >= self.OFFSETS_MIN:
            np.cumsum(np.bincount(h, minlength=KEYS), out=starts[1:])
        return self._entry(name, int(h.shape[0]), len(prints), starts)

    def _merge(self, manifest: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        """Replace ``entries`` by one segment: a stable counting merge by hash, into mapped files."""
        segs = [self._segments.get(e["name"]) or self._load(e) for e in entries]
        n, k = sum(len(s) for s in segs), sum(int(s.rec_ids.shape[0]) for s in segs)
        name = self._store.new_segment_name(manifest)
        out = {"hash": self._store.create_array(f"{name}.hash.npy", (n,), np.uint32),
               "time": self._store.create_array(f"{name}.time.npy", (n,), np.float32),
               "rec": self._store.create_array(f"{name}.rec.npy", (n,), np.uint32)}
        cursor = np.zeros(KEYS + 1, np.int64)
        for s in segs:
            cursor[1:] += np.bincount(s.hash, minlength=KEYS)
        np.cumsum(cursor, out=cursor)  # where each hash's run starts in the output
        starts = cursor.copy()
        base = 0
        for s in segs:
            counts = np.bincount(s.hash, minlength=KEYS)
            first = np.concatenate([[0], np.cumsum(counts)[:-1]])  # run starts in this segment
            for lo in range(0, len(s), CHUNK):
                hi = min(lo + CHUNK, len(s))
                h = s.hash[lo:hi]
                pos = cursor[h] + (np.arange(lo, hi) - first[h])
                out["hash"][pos] = h
                out["time"][pos] = s.time[lo:hi]
                out["rec"][pos] = s.rec[lo:hi] + np.uint32(base)
            cursor[:KEYS] += counts
            base += int(s.rec_ids.shape[0])
        for part, arr in out.items():
            self._store.finish_array(f"{name}.{part}.npy", arr)
        self._store.write_array(f"{name}.ids.npy", np.concatenate([s.rec_ids for s in segs]))
        self._store.write_array(f"{name}.pairs.npy", np.concatenate([s.pairs for s in segs]))
        names = {e["name"] for e in entries}
        manifest["segments"] = [e for e in manifest["segments"] if e["name"] not in names] + \
            [self._entry(name, n, k, starts)]

    def _merge_tiers(self, manifest: dict[str, Any]) -> None:
        """Merge the segments of any size tier that has :data:`FANIN` of them (repeatedly)."""
        while True:
            tiers: dict[int, list[dict[str, Any]]] = {}
            for e in manifest["segments"]:
                tiers.setdefault(_tier(int(e["count"])), []).append(e)
            full = [group for _, group in sorted(tiers.items()) if len(group) >= FANIN]
            if not full:
                return
            self._merge(manifest, full[0])

    # --- public API -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._where) + len(self._pending)

    @property
    def ids(self) -> np.ndarray:
        """Every indexed recording's id (int64), flushed or not."""
        return np.array(sorted(self._where) + [i for i, _ in self._pending], np.int64)

    @property
    def segment_count(self) -> int:
        return len(self._segments)

    def add(self, id: int, print_: LandmarkHashes | LandmarkPrint) -> None:
        """Index one recording's pairs (searchable at once; ``flush`` makes them durable)."""
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise BadInput(f"landmark id must be an integer, got {id!r}")
        p = _as_hashes(print_, int(id))
        if int(id) in self._where or any(pid == int(id) for pid, _ in self._pending):
            if self._same(int(id), p):
                return  # the same print again (a re-run): nothing to do
            raise Conflict(f"landmark id {id} is already indexed with another print; use a new id")
        self._pending.append((int(id), p))
        self._pending_table = None
        self._pending_pairs += len(p)
        if self._pending_pairs >= self.FLUSH_PAIRS:
            self.flush()

    def _same(self, id: int, p: LandmarkHashes) -> bool:
        for pid, q in self._pending:
            if pid == id:
                h, t = q.hash.astype(np.uint32), q.t1.astype(np.float32)
                break
        else:
            seg = self._segments[self._where[id]]
            r = int(np.flatnonzero(seg.rec_ids == id)[0])
            at = np.flatnonzero(seg.rec == r)
            h, t = seg.hash[at], seg.time[at]
        if h.shape[0] != len(p):
            return False
        a, b = np.lexsort((t, h)), np.lexsort((p.t1, p.hash))
        return bool(np.array_equal(h[a], p.hash[b]) and np.array_equal(t[a], p.t1.astype(np.float32)[b]))

    def flush(self) -> None:
        """Write recordings added since the last flush as one segment (durable on return)."""
        if not self._pending:
            return
        with self._store.locked() as manifest:
            self._reload(manifest)  # segments other writers published meanwhile
            fresh = [(i, p) for i, p in self._pending if i not in self._where]
            if fresh:
                manifest["segments"].append(self._write(manifest, fresh))
                self._merge_tiers(manifest)
                manifest = self._store.commit(manifest)
                self._store.collect_garbage(manifest)
            self._reload(manifest)
        self._pending, self._pending_table, self._pending_pairs = [], None, 0

    def compact(self) -> None:
        """Flush, then merge every segment into one."""
        self.flush()
        with self._store.locked() as manifest:
            self._reload(manifest)
            if len(manifest["segments"]) > 1:
                self._merge(manifest, list(manifest["segments"]))
                manifest = self._store.commit(manifest)
                self._store.collect_garbage(manifest)
                self._reload(manifest)

    def tables(self) -> list[SortedHashes]:
        """The segments' tables, and one of the recordings not flushed yet."""
        out: list[SortedHashes] = list(self._segments.values())
        if self._pending:
            if self._pending_table is None:
                self._pending_table = sorted_table(list(self._pending))
            out.append(self._pending_table)
        return out

    def search(self, query: LandmarkPrint, *, ignore: np.ndarray | None = None,
               **options: Any) -> list[LandmarkMatch]:
        """Registered recordings the query holds, best first (one match per recording); ids in
        ``ignore`` (e.g. prints recomputed since) get no votes. ``options``: the pitch and tempo
        factors and ``min_votes`` of :func:`~reelrights.media.fingerprint.landmarks.search_tables`."""
        if not isinstance(query, LandmarkPrint):
            raise BadInput(f"a landmark query must be a LandmarkPrint, got {type(query).__name__}")
        return search_tables(self.tables(), query, ignore=ignore, **options)
