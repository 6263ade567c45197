"""The log as static files: ``checkpoint``, ``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]``.

Any static web server can serve this folder, and any C2SP tlog-tiles client can read it. The home
keeps its own copy (``<home>/log``) that is brought up to date after every committed batch, and
``reelrights log export DIR`` writes the same layout anywhere.

Order of writes: every file (tiles, bundles and the checkpoint) is written to a temporary name
and fsynced; the tiles and bundles are renamed into place and their directories fsynced (and the
parent of any directory made for them); only then is the checkpoint renamed into place and its
directory fsynced. So the checkpoint is in place only once every tile and bundle it covers is
durable, and neither a reader nor a crash (of the process or of the machine) ever leaves a
checkpoint whose tiles are missing. A batch costs three rounds of fsyncs (the files, the tile
folders, the checkpoint's folder); the fsyncs of one round run side by side (threads: the file
system groups them into fewer journal commits). A file lock serialises publishers, and
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

__all__ = ["add_cosignatures", "catch_up", "export_log", "publish_batch", "published_size",
           "publisher_lock"]

_fsync_pool: ThreadPoolExecutor | None = None
_fsync_pool_lock = threading.Lock()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pool() -> ThreadPoolExecutor:
    global _fsync_pool
    with _fsync_pool_lock:
        if _fsync_pool is None:
            _fsync_pool = ThreadPoolExecutor(8, thread_name_prefix="reelrights-fsync")
    return _fsync_pool


def _each(fn: Callable[[Path], object], paths: Iterable[Path]) -> None:
    """``fn`` on every path, side by side (fsync, unlink and rmdir release the GIL, and each can
    wait milliseconds on the file system's journal)."""
    todo = list(dict.fromkeys(paths))
    if len(todo) <= 1:
        for p in todo:
            fn(p)
        return
    for _ in _pool().map(fn, todo):
        pass


def _fsync_all(paths: Iterable[Path]) -> None:
    """fsync every file or directory in ``paths``, side by side."""
    _each(_fsync, paths)


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

    def commit(self, *, synced: bool = False) -> None:
        """fsync every file (unless ``synced``: done already), rename each into place, fsync the
        folders that changed."""
        if not synced:
            _fsync_all(tmp for tmp, _ in self.files)
        for tmp, path in self.files:
            os.replace(tmp, path)
        _fsync_all(self.dirs)
        self.files.clear()
        self.dirs.clear()


def _remove_partials(root: Path, rels_full: Iterable[str]) -> None:
    """Full tiles replace their partial versions (``<full>.p/<W>``), which are no longer needed
    (the files removed side by side, then their folders)."""
    pdirs = [d for rel in rels_full if (d := root / (rel + ".p")).is_dir()]
    _each(lambda f: f.unlink(missing_ok=True), [f for d in pdirs for f in d.iterdir()])
    _each(Path.rmdir, pdirs)


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
    """Make the staged tiles and bundles durable, then put the checkpoint in place (module doc:
    the checkpoint's temporary file is fsynced with the tiles, its rename waits for theirs); a
    full tile replaces its partial versions (removed last: a reader of the old checkpoint may
    want them until the new one is in place)."""
    full = list(staged.full)
    checkpoint = _Staged(staged.root)
    checkpoint.add("checkpoint", note)
    _fsync_all([tmp for tmp, _ in staged.files] + [tmp for tmp, _ in checkpoint.files])
    staged.commit(synced=True)
    checkpoint.commit(synced=True)
    _remove_partials(staged.root, full)


def published_size(root: Path) -> int:
    try:
        return Checkpoint.parse(_note_text(( root / "checkpoint").read_bytes())).size
    except (FileNotFoundError, ValueError, Exception):  # absent or unreadable: start over
        return 0


def _note_text(note: bytes) -> str:
    text, _, _ = note.decode("utf-8").rpartition("\n\n")
    return text + "\n"


def add_cosignatures(root: Path, cosigned: bytes) -> bool:
    """Put the witnesses' cosignature lines on the static ``checkpoint``: ``cosigned`` is the
    published checkpoint's note with cosignature lines appended. Written (atomically, under the
    publishers' lock) only while the folder's checkpoint is still that checkpoint, so it never
    moves the folder back; False when it has moved on (or already carries these lines)."""
    with publisher_lock(root):
        try:
            current = (root / "checkpoint").read_bytes()
        except FileNotFoundError:
            return False
        if (current == cosigned or _note_text(current) != _note_text(cosigned)
                or not set(current.splitlines()) <= set(cosigned.splitlines())):
            return False  # moved on, or the same lines already (none is ever dropped)
        staged = _Staged(root)
        staged.add("checkpoint", cosigned)
        staged.commit()
        return True


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
