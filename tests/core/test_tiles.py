"""C2SP tlog-tiles: paths, bundles, TileBuilder and TileHashReader.

Vectors: tests/assets/tlog_vectors.json ``tile_paths`` (transparency-dev/tessera @1811ae1a
api/layout/paths_test.go; C2SP/C2SP @5ba5ee83 tlog-tiles.md 70 000 example), ``tessera_log``
(tessera testdata/log/tile/...) and ``sunlight_skylight`` (FiloSottile/sunlight @ed0bc387
cmd/skylight/testdata, 300-entry tree).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from reelrights.core.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
)
from reelrights.core.tiles import (
    TileBuilder,
    TileHashReader,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    entries_path,
    parse_tile_path,
    partial_width,
    split_bundle,
    tile_hashes,
    tile_path,
    tile_root,
    tiles_for_size,
)
from reelrights.errors import BadInput, LogIntegrityError

_V = json.loads((Path(__file__).parents[1] / "assets" / "tlog_vectors.json").read_text("utf-8"))


# --- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize("vec", _V["tile_paths"]["vectors"], ids=lambda v: v["path"])
def test_tile_path_vectors(vec: dict[str, Any]) -> None:
    """transparency-dev/tessera api/layout/paths_test.go."""
    if vec["kind"] == "entries_for_log_index":
        index = vec["seq"] // 256
        full = (index + 1) * 256 <= vec["log_size"]
        width = 256 if full else partial_width(vec["log_size"], 0)
        assert entries_path(index, width) == vec["path"]
        return
    width = vec["partial_width"] or 256
    if vec["kind"] == "hash":
        assert tile_path(vec["level"], vec["index"], width) == vec["path"]
        assert parse_tile_path(vec["path"]) == (vec["level"], vec["index"], width)
    else:
        assert entries_path(vec["index"], width) == vec["path"]
        assert parse_tile_path(vec["path"]) == ("entries", vec["index"], width)


def test_spec_example_70000(tlog_vectors: dict[str, Any]) -> None:
    """C2SP tlog-tiles.md: size 70 000 -> 273 full + .p/112 at L0, 1 full + .p/17 at L1, .p/1 at L2."""
    ex = tlog_vectors["tile_paths"]["spec_example"]
    tiles = list(tiles_for_size(ex["tree_size"]))
    full = Counter(level for level, _, w in tiles if w == 256)
    partial = {level: (index, w) for level, index, w in tiles if w < 256}
    assert dict(full) == {0: 273, 1: 1}
    assert partial == {0: (273, 112), 1: (1, 17), 2: (0, 1)}
    assert [partial_width(70000, lv) for lv in range(4)] == [112, 17, 1, 0]
    assert "273 full level-0 tiles, partial level-0 width 112" in ex["tiles"]
    assert tile_path(0, 273, 112) == "tile/0/273.p/112"
    assert list(bundles_for_size(70000))[-1] == (273, 112)
    assert len(list(bundles_for_size(70000))) == 274


def test_tiles_for_size_small() -> None:
    assert list(tiles_for_size(0)) == []
    assert list(tiles_for_size(1)) == [(0, 0, 1)]
    assert list(tiles_for_size(256)) == [(0, 0, 256), (1, 0, 1)]
    assert list(tiles_for_size(65536))[-3:] == [(0, 255, 256), (1, 0, 256), (2, 0, 1)]


@given(st.integers(0, 63), st.integers(0, 10**15), st.integers(1, 256))
def test_path_round_trip(level: int, index: int, width: int) -> None:
    path = tile_path(level, index, width)
    assert parse_tile_path(path) == (level, index, width)
    assert parse_tile_path(entries_path(index, width)) == ("entries", index, width)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/0/0001",
        "tile/0/x000/001",  # non-canonical leading group
        "tile/0/001/002",  # missing x
        "tile/64/000",  # level too high
        "tile/00/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/007",
        "tile/data/000",
        "/tile/0/000",
        "tile/0/000.p/",
    ],
)
def test_parse_rejects(path: str) -> None:
    with pytest.raises(BadInput):
        parse_tile_path(path)


def test_path_argument_checks() -> None:
    for args in [(64, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257)]:
        with pytest.raises(BadInput):
            tile_path(*args)


# --- bundles and tile bytes --------------------------------------------------------------------


def test_bundle_round_trip_and_limits() -> None:
    entries = [b"", b"a", bytes(300), bytes(65535)]
    data = encode_bundle(entries)
    assert data[:5] == b"\x00\x00\x00\x01a"
    assert decode_bundle(data) == entries
    with pytest.raises(BadInput, match="65535"):
        encode_bundle([bytes(65536)])
    for bad in [data[:-1], data + b"\x00", data + b"\x00\x05ab", b"\x01"]:
        with pytest.raises(BadInput):
            decode_bundle(bad)
    assert split_bundle(data + b"\x00\x05ab") == (entries, "entry 4 claims 5 bytes but only 2 remain")


def test_tessera_bundles_and_tiles(tlog_vectors: dict[str, Any]) -> None:
    """tessera testdata/log: every bundle and level-0 partial tile, regenerated byte-exact."""
    log = tlog_vectors["tessera_log"]
    entries = [e.encode() for e in log["entries_text"]]
    bundles = {b["path"]: bytes.fromhex(b["hex"]) for b in log["entry_bundles"]}
    tiles = {t["path"]: bytes.fromhex(t["hex"]) for t in log["tiles"]}
    assert len(bundles) == len(tiles) == 15
    builder = TileBuilder(0, {})
    for n in range(1, 16):
        assert bundles[entries_path(0, n)] == encode_bundle(entries[:n])
        assert decode_bundle(bundles[entries_path(0, n)]) == entries[:n]
        changed = builder.append([leaf_hash(entries[n - 1])])
        assert changed == {(0, 0): tiles[tile_path(0, 0, n)]}
        assert tile_hashes(tiles[tile_path(0, 0, n)]) == [leaf_hash(e) for e in entries[:n]]


def test_sunlight_tiles(tlog_vectors: dict[str, Any]) -> None:
    """FiloSottile/sunlight skylight testdata: 300 'record %d' entries -> 3 tiles, byte-exact."""
    sl = tlog_vectors["sunlight_skylight"]
    entries = [b"record %d" % i for i in range(sl["tree"]["size"])]
    builder = TileBuilder(0, {})
    changed = builder.append([leaf_hash(e) for e in entries])
    got = {tile_path(lv, ix, len(data) // 32): data for (lv, ix), data in changed.items()}
    assert sorted(got) == sorted(t["path"] for t in sl["tiles"])
    for t in sl["tiles"]:
        assert len(got[t["path"]]) == t["len"]
        assert hashlib.sha256(got[t["path"]]).hexdigest() == t["sha256"]
        if t["hex"]:
            assert got[t["path"]].hex() == t["hex"]
    assert builder.root() == root_of([leaf_hash(e) for e in entries])
    assert b"gw31yQrqZZCcEOPrzX+bpy3nJ6QgngTKn8G1m0i62uU=" in sl["mirror_checkpoint"]["signed_note"].encode()
    import base64

    assert base64.b64encode(builder.root()) == b"gw31yQrqZZCcEOPrzX+bpy3nJ6QgngTKn8G1m0i62uU="


def test_tile_hashes_and_root() -> None:
    hashes = [leaf_hash(b"%d" % i) for i in range(256)]
    data = b"".join(hashes)
    assert tile_hashes(data) == hashes
    assert tile_root(data) == root_of(hashes)
    for bad in [data[:-1], data + bytes(32)]:
        with pytest.raises(BadInput):
            tile_hashes(bad)


# --- TileBuilder -------------------------------------------------------------------------------


def _expected_tiles(tree: MemoryTree) -> dict[tuple[int, int], bytes]:
    """Every tile of ``tree`` built directly from its perfect subtrees."""
    out = {}
    for level, index, width in tiles_for_size(tree.size):
        out[(level, index)] = b"".join(tree.subtree_hash(8 * level, index * 256 + i) for i in range(width))
    return out


def test_tile_builder_reports_changed_tiles_only() -> None:
    leaves = [leaf_hash(b"%d" % i) for i in range(300)]
    b = TileBuilder(0, {})
    assert b.root() == EMPTY_ROOT and b.edge() == {}
    first = b.append(leaves[:255])
    assert set(first) == {(0, 0)} and len(first[(0, 0)]) == 255 * 32
    second = b.append(leaves[255:257])
    assert set(second) == {(0, 0), (0, 1), (1, 0)}
    assert len(second[(0, 0)]) == 8192 and len(second[(0, 1)]) == 32 and len(second[(1, 0)]) == 32
    third = b.append(leaves[257:258])
    assert set(third) == {(0, 1)}
    assert b.append([]) == {}
    assert b.size == 258 and b.root() == root_of(leaves[:258])
    assert b.compact_range().root() == b.root()


def test_tile_builder_rejects_bad_edges() -> None:
    leaves = [leaf_hash(b"%d" % i) for i in range(300)]
    b = TileBuilder(0, {})
    b.append(leaves)
    edge = b.edge()
    assert TileBuilder(300, edge).root() == b.root()
    with pytest.raises(BadInput):
        TileBuilder(300, {0: edge[0]})  # level-1 edge missing
    with pytest.raises(BadInput):
        TileBuilder(300, {0: edge[0][:-32], 1: edge[1]})
    with pytest.raises(BadInput):
        TileBuilder(300, {**edge, 2: bytes(32)})
    with pytest.raises(BadInput):
        TileBuilder(-1, {})
    with pytest.raises(BadInput):
        b.append([b"short"])


_BIG = MemoryTree(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(70_000))
_BIG_TILES = _expected_tiles(_BIG)


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.integers(0, 3000), min_size=1, max_size=12), st.integers(0, 11))
def test_tile_builder_random_batches(batches: list[int], restart_at: int) -> None:
    """Appending in random batch splits (restarting from edge() once) gives MemoryTree's tiles."""
    leaves = [_BIG.subtree_hash(0, i) for i in range(sum(batches))]
    builder = TileBuilder(0, {})
    stored: dict[tuple[int, int], bytes] = {}
    pos = 0
    for k, n in enumerate(batches):
        if k == restart_at:
            builder = TileBuilder(builder.size, builder.edge())
        changed = builder.append(leaves[pos : pos + n])
        pos += n
        stored.update(changed)
        assert builder.root() == _BIG.root(pos)
    size = pos
    want = {(lv, ix): _BIG_TILES[(lv, ix)][: w * 32] for lv, ix, w in tiles_for_size(size)}
    assert {k: v for k, v in stored.items() if k in want} == want
    # Tiles not in the final tree are only old partials of tiles that later grew.
    assert set(stored) == set(want)


