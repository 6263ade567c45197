"""The log as static files: ``checkpoint``, ``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]``.

Any static web server can serve this folder, and any C2SP tlog-tiles client can read it. The home
keeps its own copy (``<home>/log``) that is brought up to date after every committed batch, and
``reelrights log export DIR`` writes the same layout anywhere.

Order of writes: tiles and bundles first, the checkpoint last, each file written to a temporary
name and renamed into place. A reader never sees a checkpoint whose tiles are not there yet. A
file lock serialises publishers, and the checkpoint only moves forward. When the folder is behind
by more than the batch being published (after a crash, or another process's batch), the gap is
filled from the database.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Connection

from ..core.checkpoint import Checkpoint
from ..core.tiles import TILE_WIDTH, encode_bundle, entries_path, tile_path
from .database_log import AppendResult, DatabaseLog

__all__ = ["export_log", "publish_batch", "published_size", "publisher_lock"]


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _remove_partials(root: Path, rel_full: str) -> None:
    """A full tile replaces its partial versions (``<full>.p/<W>``), which are no longer needed."""
    pdir = root / (rel_full + ".p")
    if pdir.is_dir():
        for f in pdir.iterdir():
            f.unlink(missing_ok=True)
        pdir.rmdir()


def _write_tile(root: Path, level: int, index: int, data: bytes) -> None:
    width = len(data) // 32
    _write(root, tile_path(level, index, width), data)
    if width == TILE_WIDTH:
        _remove_partials(root, tile_path(level, index))


def _write_bundle(root: Path, index: int, entries: list[bytes]) -> None:
    _write(root, entries_path(index, len(entries)), encode_bundle(entries))
    if len(entries) == TILE_WIDTH:
        _remove_partials(root, entries_path(index))


def published_size(root: Path) -> int:
    try:
        return Checkpoint.parse(_note_text(( root / "checkpoint").read_bytes())).size
    except (FileNotFoundError, ValueError, Exception):  # absent or unreadable: start over
        return 0


def _note_text(note: bytes) -> str:
    text, _, _ = note.decode("utf-8").rpartition("\n\n")
    return text + "\n"


@contextmanager
def publisher_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".publish.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def publish_batch(root: Path, result: AppendResult, log: DatabaseLog,
                  conn_factory: Callable[[], AbstractContextManager[Connection]]) -> None:
    """Bring the static folder to ``result.size`` after a commit.

    ``conn_factory`` opens a read connection when the folder has fallen behind and the gap has to
    be filled from the database.
    """
    with publisher_lock(root):
        have = published_size(root)
        if have >= result.size:
            return
        if have != result.first_index:
            with conn_factory() as conn:
                _export_locked(root, log, conn, since=have)
            return
        for (level, index), data in sorted(result.tiles.items()):
            _write_tile(root, level, index, data)
        for index, entries in sorted(result.bundles.items()):
            _write_bundle(root, index, entries)
        _write(root, "checkpoint", result.checkpoint)


def export_log(root: Path, log: DatabaseLog, conn: Connection, *, since: int = 0) -> int:
    """Write the whole log (or what came after ``since``) as static tiles; return its size."""
    with publisher_lock(root):
        return _export_locked(root, log, conn, since=since)


def _export_locked(root: Path, log: DatabaseLog, conn: Connection, *, since: int) -> int:
    size, _ = log.head(conn)
    if size == 0:
        return 0
    note = log.checkpoint(conn, size)
    level = 0
    while size >> (8 * level):
        n = size >> (8 * level)
        first = (since >> (8 * level)) // TILE_WIDTH
        for idx, stored_width, hashes in log.tiles_since(conn, level, first):
            width = min(stored_width, n - idx * TILE_WIDTH)
            if width > 0:
                _write_tile(root, level, idx, hashes[: 32 * width])
        level += 1
    bundle: list[bytes] = []
    current = since // TILE_WIDTH
    for index, _, entry in log.entries_between(conn, current * TILE_WIDTH, size):
        if index // TILE_WIDTH != current:
            _write_bundle(root, current, bundle)
            bundle, current = [], index // TILE_WIDTH
        bundle.append(entry)
    if bundle:
        _write_bundle(root, current, bundle)
    _write(root, "checkpoint", note)
    return size
