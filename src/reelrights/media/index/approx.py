"""Approximate PDQ search with FAISS ``IndexBinaryIVF``, for catalogs too big to search exactly.

NOT EXACT (``exact = False``): a stored hash is found only if it falls in one of the ``nprobe``
inverted lists nearest the query. Measured recall against the flat scan on the reference VM
(1M uniform random codes, 4,096 lists; ../shared/research/fingerprint.md, section 4), by true
distance 0-10 / 11-20 / 21-31 bits:

* nprobe 8:   0.94 / 0.73 / 0.52 (55k q/s per core)
* nprobe 32:  1.00 / 0.94 / 0.78 (19.7k q/s)
* nprobe 128: 1.00 / 0.99 / 0.97 (5.5k q/s)

Measured through this class by ``benchmarks/pdq_scan.py --approx-n 1000000`` (1M uniform codes,
nlist 4,000, 100k queries, recall against :class:`~.pdq.PDQIndex` on 3,834 true pairs):
nprobe 8 0.756 (0.95 / 0.76 / 0.57), nprobe 32 0.915 (1.00 / 0.94 / 0.81), nprobe 128 0.985
(1.00 / 1.00 / 0.96); training took 498 s on the shared 2-core VM.
Clustered codes (video frames of one scene) do better: 0.99 / 0.97 / 0.94 at nprobe 8. An audit
that must not miss a work uses :class:`~.pdq.PDQIndex`; this mode is for triage.

The main segment is a serialized trained IVF index (``compact`` trains it on up to 256 stored codes per
list, nlist ~ 4 * sqrt(n) with at least 39 codes per list as FAISS advises); flushed deltas are
scanned exactly until the next ``compact``. With too few codes to train, the index stays flat.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import faiss
import numpy as np

from .common import EMPTY, PDQMatches, Segment, SegmentedPDQIndex

__all__ = ["ApproxPDQIndex"]

DEFAULT_NPROBE = 32


class IVFSegment(Segment):
    def __init__(self, entry: dict[str, Any], codes: np.ndarray, ids: np.ndarray, blob: np.ndarray,
                 owner: ApproxPDQIndex) -> None:
        super().__init__(entry, codes, ids)
        # An IndexBinaryIVF; faiss's SWIG types name only the IndexBinary base (no nprobe).
        self.index: Any = faiss.deserialize_index_binary(np.ascontiguousarray(blob))
        self.owner = owner

    def search(self, q: np.ndarray, q64: np.ndarray, radius: int) -> tuple[np.ndarray, ...]:
        if self.count == 0:
            return EMPTY
        self.index.nprobe = self.owner.nprobe
        lims, dist, rows = self.index.range_search(np.ascontiguousarray(q), radius + 1)
        qi = np.repeat(np.arange(q.shape[0], dtype=np.int64), np.diff(lims).astype(np.int64))
        return qi, rows.astype(np.int64), dist.astype(np.int32)


class ApproxPDQIndex(SegmentedPDQIndex):
    """IVF-approximate radius search: fast, but misses some matches (see the module docstring)."""

    KIND: ClassVar[str] = "pdq-ivf"
    MAIN_KIND: ClassVar[str] = "ivf"
    exact: ClassVar[bool] = False
    #: never fork: FAISS parallelises a batch itself (OpenMP), and OpenMP does not survive fork
    PARALLEL_MIN: ClassVar[int] = 2**62

    def search(self, queries: Any, radius: int = 31, *, threads: int | None = None) -> PDQMatches:
        """Approximate: may miss stored hashes within ``radius`` (see the module docstring)."""
        before = faiss.omp_get_max_threads()
        if threads is not None:
            faiss.omp_set_num_threads(max(1, threads))
        try:
            return super().search(queries, radius, threads=1)
        finally:
            faiss.omp_set_num_threads(before)

    @property
    def nprobe(self) -> int:
        return int(self._options.get("nprobe", DEFAULT_NPROBE))

    def _after_flush(self, manifest: dict[str, Any]) -> None:
        self._consolidate_deltas(manifest)

    def _load_segment(self, entry: dict[str, Any]) -> Segment:
        codes, ids = self._load_codes_ids(entry)
        if entry["kind"] != "ivf":
            return Segment(entry, codes, ids)
        blob = self._store.load_array(f"{entry['name']}.ivf.npy")
        return IVFSegment(entry, codes, ids, blob, self)

    def _build_main(self, manifest: dict[str, Any], codes: np.ndarray, ids: np.ndarray) -> dict:
        n = codes.shape[0]
        nlist = int(self._options.get("nlist") or max(1, min(65536, 4 * int(math.sqrt(n)))))
        nlist = min(nlist, n // 39)
        if nlist < 2:
            return self._write_flat(manifest, codes, ids)
        quantizer = faiss.IndexBinaryFlat(256)
        index = faiss.IndexBinaryIVF(quantizer, 256, nlist)
        index.own_fields = True
        quantizer.this.disown()  # type: ignore[attr-defined]  # SWIG's proxy, not in faiss's types
        rng = np.random.default_rng(0)
        train = codes if n <= nlist * 256 else codes[np.sort(rng.choice(n, nlist * 256, replace=False))]
        index.train(np.ascontiguousarray(train))
        index.add(np.ascontiguousarray(codes))
        name = self._store.new_segment_name(manifest)
        files = self._write_codes_ids(name, codes, ids)
        self._store.write_array(f"{name}.ivf.npy", faiss.serialize_index_binary(index))
        files.append(f"{name}.ivf.npy")
        return {"name": name, "kind": "ivf", "count": int(n), "nlist": nlist, "files": files}