def test_tile_builder_big_batch_crossing_levels() -> None:
    builder = TileBuilder(0, {})
    changed = builder.append([_BIG.subtree_hash(0, i) for i in range(70_000)])
    assert changed == _BIG_TILES
    assert builder.root() == _BIG.root()
    assert builder.edge() == {0: _BIG_TILES[(0, 273)], 1: _BIG_TILES[(1, 1)], 2: _BIG_TILES[(2, 0)]}


# --- TileHashReader ----------------------------------------------------------------------------


def _fetch_for(size: int, calls: list[tuple[int, int, int]] | None = None):  # type: ignore[no-untyped-def]
    def fetch(level: int, index: int, width: int) -> bytes:
        assert width == (256 if (index + 1) * 256 <= size >> (8 * level) else partial_width(size, level))
        if calls is not None:
            calls.append((level, index, width))
        return _BIG_TILES[(level, index)][: width * 32]

    return fetch


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(1, 70_000), st.data())
def test_tile_reader_proofs_equal_memory_tree(size: int, data: st.DataObject) -> None:
    reader = TileHashReader(size, _fetch_for(size), cache_tiles=8)
    index = data.draw(st.integers(0, size - 1))
    assert inclusion_proof(index, size, reader) == inclusion_proof(index, size, _BIG)
    old = data.draw(st.integers(1, size))
    assert consistency_proof(old, size, reader) == consistency_proof(old, size, _BIG)


def test_tile_reader_every_level_and_cache() -> None:
    size = 70_000
    calls: list[tuple[int, int, int]] = []
    reader = TileHashReader(size, _fetch_for(size, calls), cache_tiles=4)
    for level in range(17):
        for index in (0, (size >> level) - 1):
            assert reader.subtree_hash(level, index) == _BIG.subtree_hash(level, index)
    calls.clear()
    p1 = inclusion_proof(69_999, size, reader)
    n_first = len(calls)
    assert inclusion_proof(69_999, size, reader) == p1
    assert len(calls) == n_first  # second proof is served from the cache
    with pytest.raises(BadInput):
        reader.subtree_hash(0, size)
    with pytest.raises(BadInput):
        reader.subtree_hash(17, 0)


def test_tile_reader_rejects_short_tile() -> None:
    reader = TileHashReader(600, lambda level, index, width: bytes(32 * width - 1))
    with pytest.raises(LogIntegrityError) as err:
        reader.subtree_hash(0, 300)
    assert err.value.index == 256
