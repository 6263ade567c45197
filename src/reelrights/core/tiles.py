"""C2SP tlog-tiles: tile paths, entry bundles, the tiled right edge and proofs from tiles.

Tile height is 8, so a full tile holds 256 hashes (8192 bytes). Hash ``i`` of tile ``(L, N)`` is
``MTH(D[(N*256+i) * 256**L : (N*256+i+1) * 256**L])``: level 0 holds leaf hashes, level L >= 1
holds the roots of the full level L-1 tiles. A tree of size ``s`` has at level L
``floor(s / 256**(L+1))`` full tiles and a partial tile of width ``floor(s / 256**L) mod 256``
when that is not 0. Partial tiles are never hashed upward and empty tiles never exist.

Paths: ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``; N is written in groups of three
digits, every group but the last prefixed with ``x`` (1234067 -> ``x001/x234/067``); W in 1..255
only for partial tiles. An entry bundle is the concatenation of ``u16be(len) || entry`` for the
entries of one level-0 tile, so an entry is at most 65 535 bytes. No I/O here.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Literal

from reelrights.core.merkle import EMPTY_ROOT, HASH_SIZE, CompactRange, HashReader
from reelrights.errors import BadInput, LogIntegrityError

__all__ = [
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileBuilder",
    "TileHashReader",
    "bundles_for_size",
    "decode_bundle",
    "encode_bundle",
    "entries_path",
    "parse_tile_path",
    "partial_width",
    "split_bundle",
    "tile_hashes",
    "tile_path",
    "tile_root",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 256
MAX_ENTRY_SIZE = 0xFFFF
_FULL_BYTES = TILE_WIDTH * HASH_SIZE
_sha256 = hashlib.sha256
_PATH = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def _fmt_index(n: int) -> str:
    s = f"{n % 1000:03d}"
    while n >= 1000:
        n //= 1000
        s = f"x{n % 1000:03d}/{s}"
    return s


def _suffix(index: int, width: int) -> str:
    if index < 0:
        raise BadInput(f"tile index {index} is negative")
    if not 1 <= width <= TILE_WIDTH:
        raise BadInput(f"tile width {width} is not in 1..256")
    return _fmt_index(index) + ("" if width == TILE_WIDTH else f".p/{width}")


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<level>/<index>[.p/<width>]`` (width 256 means a full tile)."""
    if not 0 <= level <= 63:
        raise BadInput(f"tile level {level} is not in 0..63")
    return f"tile/{level}/{_suffix(index, width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<index>[.p/<width>]``: the bundle of the entries of level-0 tile ``index``."""
    return f"tile/entries/{_suffix(index, width)}"


def parse_tile_path(path: str) -> tuple[int | Literal["entries"], int, int]:
    """Inverse of :func:`tile_path` / :func:`entries_path`: (level or "entries", index, width).

    Only canonical paths are accepted (BadInput otherwise).
    """
    m = _PATH.fullmatch(path)
    if m is None:
        raise BadInput(f"{path!r} is not a tlog-tiles path like tile/0/x001/234 or tile/entries/005.p/7")
    lv, n_s, w_s = m.groups()
    index = int(n_s.replace("x", "").replace("/", ""))
    width = TILE_WIDTH if w_s is None else int(w_s)
    level: int | Literal["entries"] = "entries" if lv == "entries" else int(lv)
    if level != "entries" and level > 63:
        raise BadInput(f"{path!r} has tile level {level}, above 63")
    if (w_s is not None and width >= TILE_WIDTH) or _fmt_index(index) != n_s:
        raise BadInput(f"{path!r} is not in canonical tlog-tiles form")
    return level, index, width


def partial_width(size: int, level: int) -> int:
    """Width of the partial tile at ``level`` for a tree of ``size`` (0: there is none)."""
    return (size >> (TILE_HEIGHT * level)) & 0xFF


def tiles_for_size(size: int) -> Iterator[tuple[int, int, int]]:
    """Every hash tile ``(level, index, width)`` of a tree of ``size``, level by level.

    Full tiles have width 256; a partial tile (width 1..255) ends each level that needs one.
    """
    level = 0
    n = size
    while n > 0:
        for i in range(n >> 8):
            yield level, i, TILE_WIDTH
        if n & 0xFF:
            yield level, n >> 8, n & 0xFF
        level += 1
        n >>= TILE_HEIGHT


