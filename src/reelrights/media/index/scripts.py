"""Find registered script chunks in scanned text: MinHash LSH (datasketch) over chunk signatures.

A chunk (a scene or page of a script) is keyed by a string such as
``"<asset sha256>:<first_line>-<last_line>"`` and fingerprinted elsewhere as a 128-permutation
MinHash (``datasketch.MinHash(num_perm=128, seed=1, scheme="affine32")``) of its normalized word shingles.
``query`` asks the LSH for candidates, then re-ranks them by the exact share of agreeing
signature slots (the unbiased Jaccard estimate) and keeps those at or above the threshold.

Persistence: signatures and keys are kept as append-only segments (a ``.npy`` of (n, 128)
uint64 signatures plus a JSON list of keys per segment, crash-safe as in :mod:`.segments`); the
LSH tables are rebuilt in memory on open (about 7k chunks/s, so 100k chunks open in ~15 s), which
keeps the files independent of datasketch's internal layout and pickle-free. The LSH's band
layout is fixed by the threshold the index was created with (stored in the manifest): querying
with a lower threshold than that can miss pairs the LSH never made candidates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from ...errors import BadInput, Conflict
from .segments import SegmentDir

__all__ = ["ScriptIndex"]

NUM_PERM = 128
SEED = 1
SCHEME = "affine32"  # datasketch 2.0 default, what reelrights.media.fingerprint uses


def _check_sig(sig: Any) -> np.ndarray:
    arr = np.asarray(sig)
    if arr.shape != (NUM_PERM,) or arr.dtype != np.uint64:
        raise BadInput(f"a script signature must be a ({NUM_PERM},) uint64 array "
                       f"(datasketch MinHash(num_perm=128, seed=1).hashvalues), got {arr.shape} {arr.dtype}")
    return arr


class ScriptIndex:
    """MinHash LSH over script chunks, persisted in ``directory``."""

    def __init__(self, store: SegmentDir, threshold: float) -> None:
        self._store = store
        manifest = store.read_manifest()
        self.threshold = float(manifest["meta"].get("threshold", threshold))
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)
        self._rows: dict[str, int] = {}
        self._sigs: list[np.ndarray] = []
        self._pending: list[tuple[str, np.ndarray]] = []
        self._segments: set[str] = set()
        self._load(manifest)

    @classmethod
    def open(cls, directory: Path | str, threshold: float = 0.5) -> ScriptIndex:
        """Open (or create) the index; ``threshold`` applies only when creating it."""
        if not 0.0 < threshold <= 1.0:
            raise BadInput(f"threshold must be in (0, 1], got {threshold!r}")
        return cls(SegmentDir(Path(directory), "script-minhash-lsh"), threshold)

    def _load(self, manifest: dict[str, Any]) -> None:
        for entry in manifest["segments"]:
            if entry["name"] in self._segments:
                continue
            n = int(entry["count"])
            sigs = self._store.load_array(f"{entry['name']}.sigs.npy", (n, NUM_PERM), np.uint64)
            keys = json.loads((self._store.path / f"{entry['name']}.keys.json").read_text())
            self._insert(list(zip(keys, sigs)))
            self._segments.add(entry["name"])

    def _insert(self, items: list[tuple[str, np.ndarray]]) -> None:
        with self._lsh.insertion_session() as session:
            for key, sig in items:
                if key in self._rows:
                    continue
                self._rows[key] = len(self._sigs)
                self._sigs.append(np.asarray(sig))
                session.insert(key, MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashvalues=sig),
                               check_duplication=False)

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, key: str, sig: Any) -> None:
        """Index one chunk (searchable at once; ``flush`` makes it durable)."""
        if not isinstance(key, str) or not key:
            raise BadInput(f"a script chunk key must be a non-empty string, got {key!r}")
        arr = _check_sig(sig).copy()
        if key in self._rows:
            if not np.array_equal(self._sigs[self._rows[key]], arr):
                raise Conflict(f"script chunk {key!r} is already indexed with another signature; "
                               "use a new key for changed content")
            return
        self._insert([(key, arr)])
        self._pending.append((key, arr))

    def flush(self) -> None:
        """Write chunks added since the last flush as one segment (durable when this returns)."""
        if not self._pending:
            return
        with self._store.locked() as manifest:
            name = self._store.new_segment_name(manifest)
            sigs = np.stack([s for _, s in self._pending])
            self._store.write_array(f"{name}.sigs.npy", sigs)
            self._store.write_blob(f"{name}.keys.json", json.dumps([k for k, _ in self._pending]).encode())
            manifest["meta"]["threshold"] = self.threshold
            manifest["segments"].append({"name": name, "kind": "flat", "count": len(self._pending),
                                         "files": [f"{name}.sigs.npy", f"{name}.keys.json"]})
            manifest = self._store.commit(manifest)
            self._segments.add(name)
            self._load(manifest)  # segments other writers published meanwhile
        self._pending = []

    def query(self, sig: Any, threshold: float | None = None) -> list[tuple[str, float]]:
        """Chunks whose estimated Jaccard with ``sig`` is >= ``threshold``, best first."""
        arr = _check_sig(sig)
        t = self.threshold if threshold is None else float(threshold)
        candidates = self._lsh.query(MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashvalues=arr))
        out = []
        for key in candidates:
            j = float(np.count_nonzero(self._sigs[self._rows[key]] == arr)) / NUM_PERM
            if j >= t:
                out.append((key, j))
        return sorted(out, key=lambda kv: (-kv[1], kv[0]))
