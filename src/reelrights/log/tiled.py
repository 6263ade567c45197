"""Verify any C2SP tlog-tiles log (ours, Tessera's, Sunlight's...) against a signed checkpoint.

The verifier opens the checkpoint with the log's key, then streams the log in leaf order, one
level-0 tile at a time: it decodes the entry bundle, recomputes the leaf hashes and compares them
with the stored level-0 tile, hashes every full tile upward and compares each result with the
stored tile of the level above as soon as it is computed (full and partial tiles alike), and
finally checks that the tree root equals the checkpoint's. The first disagreement raises
:class:`~reelrights.errors.LogIntegrityError` carrying the first leaf index it affects. Memory is
one tile per level.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from reelrights.core.checkpoint import open_checkpoint
from reelrights.core.merkle import HASH_SIZE
from reelrights.core.note import NoteVerifier
from reelrights.core.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileBuilder,
    entries_path,
    split_bundle,
    tile_path,
    tile_root,
)
from reelrights.errors import BadInput, LogIntegrityError, NotFound

__all__ = ["DirTileSource", "TileSource", "TiledLogReport", "read_bundle", "read_tile",
           "verify_tiled_log"]

_FULL_BYTES = TILE_WIDTH * HASH_SIZE


class TileSource(Protocol):
    """Where tiles come from: ``read("tile/0/x001/234")`` returns the file's bytes."""

    def read(self, path: str) -> bytes: ...


