"""Verify a tiled log folder file by file, and the home's folder against the database.

:func:`~reelrights.log.tiled.verify_tiled_log` reads the tiles and bundles that one checkpoint
implies (the current widths). A folder holds more: the home's ``log/`` keeps the superseded
partial versions of its edge tiles and bundles (``tile/0/007.p/12`` after ``.p/5``), so that a
client holding an older checkpoint can still fetch the partial tiles that checkpoint implies;
a full tile replaces its partial versions when it is written. Those older files are served as
much as the current ones, so :func:`verify_tiled_folder` checks every file under ``tile/``:

* a file at the current width was verified against the entries by ``verify_tiled_log``;
* a superseded partial file must be, byte for byte, the first ``W`` hashes (or entries) of the
  verified current file at the same index (tiles and bundles only ever grow at their end);
* a file the checkpoint does not cover (wider than the current width, beyond the tree, or not
  a tlog-tiles path at all) is named: no client of this checkpoint reads it.

Files whose name starts with ``.`` are a publisher's temporary files (``.<name>.<pid>.tmp``
before their rename) or its lock; no client asks for them and they are skipped.

:func:`verify_home_folder` then ties the folder to the database: its ``checkpoint`` must be,
byte for byte, the latest checkpoint the log issued. It holds the publisher's lock for that
comparison (a publish is never half done), and waits up to :data:`BEHIND_WAIT_S` for batches
committed but not yet published before it reports the folder as behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.checkpoint import Checkpoint
from ..core.merkle import HASH_SIZE
from ..core.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    encode_bundle,
    parse_tile_path,
    partial_width,
    split_bundle,
)
from ..errors import BadInput, LogIntegrityError
from .tiled import DirTileSource, read_bundle, read_tile, verify_tiled_log

__all__ = ["BEHIND_WAIT_S", "FolderReport", "verify_home_folder", "verify_tiled_folder"]

#: How long `log verify` waits for committed batches to reach the home's folder.
BEHIND_WAIT_S = 3.0


@dataclass(frozen=True)
class FolderReport:
    origin: str
    size: int
    root_hex: str
    entries_checked: int
    #: Tile and bundle files checked (current and superseded widths).
    files_checked: int
    #: Files beyond the checkpoint, left unchecked (only with ``beyond_ok``).
    files_beyond: int = 0


def verify_tiled_folder(root: Path, note: bytes, vkey: str, *,
                        beyond_ok: bool = False) -> FolderReport:
    """Verify the log in ``root`` at the signed checkpoint ``note``, then every other file.

    A file beyond the checkpoint fails the verification, unless ``beyond_ok`` (the checkpoint is
    an older one than the folder's own, so newer files are expected): then they are counted.
    """
    report = verify_tiled_log(DirTileSource(root), note, vkey)
    checked, beyond = _sweep(root, report.size)
    if beyond and not beyond_ok:
        raise _beyond_error(root, beyond[0], report.size)
    return FolderReport(report.origin, report.size, report.root_hex, report.entries_checked,
                        checked, len(beyond))


def verify_home_folder(root: Path, vkey: str, lock: Callable[[], AbstractContextManager[object]],
                       checkpoint_at: Callable[[int | None], bytes | None],
                       witnessed: Callable[[int], set[bytes]] | None = None
                       ) -> FolderReport | None:
    """Verify the home's folder, then compare its checkpoint with the database's latest.

    ``lock()`` is the publisher lock of ``root`` (a context manager); ``checkpoint_at(size)``
    reads, in a fresh transaction, the checkpoint the log issued at ``size`` (None: the latest),
    or None when there is none. ``witnessed(size)``: the cosignature lines the home's witnesses
    returned for that checkpoint; the folder's checkpoint may carry those after the log's
    signature, and nothing else. Returns None for an empty log with no checkpoint anywhere.
    """
    def _issued(static: bytes | None, issued: bytes | None) -> bool:
        return _same_checkpoint(static, issued, witnessed)

    cp_path = root / "checkpoint"
    note = _read(cp_path)
    verified = _verify_lenient(root, note, vkey) if note is not None else None
    deadline = time.monotonic() + BEHIND_WAIT_S
    while True:
        with lock():
            now = _read(cp_path)
            latest = checkpoint_at(None)
            if verified is not None and not _issued(note, checkpoint_at(verified[0].size)):
                raise _differs(cp_path, verified[0].size)
            if now is not None and _issued(now, latest) and verified is not None:
                size = _size(now)
                beyond = [rel for rel in verified[1] if _is_beyond(root, rel, size)]
                if beyond:
                    raise _beyond_error(root, beyond[0], size)
                return verified[0]
            if latest is None and now is None:
                return None
            if verified is not None and now is not None and _size(now) >= _size(latest):
                raise _differs(cp_path, _size(now))
        if verified is None and now is not None:  # published since: verify what is there now
            note, verified = now, _verify_lenient(root, now, vkey)
            continue
        if time.monotonic() >= deadline:
            what = "is missing" if now is None else f"is at size {_size(now)}"
            raise LogIntegrityError(
                f"{cp_path} {what}, but the log's latest checkpoint is at size "
                f"{_size(latest)}: the folder is behind (an old checkpoint put back, or a "
                f"publish that never happened); `reelrights log export {root}` rewrites it",
                None)
        time.sleep(0.05)


def _same_checkpoint(static: bytes | None, issued: bytes | None,
                     witnessed: Callable[[int], set[bytes]] | None) -> bool:
    """The folder's checkpoint is the one the log issued: the same signed note, or that note
    with cosignature lines the home's witnesses returned for it appended (service/witnessing.py
    puts them there); any other extra line makes it another file."""
    if static is None or issued is None or static == issued:
        return static == issued
    if witnessed is None or not static.startswith(issued) or not issued.endswith(b"\n"):
        return False
    known = witnessed(_size(issued))
    extra = static[len(issued):].splitlines(keepends=True)
    return bool(extra) and all(line in known for line in extra)


def _verify_lenient(root: Path, note: bytes, vkey: str) -> tuple[FolderReport, list[str]]:
    """:func:`verify_tiled_folder`, returning the files beyond the checkpoint instead of failing
    on them (a publisher may be writing a newer batch)."""
    report = verify_tiled_log(DirTileSource(root), note, vkey)
    checked, beyond = _sweep(root, report.size)
    return FolderReport(report.origin, report.size, report.root_hex, report.entries_checked,
                        checked), beyond


def _differs(cp_path: Path, size: int) -> LogIntegrityError:
    return LogIntegrityError(f"{cp_path} differs from the checkpoint the log issued at size "
                             f"{size}", None)


# -- the sweep -----------------------------------------------------------------------------------


def _files(root: Path) -> Iterator[str]:
    tiles = root / "tile"
    if not tiles.is_dir():
        return
    for path in sorted(tiles.rglob("*")):
        if path.name.startswith(".") or not path.is_file():
            continue
        yield path.relative_to(root).as_posix()


def _current_width(size: int, level: int, index: int) -> int:
    """Width of tile ``index`` of ``level`` in a tree of ``size`` (0: no such tile)."""
    count = size >> (TILE_HEIGHT * level)
    if (index + 1) * TILE_WIDTH <= count:
        return TILE_WIDTH
    return partial_width(size, level) if index == count // TILE_WIDTH else 0


def _parse(rel: str) -> tuple[int | Literal["entries"], int, int]:
    try:
        return parse_tile_path(rel)
    except BadInput:
        raise LogIntegrityError(f"{rel} is not a tlog-tiles tile or entry bundle: no client "
                                "reads it; remove it from the folder", None) from None


def _sweep(root: Path, size: int) -> tuple[int, list[str]]:
    """Check every file under ``root/tile`` against the verified current files at ``size``;
    return (files checked, files beyond ``size``)."""
    source = DirTileSource(root)
    checked = 0
    beyond: list[str] = []
    bundles: dict[int, list[bytes]] = {}
    tiles: dict[tuple[int, int], bytes] = {}
    for rel in _files(root):
        kind, index, width = _parse(rel)
        level = kind if isinstance(kind, int) else 0
        want = _current_width(size, level, index)
        if width > want:
            beyond.append(rel)
            continue
        checked += 1
        if width == want:
            continue  # the file verify_tiled_log read and checked
        try:
            data = (root / rel).read_bytes()
        except FileNotFoundError:  # a full tile was written meanwhile and replaced it
            continue
        if isinstance(kind, int):
            if (level, index) not in tiles:
                tiles[(level, index)] = read_tile(source, level, index, want)
            _compare_tile(rel, level, index, width, data, tiles[(level, index)])
        else:
            if index not in bundles:
                bundles[index] = read_bundle(source, index, want)[0]
            _compare_bundle(rel, index, width, data, bundles[index])
    return checked, beyond


def _compare_tile(rel: str, level: int, index: int, width: int, data: bytes, ref: bytes) -> None:
    expected = ref[: width * HASH_SIZE]
    if data == expected:
        return
    n = min(len(data), len(expected))
    at = next((i for i in range(0, n, HASH_SIZE) if data[i:i + HASH_SIZE] != expected[i:i + HASH_SIZE]),
              None)
    first = (index * TILE_WIDTH + (at or 0) // HASH_SIZE) << (TILE_HEIGHT * level)
    if at is None:
        raise LogIntegrityError(f"entry {first}: {rel} is {len(data)} bytes, want {len(expected)} "
                                "(a superseded partial tile must be a prefix of the current one)",
                                first)
    raise LogIntegrityError(f"entry {first}: {rel} differs at hash {at // HASH_SIZE} from the "
                            "tree recomputed from the entries (a superseded partial tile)", first)


def _compare_bundle(rel: str, index: int, width: int, data: bytes, ref: list[bytes]) -> None:
    expected = ref[:width]
    if data == encode_bundle(expected):
        return
    got, why = split_bundle(data)
    k = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), width))
    first = index * TILE_WIDTH + k
    reason = (f"entry {k} of the bundle differs from the log's" if k < min(len(got), width)
              else why or f"it holds {len(got)} entries, want {width}")
    raise LogIntegrityError(f"entry {first}: {rel} (a superseded partial bundle) is wrong: "
                            f"{reason}", first)


def _is_beyond(root: Path, rel: str, size: int) -> bool:
    if not (root / rel).exists():
        return False
    kind, index, width = parse_tile_path(rel)
    return width > _current_width(size, kind if isinstance(kind, int) else 0, index)


def _beyond_error(root: Path, rel: str, size: int) -> LogIntegrityError:
    return LogIntegrityError(f"{rel} is beyond the checkpoint of {root} (size {size}): the log "
                             "never issued it; remove it from the folder", None)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _size(note: bytes | None) -> int:
    if note is None:
        return 0
    text, _, _ = note.decode("utf-8", "replace").rpartition("\n\n")
    try:
        return Checkpoint.parse(text + "\n").size
    except Exception:  # noqa: BLE001 - an unreadable checkpoint counts as none
        return 0
