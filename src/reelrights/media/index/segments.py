"""Crash-safe, append-only segment storage shared by the matching indexes.

An index directory holds immutable segment files and one ``MANIFEST.json`` that names the live
segments. Nothing is ever rewritten in place:

* every file is written to ``<name>.tmp-<pid>``, fsynced, then renamed over its final name, and
  the directory is fsynced, so a file either exists whole under its final name or not at all;
* the manifest is replaced the same way, last. A segment becomes visible only when a manifest
  naming it is in place, so a crash at any point leaves the previous manifest and its segments
  intact, and leftover temp files or unnamed segments are ignored on open (and deleted by the
  next writer that holds the lock);
* writers take an ``fcntl`` lock on ``LOCK`` and re-read the manifest under it, so two processes
  adding to the same directory both land (their segments are appended to whatever is current);
* readers never lock: they read the manifest once on open and memory-map the ``.npy`` arrays it
  names (``np.load(mmap_mode="r")``), so opening a 10M-hash index costs page-table set-up, not a
  read of several GB. A compaction that drops segments unlinks their files, which on POSIX leaves
  an open reader's mappings valid.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import BadInput, LogIntegrityError

__all__ = ["MANIFEST", "SegmentDir"]

MANIFEST = "MANIFEST.json"
LOCK = "LOCK"
FORMAT = "reelrights-index/1"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentDir:
    """One index directory: its manifest, its lock and its immutable array files.

    ``kind`` names the index type stored here ("pdq-mih", "pdq-flat", ...); opening a directory
    made by another kind of index is refused, since the segment layouts differ.
    """

    def __init__(self, directory: Path, kind: str) -> None:
        self.path = Path(directory)
        self.kind = kind
        if self.path.exists() and not self.path.is_dir():
            raise BadInput(f"index path {self.path} is a file; give a directory for the index")
        self.path.mkdir(parents=True, exist_ok=True)

    # --- manifest -------------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any]:
        """The current manifest (an empty one for a new directory)."""
        path = self.path / MANIFEST
        if not path.exists():
            return {"format": FORMAT, "kind": self.kind, "generation": 0, "next_segment": 1,
                    "segments": [], "meta": {}}
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise LogIntegrityError(f"index manifest {path} is unreadable ({exc}); restore the "
                                    "directory from a backup or rebuild the index") from None
        if manifest.get("format") != FORMAT or manifest.get("kind") != self.kind:
            raise BadInput(f"{self.path} holds a {manifest.get('kind')!r} index, not "
                           f"{self.kind!r}; open it with the matching index class")
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Atomically replace the manifest (the commit point of every change)."""
        manifest = dict(manifest, generation=int(manifest.get("generation", 0)) + 1)
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        self._write_bytes(MANIFEST, data)

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """Hold the writer lock and yield the manifest as it is now (re-read under the lock)."""
        with open(self.path / LOCK, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield self.read_manifest()
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # --- files ----------------------------------------------------------------------------------

    def _write_bytes(self, name: str, data: bytes) -> None:
        self.write_blob(name, data)
        _fsync_dir(self.path)

    def write_array(self, name: str, array: np.ndarray) -> None:
        """Write one ``.npy`` file durably (temp + fsync + rename); no dir fsync (done by commit)."""
        tmp = self.path / f"{name}.tmp-{os.getpid()}"
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / name)

    def create_array(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A writable memory-mapped ``.npy`` under a temp name, to fill in place (big arrays are
        then never held in anonymous memory); publish it with :meth:`finish_array`."""
        tmp = self.path / f"{name}.tmp-{os.getpid()}"
        return np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)

    def finish_array(self, name: str, array: np.ndarray) -> None:
        """Flush and fsync an array from :meth:`create_array` and rename it to ``name``."""
        tmp = self.path / f"{name}.tmp-{os.getpid()}"
        if isinstance(array, np.memmap):
            array.flush()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / name)

    def write_blob(self, name: str, data: bytes) -> None:
        """Write one opaque file durably (temp + fsync + rename)."""
        tmp = self.path / f"{name}.tmp-{os.getpid()}"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / name)

    def load_array(self, name: str, shape: tuple[int, ...] | None = None,
                   dtype: Any = None) -> np.ndarray:
        """Memory-map one ``.npy`` file read-only, checking it has the shape the manifest says."""
        path = self.path / name
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise LogIntegrityError(f"index segment file {path} is missing or damaged ({exc}); "
                                    "restore the directory from a backup or rebuild the index") from None
        if (shape is not None and tuple(arr.shape) != tuple(shape)) or (
                dtype is not None and arr.dtype != np.dtype(dtype)):
            raise LogIntegrityError(f"index segment file {path} has shape {arr.shape} {arr.dtype}, "
                                    f"the manifest says {shape} {dtype}; rebuild the index")
        return np.asarray(arr) if arr.size else np.zeros(arr.shape, arr.dtype)

    def new_segment_name(self, manifest: dict[str, Any]) -> str:
        """Reserve a fresh segment name in ``manifest`` (call under the lock)."""
        n = int(manifest.get("next_segment", 1))
        manifest["next_segment"] = n + 1
        return f"seg-{n:08d}"

    def commit(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Make the new segment files durable, then publish ``manifest``; returns it as written."""
        _fsync_dir(self.path)
        self.write_manifest(manifest)
        return self.read_manifest()

    def collect_garbage(self, manifest: dict[str, Any]) -> None:
        """Delete files no live segment names (call under the lock, after commit)."""
        live = {MANIFEST, LOCK}
        for seg in manifest["segments"]:
            live.update(seg["files"])
        for entry in self.path.iterdir():
            if entry.name not in live and (entry.name.startswith("seg-") or ".tmp-" in entry.name):
                with contextlib.suppress(OSError):
                    entry.unlink()