class DirTileSource:
    """Tiles stored as plain (not gzipped) files under ``root`` (a tlog-tiles POSIX layout)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def read(self, path: str) -> bytes:
        """Bytes of ``root/path``; NotFound naming the path when the file does not exist."""
        rel = PurePosixPath(path)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise BadInput(f"tile path {path!r} must be relative and stay inside {self.root}")
        try:
            return (self.root / rel).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"{path} is missing under {self.root}: copy the complete log there") from None


@dataclass(frozen=True)
class TiledLogReport:
    """What :func:`verify_tiled_log` checked."""

    origin: str
    size: int
    root_hex: str
    entries_checked: int
    tiles_checked: int = 0


def _first_diff(a: bytes, b: bytes) -> int:
    """Index of the first 32-byte hash at which ``a`` and ``b`` differ (or the shorter length)."""
    for i in range(0, min(len(a), len(b)), HASH_SIZE):
        if a[i : i + HASH_SIZE] != b[i : i + HASH_SIZE]:
            return i // HASH_SIZE
    return min(len(a), len(b)) // HASH_SIZE


class _Level:
    """Stored-tile comparison state for one level >= 1: the stored tile currently compared."""

    __slots__ = ("count", "data", "index", "level")

    def __init__(self, level: int, size: int) -> None:
        self.level = level
        self.count = size >> (TILE_HEIGHT * level)  # hashes this level holds
        self.index = -1
        self.data = b""


def verify_tiled_log(
    source: TileSource,
    checkpoint_note: bytes,
    vkey: str,
    *,
    entry_check: Callable[[int, bytes], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> TiledLogReport:
    """Check every entry, every tile and the root of a tiled log against its signed checkpoint.

    ``entry_check(index, entry)`` is called for each entry in order (it raises its own error);
    ``progress(entries_done)`` after each level-0 tile. Raises SignatureError when the checkpoint
    is not signed by ``vkey``, NotFound for a missing tile or bundle, and LogIntegrityError naming
    the first bad leaf index when the log disagrees with itself or with the checkpoint.
    """
    cp = open_checkpoint(checkpoint_note, NoteVerifier(vkey))
    size = cp.size
    levels: list[_Level] = []
    tiles_checked = 0
    sha = hashlib.sha256

    def push(level: int, position: int, value: bytes) -> None:
        """Compare computed hash ``position`` of ``level`` with the stored tile, then go up."""
        nonlocal tiles_checked
        while len(levels) < level:
            levels.append(_Level(len(levels) + 1, size))
        st = levels[level - 1]
        tindex, slot = divmod(position, TILE_WIDTH)
        width = TILE_WIDTH if (tindex + 1) * TILE_WIDTH <= st.count else st.count % TILE_WIDTH
        path = tile_path(level, tindex, width)
        first_leaf = position << (TILE_HEIGHT * level)
        if st.index != tindex:
            st.index, st.data = tindex, read_tile(source, level, tindex, width)
            tiles_checked += 1
            if len(st.data) != width * HASH_SIZE:
                raise LogIntegrityError(
                    f"entry {first_leaf}: {path} is {len(st.data)} bytes, want {width * HASH_SIZE}",
                    index=first_leaf,
                )
        if st.data[slot * HASH_SIZE : (slot + 1) * HASH_SIZE] != value:
            below = tile_path(level - 1, position)
            raise LogIntegrityError(
                f"entry {first_leaf}: {path} position {slot} differs from the root of {below} "
                f"computed from the entries (covers entries {first_leaf}.."
                f"{first_leaf + (1 << (TILE_HEIGHT * level)) - 1})",
                index=first_leaf,
            )
        if slot == TILE_WIDTH - 1:
            push(level + 1, tindex, tile_root(st.data))

    edges: list[bytes] = []
    done = 0
    n_tiles = (size + TILE_WIDTH - 1) // TILE_WIDTH
    for tindex in range(n_tiles):
        base = tindex * TILE_WIDTH
        width = min(TILE_WIDTH, size - base)
        bpath = entries_path(tindex, width)
        entries, why = read_bundle(source, tindex, width)
        if why is not None or len(entries) != width:
            bad = base + min(len(entries), width)
            reason = why or f"it holds {len(entries)} entries, want {width}"
            raise LogIntegrityError(f"entry {bad}: {bpath} is malformed: {reason}", index=bad)
        computed = b"".join([sha(b"\x00" + e).digest() for e in entries])
        tpath = tile_path(0, tindex, width)
        stored = read_tile(source, 0, tindex, width)
        tiles_checked += 1
        if stored != computed:
            pos = _first_diff(computed, stored)
            if pos < min(len(stored), len(computed)) // HASH_SIZE:
                why = f"leaf hash differs from {tpath} position {pos}"
            else:  # a prefix: a truncated tile fails at its first missing hash, an overlong one as a whole
                pos = pos if len(stored) < len(computed) else 0
                why = f"{tpath} is {len(stored)} bytes, want {len(computed)}"
            raise LogIntegrityError(f"entry {base + pos}: {why}", index=base + pos)
        if entry_check is not None:  # content checks only see entries the tiles authenticate
            for i, e in enumerate(entries):
                entry_check(base + i, e)
        done += width
        if width == TILE_WIDTH:
            push(1, tindex, tile_root(computed))
        else:
            edges = [computed]
        if progress is not None:
            progress(done)
    # Partial tiles at levels >= 1 were compared as their hashes were pushed; collect the edge.
    if size:
        if not edges:
            edges = [b""]
        for st in levels:
            w = st.count % TILE_WIDTH
            edges.append(st.data[: w * HASH_SIZE] if w and st.index == st.count // TILE_WIDTH else b"")
    root = TileBuilder(size, dict(enumerate(edges))).root()
    if root != cp.root:
        raise LogIntegrityError(
            f"the {size} entries hash to root {root.hex()} but the checkpoint says {cp.root.hex()}: "
            "the checkpoint does not describe these tiles",
            index=None,
        )
    return TiledLogReport(cp.origin, size, cp.root.hex(), done, tiles_checked)


def read_tile(source: TileSource, level: int, index: int, width: int) -> bytes:
    """A tile at ``width``. If a partial tile has been replaced by its full tile, take the full
    tile's first ``width`` hashes, as C2SP tlog-tiles lets clients do."""
    partial = tile_path(level, index, width)
    try:
        return source.read(partial)
    except NotFound:
        if width == TILE_WIDTH:
            raise
        try:
            return source.read(tile_path(level, index))[: width * HASH_SIZE]
        except NotFound:
            raise NotFound(f"{partial} is missing, and so is the full tile "
                           f"{tile_path(level, index)}: copy the complete log there") from None


def read_bundle(source: TileSource, index: int, width: int) -> tuple[list[bytes], str | None]:
    """An entry bundle at ``width``, falling back to the full bundle's first ``width`` entries."""
    try:
        return split_bundle(source.read(entries_path(index, width)))
    except NotFound:
        if width == TILE_WIDTH:
            raise
        try:
            entries, why = split_bundle(source.read(entries_path(index)))
        except NotFound:
            raise NotFound(f"{entries_path(index, width)} is missing, and so is the full bundle "
                           f"{entries_path(index)}: copy the complete log there") from None
        return (entries[:width], why) if len(entries) >= width or why else (entries, why)