def bundles_for_size(size: int) -> Iterator[tuple[int, int]]:
    """Every entry bundle ``(index, width)`` of a log of ``size`` entries."""
    for level, index, width in tiles_for_size(size):
        if level:
            break
        yield index, width


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Concatenate ``u16be(len(e)) || e``; BadInput when an entry exceeds 65 535 bytes."""
    parts = []
    for i, e in enumerate(entries):
        if len(e) > MAX_ENTRY_SIZE:
            raise BadInput(f"entry {i} of the bundle is {len(e)} bytes; entries are at most 65535 bytes")
        parts.append(len(e).to_bytes(2, "big"))
        parts.append(bytes(e))
    return b"".join(parts)


def split_bundle(data: bytes) -> tuple[list[bytes], str | None]:
    """Decode as many entries as possible: (entries, None) or (entries before the fault, why)."""
    out: list[bytes] = []
    n = len(data)
    pos = 0
    append = out.append
    while pos < n:
        if pos + 2 > n:
            return out, f"1 trailing byte after entry {len(out) - 1}" if out else "1 stray byte"
        end = pos + 2 + ((data[pos] << 8) | data[pos + 1])
        if end > n:
            return out, f"entry {len(out)} claims {end - pos - 2} bytes but only {n - pos - 2} remain"
        append(data[pos + 2 : end])
        pos = end
    return out, None


def decode_bundle(data: bytes) -> list[bytes]:
    """Inverse of :func:`encode_bundle`; BadInput on truncation or trailing bytes."""
    entries, why = split_bundle(data)
    if why is not None:
        raise BadInput(f"malformed entry bundle: {why}; fetch the bundle again")
    return entries


def tile_hashes(data: bytes) -> list[bytes]:
    """Split tile bytes into 32-byte hashes; BadInput if the length is not a multiple of 32."""
    if len(data) % HASH_SIZE or len(data) > _FULL_BYTES:
        raise BadInput(f"tile of {len(data)} bytes is not 1..256 hashes of 32 bytes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def tile_root(data: bytes) -> bytes:
    """Root of a perfect subtree given as concatenated hashes (2**k of them, e.g. a full tile)."""
    sha = _sha256
    while len(data) > HASH_SIZE:
        data = b"".join([sha(b"\x01" + data[i : i + 64]).digest() for i in range(0, len(data), 64)])
    return data


def _edge_compact_hashes(edges: Sequence[bytes]) -> list[bytes]:
    """Perfect-subtree roots of the whole tree from its partial tiles, largest first."""
    out: list[bytes] = []
    for data in reversed(edges):
        w, pos = len(data) // HASH_SIZE, 0
        for bit in (128, 64, 32, 16, 8, 4, 2, 1):
            if w & bit:
                out.append(tile_root(data[pos * HASH_SIZE : (pos + bit) * HASH_SIZE]))
                pos += bit
    return out


class TileBuilder:
    """The right edge of a tiled log: appends leaf hashes and reports the tiles that change.

    ``edge_tiles[level]`` is the bytes of the rightmost partial tile at each level (absent or empty
    where the size has no partial tile there). Memory is one partial tile per level.
    """

    def __init__(self, size: int, edge_tiles: Mapping[int, bytes] | None = None) -> None:
        if size < 0:
            raise BadInput(f"tree size {size} is negative")
        edge_tiles = edge_tiles or {}
        self._size = size
        self._edges: list[bytes] = []
        level = 0
        while size >> (TILE_HEIGHT * level):
            want = partial_width(size, level) * HASH_SIZE
            got = bytes(edge_tiles.get(level, b""))
            if len(got) != want:
                where = tile_path(level, size >> (TILE_HEIGHT * (level + 1)), max(want // HASH_SIZE, 1))
                fix = f"pass the bytes of {where}" if want else "pass none"
                raise BadInput(f"edge tile at level {level} has {len(got)} bytes but size {size} needs {want}: {fix}")
            self._edges.append(got)
            level += 1
        for lv, data in edge_tiles.items():
            if lv >= level and data:
                raise BadInput(f"edge tile at level {lv} is not empty but a tree of size {size} has no such level")

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf_hashes: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
        """Append leaf hashes; return every tile ``(level, index) -> bytes`` whose bytes changed.

        Completed tiles come back full (8192 bytes), and each level that grew and still has a
        partial tile returns its new partial bytes.
        """
        new = b"".join(leaf_hashes)
        if len(new) != HASH_SIZE * len(leaf_hashes):
            raise BadInput("every leaf hash appended to a TileBuilder must be 32 bytes")
        changed: dict[tuple[int, int], bytes] = {}
        edges = self._edges
        old = self._size
        level = 0
        while new:
            if level == len(edges):
                edges.append(b"")
            buf = edges[level] + new
            first = old >> (TILE_HEIGHT * (level + 1))  # index of this level's partial tile
            full = len(buf) // _FULL_BYTES
            ups = []
            for k in range(full):
                tile = buf[k * _FULL_BYTES : (k + 1) * _FULL_BYTES]
                changed[(level, first + k)] = tile
                ups.append(tile_root(tile))
            rest = buf[full * _FULL_BYTES :]
            if rest:
                changed[(level, first + full)] = rest
            edges[level] = rest
            new = b"".join(ups)
            level += 1
        self._size = old + len(leaf_hashes)
        return changed

    def edge(self) -> dict[int, bytes]:
        """The current partial tile bytes per level (levels without one are left out)."""
        return {lv: data for lv, data in enumerate(self._edges) if data}

    def compact_range(self) -> CompactRange:
        """The compact range of the current tree, computed from the edge tiles."""
        return CompactRange.from_hashes(self._size, _edge_compact_hashes(self._edges))

    def root(self) -> bytes:
        """Root of the current tree, computed from the edge tiles only."""
        if self._size == 0:
            return EMPTY_ROOT
        return self.compact_range().root()


Fetch = Callable[[int, int, int], bytes]


class TileHashReader(HashReader):
    """A :class:`~reelrights.core.merkle.HashReader` over the tiles of a tree of ``size``.

    ``fetch(level, index, width)`` returns the bytes of tile (level, index) of that width (256 for
    a full tile). ``subtree_hash(level, index)`` reads tile level ``level // 8``; when
    ``level % 8 != 0`` it combines ``2**(level % 8)`` consecutive hashes of that tile. Each fetched
    tile is expanded (its inner levels computed) lazily and kept in an LRU of ``cache_tiles`` tiles
    (about 16 KiB each). Not thread-safe: use one reader per thread.
    """

    def __init__(self, size: int, fetch: Fetch, cache_tiles: int = 256) -> None:
        if size < 0:
            raise BadInput(f"tree size {size} is negative")
        self.size = size
        self._fetch = fetch
        self._cache: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()
        self._cache_tiles = max(1, cache_tiles)

    def _tile(self, tlevel: int, tindex: int) -> list[bytes]:
        key = (tlevel, tindex)
        cache = self._cache
        levels = cache.get(key)
        if levels is not None:
            cache.move_to_end(key)
            return levels
        count = self.size >> (TILE_HEIGHT * tlevel)  # hashes at this tile level
        width = TILE_WIDTH if (tindex + 1) << 8 <= count else count & 0xFF
        if tindex << 8 >= count:
            raise BadInput(f"tile ({tlevel}, {tindex}) is beyond a tree of size {self.size}")
        data = self._fetch(tlevel, tindex, width)
        if len(data) != width * HASH_SIZE:
            raise LogIntegrityError(
                f"{tile_path(tlevel, tindex, width)} is {len(data)} bytes, want {width * HASH_SIZE}: "
                "the tile is truncated or corrupt",
                index=(tindex << 8) << (TILE_HEIGHT * tlevel),
            )
        levels = [bytes(data)]
        cache[key] = levels
        if len(cache) > self._cache_tiles:
            cache.popitem(last=False)
        return levels

    def subtree_hash(self, level: int, index: int) -> bytes:
        """Hash of perfect subtree (level, index), which must lie inside the tree."""
        if level < 0 or index < 0 or (index + 1) << level > self.size:
            raise BadInput(f"subtree (level {level}, index {index}) is not inside a tree of size {self.size}")
        tlevel, sub = divmod(level, TILE_HEIGHT)
        first = index << sub  # position of its first hash at tile level tlevel
        levels = self._tile(tlevel, first >> 8)
        if sub >= len(levels):
            sha = _sha256
            while len(levels) <= sub:
                prev = levels[-1]
                usable = len(prev) - len(prev) % 64
                levels.append(b"".join([sha(b"\x01" + prev[i : i + 64]).digest() for i in range(0, usable, 64)]))
        pos = ((first & 0xFF) >> sub) * HASH_SIZE
        return levels[sub][pos : pos + HASH_SIZE]
