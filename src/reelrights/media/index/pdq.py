"""Exact PDQ near-duplicate search by multi-index hashing (MIH) in compact CSR tables.

Why not FAISS's ``IndexBinaryMultiHash`` (what ThreatExchange's ``PDQIndex`` uses)? Its slots
are hash maps costing about 590 bytes per hash at 11x23 bits, and HMA's 16x16 default is no
faster than a flat scan at 1M-10M hashes (../shared/research/fingerprint.md, section 4). Here a
slot is two flat arrays: ``offsets`` over all 2^w bucket keys and the segment's row numbers
sorted by that slot's key, so a bucket is ``rows[offsets[k]:offsets[k+1]]`` and the whole table
costs 4 bytes per hash per slot plus 4 * 2^w per slot. Everything is numpy, vectorised over a
chunk of queries, and memory-mapped from disk on open.

**Why the search is exact (recall 1.0) for any radius R.** The 256 bits are cut into m disjoint
slots of widths w_1..w_m. For radius R give each slot a radius r_i >= -1 such that
sum_i (r_i + 1) = R + 1 (r_i = -1 means the slot is not probed). Suppose a stored code x is within
R of query q, d(q, x) <= R, but differs from q in more than r_i bits inside every slot i, i.e.
d_i >= r_i + 1. The slots are disjoint, so d(q, x) = sum_i d_i >= sum_i (r_i + 1) = R + 1 > R:
a contradiction. So some slot i has d_i <= r_i, and x sits in the bucket of one of the keys
obtained by flipping at most r_i bits of q's slot-i key; those are exactly the keys we probe.
Every candidate is then checked with the full 256-bit Hamming distance, so the result is exactly
the brute-force set (no false positives either). At R = 31 with m = 11 slots that is r_i = 2 on
ten slots and 1 on the narrowest one (HMA-style floor(31/11) = 2 on all eleven also works, but
probes more). When the flips to enumerate would cost more than scanning the segment, the
segment is scanned instead: still exact.

Measured (``benchmarks/pdq_scan.py``, 10M uniform codes, 11 slots of 23/24 bits, shared 2-core
VM): 100,000 radius-31 queries in 37 s of CPU (0.37 ms per query), 33 s wall on 2 workers
with other jobs running; identical results to FAISS's flat scan, which needs 34-38 ms of CPU
per query: about 90x per core-second, 57x wall.
Segment size 2.9 GB on disk (codes 32 B, ids 8 B, and per slot 4 B row + 16 B filter per hash).

Slot widths follow the segment size: w ~ log2(n), so each probed bucket holds about one row,
with at least 11 slots (w <= 24) to bound the offset tables (2^24 * 4 B = 64 MB per slot).
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations
from typing import Any, ClassVar

import numpy as np

from .common import EMPTY, Segment, SegmentedPDQIndex, brute_force

__all__ = ["PDQIndex", "slot_layout", "slot_radii"]

MIN_SLOTS = 11
#: flat deltas are merged into a MIH segment once they hold this many rows together
DELTA_LIMIT = 65_536


def slot_layout(n: int, slot_bits: int | None = None) -> list[int]:
    """Slot widths (summing to 256, widest first) for a segment of ``n`` codes."""
    w = slot_bits or min(24, max(8, round(math.log2(max(n, 2)))))
    m = max(MIN_SLOTS if slot_bits is None else 1, round(256 / w))
    base, extra = divmod(256, m)
    if base + (1 if extra else 0) > 32:
        raise ValueError(f"slot width above 32 bits ({256 / m:.1f}); use more slots")
    return [base + 1] * extra + [base] * (m - extra)


def slot_radii(widths: list[int], radius: int) -> list[int]:
    """Per-slot flip radii r_i with sum(r_i + 1) = radius + 1 (the pigeonhole bound, see above).

    The larger radii go to the widest slots, whose buckets are emptier.
    """
    base, extra = divmod(radius + 1, len(widths))
    return [base + (1 if i < extra else 0) - 1 for i in range(len(widths))]


@lru_cache(maxsize=64)
def flip_masks(width: int, r: int) -> np.ndarray:
    """Every w-bit mask with at most r bits set (the keys to probe around a query key)."""
    masks = [0]
    for k in range(1, r + 1):
        for bits in combinations(range(width), k):
            masks.append(sum(1 << b for b in bits))
    return np.array(masks, np.uint32)


def probe_count(widths: list[int], radii: list[int]) -> int:
    return sum(sum(math.comb(w, k) for k in range(r + 1)) for w, r in zip(widths, radii) if r >= 0)


def slot_keys(codes: np.ndarray, widths: list[int], only: int | None = None) -> np.ndarray:
    """(m, n) uint32 slot keys: bit ranges of the 256-bit code, most significant bit first
    (or the (n,) keys of slot ``only``)."""
    be = codes.view(">u8").reshape(-1, 4)
    slots = range(len(widths)) if only is None else [only]
    out = np.empty((len(slots), be.shape[0]), np.uint32)
    for k, s in enumerate(slots):
        start = sum(widths[:s])
        w = widths[s]
        a, o = divmod(start, 64)
        if o + w <= 64:
            key = (be[:, a].astype(np.uint64) >> np.uint64(64 - o - w)) & np.uint64((1 << w) - 1)
        else:
            hi_bits = 64 - o
            lo_bits = w - hi_bits
            hi = be[:, a].astype(np.uint64) & np.uint64((1 << hi_bits) - 1)
            key = (hi << np.uint64(lo_bits)) | (be[:, a + 1].astype(np.uint64) >> np.uint64(64 - lo_bits))
        out[k] = key.astype(np.uint32)
    return out if only is None else out[0]


def filter_words(widths: list[int]) -> list[tuple[int, int]]:
    """Per slot, the two 64-bit words of the code kept beside its rows as a 128-bit filter.

    The half of the code the slot does not start in, so the filter's bits are (almost) all
    outside the slot and a random candidate's filter distance is ~64 +- 6, far above 31.
    """
    out, start = [], 0
    for w in widths:
        out.append((2, 3) if start < 128 else (0, 1))
        start += w
    return out


class MIHSegment(Segment):
    """A merged segment: per slot a CSR table, plus each row's 128-bit filter in slot order.

    Random memory access is what costs on a large segment (a random 32-byte gather from a 10M-
    code array cost 100-300 ns here), so the search never gathers codes for candidates: probe
    keys are sorted, so bucket positions run forwards, and at each position the slot's copy of
    128 bits of the code (``filters``, stored in the slot's key order) is read sequentially. The
    Hamming distance over those 128 bits is a lower bound of the full distance, so a candidate
    whose filter distance exceeds the radius cannot match and is dropped (exactness is kept);
    only the few survivors have their row number and full code fetched and checked.
    """

    def __init__(self, entry: dict[str, Any], codes: np.ndarray, ids: np.ndarray,
                 offsets: np.ndarray, rows: np.ndarray, filters: np.ndarray) -> None:
        super().__init__(entry, codes, ids)
        self.widths = list(entry["widths"])
        self.words = filter_words(self.widths)
        self.offsets = []
        at = 0
        for w in self.widths:
            self.offsets.append(offsets[at:at + (1 << w) + 1])
            at += (1 << w) + 1
        self.rows = rows
        self.filters = filters

    @staticmethod
    def build(codes: np.ndarray, widths: list[int], out: dict[str, np.ndarray]) -> None:
        """Fill ``out["offsets"]`` (concatenated per slot), ``out["rows"]`` ((m, n) row numbers
        sorted by slot key) and ``out["filters"]`` ((m, n, 2) uint64) for ``codes``, one slot at a
        time (the arrays may be memory-mapped files: peak memory stays near 4x the codes)."""
        n = codes.shape[0]
        if n >= 2**31:
            raise ValueError("a MIH segment holds fewer than 2**31 codes; shard the index")
        codes64 = np.ascontiguousarray(codes).view(np.uint64).reshape(-1, 4)
        row_numbers = np.arange(n, dtype=np.uint64)
        at = 0
        for s, (w, pair) in enumerate(zip(widths, filter_words(widths))):
            key = slot_keys(codes, widths, only=s)
            # a packed (key << 32 | row) sort is several times cheaper than a stable argsort
            packed = key.astype(np.uint64) << np.uint64(32)
            packed |= row_numbers
            packed.sort()
            order = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
            del packed
            out["rows"][s] = order
            out["filters"][s] = np.ascontiguousarray(codes64[:, list(pair)])[order]
            off = out["offsets"][at:at + (1 << w) + 1]
            off[0] = 0
            np.cumsum(np.bincount(key, minlength=1 << w), out=off[1:])
            at += (1 << w) + 1

    def search(self, q: np.ndarray, q64: np.ndarray, radius: int) -> tuple[np.ndarray, ...]:
        """Probe every slot, filter candidates on 128 bits, verify survivors on 256."""
        radii = slot_radii(self.widths, radius)
        if probe_count(self.widths, radii) * 4 > self.count:
            return brute_force(self.codes64, q64, radius)  # flips would cost more than a scan
        qkeys = slot_keys(q, self.widths)
        out_q, out_r = [], []
        for s, (w, r) in enumerate(zip(self.widths, radii)):
            if r < 0:
                continue
            masks = flip_masks(w, r)
            # sort (key << 32 | query) so bucket positions, rows and filters are read forwards
            probes = (qkeys[s][:, None] ^ masks[None, :]).astype(np.uint64)
            probes <<= np.uint64(32)
            probes |= np.arange(q.shape[0], dtype=np.uint64)[:, None]
            probes = np.sort(probes.ravel())
            halves = probes.view(np.uint32).reshape(-1, 2)  # little-endian: [query, key]
            off = self.offsets[s]
            keys = halves[:, 1]
            starts = off[keys]
            counts = off[keys + 1] - starts
            hit = np.flatnonzero(counts)
            if hit.size == 0:
                continue
            starts, counts = starts[hit], counts[hit]
            total = int(counts.sum())
            first = np.cumsum(counts) - counts
            pos = np.repeat(starts - first, counts) + np.arange(total, dtype=np.int64)
            qi = np.repeat(halves[hit, 0], counts)
            f = self.filters[s][pos]
            f ^= q64[:, list(self.words[s])][qi]
            per_word = np.bitwise_count(f).view(np.uint16).reshape(-1)
            lower = (per_word * np.uint16(0x0101)) >> np.uint16(8)  # two popcounts <= 64 each
            ok = np.flatnonzero(lower <= radius)
            out_q.append(qi[ok])
            out_r.append(self.rows[s][pos[ok]])
        if not out_q:
            return EMPTY
        qi = np.concatenate(out_q).astype(np.int64)
        rows = np.concatenate(out_r).astype(np.int64)
        # a true neighbour is usually found through several slots: keep each (query, row) once
        _, first = np.unique(qi * self.count + rows, return_index=True)
        qi, rows = qi[first], rows[first]
        d = hamming(self.codes64[rows], q64[qi])
        keep = np.flatnonzero(d <= radius)
        return qi[keep], rows[keep], d[keep]


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise 256-bit Hamming distance of two (n, 4) uint64 arrays (``a`` is overwritten)."""
    np.bitwise_xor(a, b, out=a)
    return np.bitwise_count(a).sum(axis=1, dtype=np.int32)


class PDQIndex(SegmentedPDQIndex):
    """Exact radius search over PDQ hashes: MIH main segments plus flat deltas.

    ``PDQIndex.open(dir, slot_bits=None, delta_limit=65536)``. ``slot_bits`` forces the slot
    width for segments built from now on (default: from each segment's size). Deltas (flushed
    adds) are scanned flat; once they hold ``delta_limit`` rows they are merged into a MIH
    segment, and MIH segments of similar size merge with each other (size-tiered, so a row is
    rewritten O(log n) times); ``compact()`` merges everything into one.
    """

    KIND: ClassVar[str] = "pdq-mih"
    MAIN_KIND: ClassVar[str] = "mih"
    exact: ClassVar[bool] = True

    def _load_segment(self, entry: dict[str, Any]) -> Segment:
        codes, ids = self._load_codes_ids(entry)
        if entry["kind"] != "mih":
            return Segment(entry, codes, ids)
        widths = entry["widths"]
        n = int(entry["count"])
        total = sum((1 << w) + 1 for w in widths)
        offsets = self._store.load_array(f"{entry['name']}.offsets.npy", (total,), np.int32)
        rows = self._store.load_array(f"{entry['name']}.rows.npy", (len(widths), n), np.int32)
        filters = self._store.load_array(f"{entry['name']}.filters.npy", (len(widths), n, 2), np.uint64)
        return MIHSegment(entry, codes, ids, offsets, rows, filters)

    def _build_main(self, manifest: dict[str, Any], codes: np.ndarray, ids: np.ndarray) -> dict:
        name = self._store.new_segment_name(manifest)
        n = codes.shape[0]
        widths = slot_layout(n, self._options.get("slot_bits"))
        files = self._write_codes_ids(name, codes, ids)
        shapes = {"offsets": ((sum((1 << w) + 1 for w in widths),), np.int32),
                  "rows": ((len(widths), n), np.int32), "filters": ((len(widths), n, 2), np.uint64)}
        out = {part: self._store.create_array(f"{name}.{part}.npy", shape, dtype)
               for part, (shape, dtype) in shapes.items()}
        MIHSegment.build(codes, widths, out)
        for part, arr in out.items():
            self._store.finish_array(f"{name}.{part}.npy", arr)
            files.append(f"{name}.{part}.npy")
        del out
        return {"name": name, "kind": "mih", "count": int(n), "widths": widths, "files": files}

    def _after_flush(self, manifest: dict[str, Any]) -> None:
        limit = int(self._options.get("delta_limit", DELTA_LIMIT))
        deltas = [e for e in manifest["segments"] if e["kind"] == "flat"]
        if sum(e["count"] for e in deltas) < limit:
            self._consolidate_deltas(manifest)
            return
        self._merge(manifest, deltas)
        while True:  # size-tiered: merge the newest MIH segment into an older one no bigger
            mains = [e for e in manifest["segments"] if e["kind"] == "mih"]
            if len(mains) < 2 or mains[-2]["count"] > mains[-1]["count"]:
                return
            self._merge(manifest, mains[-2:])
