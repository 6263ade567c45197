"""The log as static files: ``checkpoint``, ``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]``.

Any static web server can serve this folder, and any C2SP tlog-tiles client can read it. The home
keeps its own copy (``<home>/log``) that is brought up to date after every committed batch, and
``reelrights log export DIR`` writes the same layout anywhere.

Order of writes: tiles and bundles first, the checkpoint last, each file written to a temporary
name, fsynced, and renamed into place, then its directory fsynced (and the parent of any directory
made for it). The checkpoint is renamed into place only once every tile and bundle it covers is
durable, so neither a reader nor a crash (of the process or of the machine) ever leaves a
checkpoint whose tiles are missing. The fsyncs of one batch's files run side by side (threads:
the file system groups them into fewer journal commits). A file lock serialises publishers, and
the checkpoint only moves forward: it is replaced only by a larger one. When the folder is
behind by more than the batch being published (after a crash, or another process's batch), the
gap is filled from the database.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Connection

from ..core.checkpoint import Checkpoint
from ..core.tiles import TILE_WIDTH, encode_bundle, entries_path, tile_path
from .database_log import AppendResult, DatabaseLog

__all__ = ["catch_up", "export_log", "publish_batch", "published_size", "publisher_lock"]

_fsync_pool: ThreadPoolExecutor | None = None
_fsync_pool_lock = threading.Lock()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_all(paths: Iterable[Path]) -> None:
    """fsync every file or directory in ``paths``, side by side (fsync releases the GIL)."""
    todo = list(dict.fromkeys(paths))
    if len(todo) <= 1:
        for p in todo:
            _fsync(p)
        return
    global _fsync_pool
    with _fsync_pool_lock:
        if _fsync_pool is None:
            _fsync_pool = ThreadPoolExecutor(8, thread_name_prefix="reelrights-fsync")
    for _ in _fsync_pool.map(_fsync, todo):
        pass


def _make_dirs(path: Path, dirs: set[Path]) -> None:
    """Make ``path``'s folder; note each folder whose entries changed (to fsync them)."""
    parent = path.parent
    dirs.add(parent)
    made = []
    d = parent
    while not d.is_dir():
        made.append(d)
        d = d.parent
    if made:
        parent.mkdir(parents=True, exist_ok=True)
        dirs.update(m.parent for m in made)


class _Staged:
    """Files written to temporary names, then made durable and renamed into place together."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[tuple[Path, Path]] = []
        self.dirs: set[Path] = set()
        #: Full tiles and bundles staged: their partial versions go once the checkpoint moved.
        self.full: list[str] = []

    def add(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        _make_dirs(path, self.dirs)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        self.files.append((tmp, path))

    def commit(self) -> None:
        """fsync every file, rename each into place, fsync the folders that changed."""
        _fsync_all(tmp for tmp, _ in self.files)
        for tmp, path in self.files:
            os.replace(tmp, path)
        _fsync_all(self.dirs)
        self.files.clear()
        self.dirs.clear()


def _write(root: Path, rel: str, data: bytes) -> None:
    """Write one file durably: a temporary name, fsync, rename, fsync of its folder."""
    staged = _Staged(root)
    staged.add(rel, data)
    staged.commit()


def _remove_partials(root: Path, rel_full: str) -> None:
    """A full tile replaces its partial versions (``<full>.p/<W>``), which are no longer needed."""
    pdir = root / (rel_full + ".p")
    if pdir.is_dir():
        for f in pdir.iterdir():
            f.unlink(missing_ok=True)
        pdir.rmdir()


def _write_tile(staged: _Staged, level: int, index: int, data: bytes) -> None:
    width = len(data) // 32
    staged.add(tile_path(level, index, width), data)
    if width == TILE_WIDTH:
        staged.full.append(tile_path(level, index))


def _write_bundle(staged: _Staged, index: int, entries: list[bytes]) -> None:
    staged.add(entries_path(index, len(entries)), encode_bundle(entries))
    if len(entries) == TILE_WIDTH:
        staged.full.append(entries_path(index))


def _finish(staged: _Staged, note: bytes) -> None:
    """Make the staged tiles and bundles durable, then put the checkpoint in place; a full tile
    replaces its partial versions (removed last: a reader of the old checkpoint may want them
    until the new one is in place)."""
    full = list(staged.full)
    staged.commit()
    _write(staged.root, "checkpoint", note)
    for rel in full:
        _remove_partials(staged.root, rel)


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
        staged = _Staged(root)
        for (level, index), data in sorted(result.tiles.items()):
            _write_tile(staged, level, index, data)
        for index, entries in sorted(result.bundles.items()):
            _write_bundle(staged, index, entries)
        _finish(staged, result.checkpoint)


def catch_up(root: Path, log: DatabaseLog,
             conn_factory: Callable[[], AbstractContextManager[Connection]], size: int) -> int:
    """Make sure the folder's checkpoint covers at least ``size`` entries (a batch another
    process committed but has not published yet, or never will: it died). Returns the size
    published. The database is read under the publisher lock, so the folder never goes back."""
    with publisher_lock(root):
        have = published_size(root)
        if have >= size:
            return have
        with conn_factory() as conn:
            return _export_locked(root, log, conn, since=have)


def export_log(root: Path, log: DatabaseLog, conn: Connection, *, since: int = 0) -> int:
    """Write the whole log (or what came after ``since``) as static tiles; return its size."""
    with publisher_lock(root):
        return _export_locked(root, log, conn, since=since)


def _export_locked(root: Path, log: DatabaseLog, conn: Connection, *, since: int) -> int:
    size, _ = log.head(conn)
    if size == 0:
        return 0
    if size < published_size(root):
        return size  # only forward: never replace a checkpoint by a smaller one
    note = log.checkpoint(conn, size)
    staged = _Staged(root)
    level = 0
    while size >> (8 * level):
        n = size >> (8 * level)
        first = (since >> (8 * level)) // TILE_WIDTH
        for idx, stored_width, hashes in log.tiles_since(conn, level, first):
            width = min(stored_width, n - idx * TILE_WIDTH)
            if width > 0:
                _write_tile(staged, level, idx, hashes[: 32 * width])
        level += 1
    bundle: list[bytes] = []
    current = since // TILE_WIDTH
    for index, _, entry in log.entries_between(conn, current * TILE_WIDTH, size):
        if index // TILE_WIDTH != current:
            _write_bundle(staged, current, bundle)
            bundle, current = [], index // TILE_WIDTH
        bundle.append(entry)
    if bundle:
        _write_bundle(staged, current, bundle)
    _finish(staged, note)
    return size
