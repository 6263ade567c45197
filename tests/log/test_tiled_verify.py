"""verify_tiled_log over C2SP tlog-tiles logs on disk: upstream logs, generated logs, tampering.

Upstream logs come from tests/assets/tlog_vectors.json: ``tessera_log`` (transparency-dev/tessera
@1811ae1a testdata/log, written by Tessera's POSIX driver) and ``sunlight_skylight``
(FiloSottile/sunlight @ed0bc387 cmd/skylight/testdata: 300-entry tree, cosigned checkpoint).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from reelrights.core.checkpoint import Checkpoint, sign_checkpoint
from reelrights.core.merkle import EMPTY_ROOT, leaf_hash
from reelrights.core.note import NoteSigner
from reelrights.core.tiles import TileBuilder, encode_bundle, entries_path, tile_path
from reelrights.errors import BadInput, LogIntegrityError, NotFound, SignatureError
from reelrights.log.tiled import DirTileSource, TiledLogReport, verify_tiled_log

ORIGIN = "example.com/reelrights-test"
SIGNER = NoteSigner(ORIGIN, hashlib.sha256(b"tiled test key").digest())


def _write(root: Path, path: str, data: bytes) -> None:
    p = root / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def write_log(root: Path, entries: list[bytes]) -> bytes:
    """Write bundles and tiles of ``entries`` under ``root``; return the signed checkpoint."""
    for start in range(0, len(entries), 256):
        chunk = entries[start : start + 256]
        _write(root, entries_path(start // 256, len(chunk)), encode_bundle(chunk))
    builder = TileBuilder(0, {})
    for (level, index), data in builder.append([leaf_hash(e) for e in entries]).items():
        _write(root, tile_path(level, index, len(data) // 32), data)
    return sign_checkpoint(Checkpoint(ORIGIN, len(entries), builder.root()), SIGNER)


class Tampered:
    """A TileSource that changes one file's bytes on the way out."""

    def __init__(self, inner: DirTileSource, path: str, edit: Any) -> None:
        self.inner, self.path, self.edit = inner, path, edit

    def read(self, path: str) -> bytes:
        data = self.inner.read(path)
        return self.edit(data) if path == self.path else data


def flip(offset: int) -> Any:
    return lambda data: data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


N_BIG = 70_000  # levels 0..2, full and partial tiles at levels 0 and 1


def _entry(i: int) -> bytes:
    return b"statement %d " % i + bytes(i % 50)


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[DirTileSource, bytes]:
    root = tmp_path_factory.mktemp("biglog")
    note = write_log(root, [_entry(i) for i in range(N_BIG)])
    return DirTileSource(root), note


# --- upstream logs -----------------------------------------------------------------------------


def test_tessera_log_every_checkpoint(tlog_vectors: dict[str, Any], tmp_path: Path) -> None:
    """Tessera's own tiles and bundles verify against each of its 16 checkpoints."""
    log = tlog_vectors["tessera_log"]
    for item in log["tiles"] + log["entry_bundles"]:
        _write(tmp_path, item["path"], bytes.fromhex(item["hex"]))
    seen: list[int] = []
    for c in log["checkpoints"]:
        report = verify_tiled_log(
            DirTileSource(tmp_path), c["signed_note"].encode(), log["vkey"], entry_check=lambda i, e: seen.append(i)
        )
        assert report == TiledLogReport(log["origin"], c["size"], c["root"], c["size"], 1 if c["size"] else 0)
    assert len(seen) == sum(range(16))
    # Entry bundle 000.p/5 changed: the 'five' entry (index 4) no longer matches tile/0/000.p/5.
    bundle = tmp_path / "tile/entries/000.p/5"
    bundle.write_bytes(bundle.read_bytes().replace(b"five", b"fivf"))
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(DirTileSource(tmp_path), log["checkpoints"][5]["signed_note"].encode(), log["vkey"])
    assert err.value.index == 4
    assert str(err.value) == "entry 4: leaf hash differs from tile/0/000.p/5 position 4"


def test_sunlight_tiles_with_cosigned_checkpoint(tlog_vectors: dict[str, Any], tmp_path: Path) -> None:
    """Sunlight's 300-entry tiles (level 1 partial included) verify against the mirror cosignature."""
    sl = tlog_vectors["sunlight_skylight"]
    entries = [b"record %d" % i for i in range(300)]
    write_log(tmp_path, entries)  # our bundles and tiles ...
    for t in sl["tiles"]:  # ... with Sunlight's bytes where the vector carries them
        if t["hex"]:
            _write(tmp_path, t["path"], bytes.fromhex(t["hex"]))
        assert hashlib.sha256((tmp_path / t["path"]).read_bytes()).hexdigest() == t["sha256"]
    mirror = sl["mirror_checkpoint"]
    report = verify_tiled_log(DirTileSource(tmp_path), mirror["signed_note"].encode(), mirror["vkey"])
    assert (report.origin, report.size, report.entries_checked) == ("rome2026h1.example.org", 300, 300)
    assert report.tiles_checked == 3


# --- generated logs ----------------------------------------------------------------------------


def test_big_log_verifies(big_log: tuple[DirTileSource, bytes]) -> None:
    source, note = big_log
    progress: list[int] = []
    checked: list[int] = []

    def check(index: int, entry: bytes) -> None:
        if index % 1000 == 0:
            assert entry == _entry(index)
            checked.append(index)

    report = verify_tiled_log(source, note, SIGNER.vkey, entry_check=check, progress=progress.append)
    assert report.size == report.entries_checked == N_BIG
    assert report.tiles_checked == 274 + 2 + 1
    assert progress[0] == 256 and progress[-1] == N_BIG and len(progress) == 274
    assert len(checked) == 70


def test_empty_log(tmp_path: Path) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), SIGNER)
    report = verify_tiled_log(DirTileSource(tmp_path), note, SIGNER.vkey)
    assert (report.size, report.entries_checked, report.root_hex) == (0, 0, EMPTY_ROOT.hex())


def test_exact_multiple_of_256(tmp_path: Path) -> None:
    note = write_log(tmp_path, [_entry(i) for i in range(512)])
    assert verify_tiled_log(DirTileSource(tmp_path), note, SIGNER.vkey).tiles_checked == 3


def test_wrong_key(big_log: tuple[DirTileSource, bytes]) -> None:
    source, note = big_log
    other = NoteSigner(ORIGIN, bytes(32))
    with pytest.raises(SignatureError):
        verify_tiled_log(source, note, other.vkey)


@pytest.mark.parametrize("index", [0, 255, 513, 69_999])
def test_tampered_bundle_entry(big_log: tuple[DirTileSource, bytes], index: int) -> None:
    source, note = big_log
    tile, pos = divmod(index, 256)
    width = min(256, N_BIG - tile * 256)
    chunk = [_entry(i) for i in range(tile * 256, tile * 256 + pos)]
    offset = len(encode_bundle(chunk)) + 2  # first byte of entry ``index``
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, entries_path(tile, width), flip(offset)), note, SIGNER.vkey)
    assert err.value.index == index
    assert str(err.value) == f"entry {index}: leaf hash differs from {tile_path(0, tile, width)} position {pos}"


def test_tampered_level0_tile(big_log: tuple[DirTileSource, bytes]) -> None:
    source, note = big_log
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, "tile/0/002", flip(7 * 32 + 31)), note, SIGNER.vkey)
    assert err.value.index == 2 * 256 + 7
    assert "tile/0/002 position 7" in str(err.value)


@pytest.mark.parametrize(
    ("path", "position", "first_leaf"),
    [
        ("tile/1/000", 3, 3 * 256),
        ("tile/1/000", 255, 255 * 256),
        ("tile/1/001.p/17", 5, (256 + 5) * 256),
        ("tile/2/000.p/1", 0, 0),
    ],
)
def test_tampered_upper_tile(big_log: tuple[DirTileSource, bytes], path: str, position: int, first_leaf: int) -> None:
    source, note = big_log
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, path, flip(position * 32)), note, SIGNER.vkey)
    assert err.value.index == first_leaf
    assert str(err.value).startswith(f"entry {first_leaf}: {path} position {position} differs")


def test_truncated_bundle(big_log: tuple[DirTileSource, bytes]) -> None:
    source, note = big_log
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, "tile/entries/003", lambda d: d[:-3]), note, SIGNER.vkey)
    assert err.value.index == 3 * 256 + 255
    assert "tile/entries/003 is malformed" in str(err.value)


def test_bundle_with_missing_or_extra_entries(big_log: tuple[DirTileSource, bytes]) -> None:
    source, note = big_log
    last = entries_path(273, 112)
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, last, lambda d: d + encode_bundle([b"x"])), note, SIGNER.vkey)
    assert err.value.index == N_BIG and "holds 113 entries, want 112" in str(err.value)
    short = encode_bundle([_entry(i) for i in range(273 * 256, 273 * 256 + 100)])
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, last, lambda d: short), note, SIGNER.vkey)
    assert err.value.index == 273 * 256 + 100


def test_tile_with_wrong_length(big_log: tuple[DirTileSource, bytes]) -> None:
    source, note = big_log
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, "tile/0/005", lambda d: d + bytes(32)), note, SIGNER.vkey)
    assert err.value.index == 5 * 256 and "tile/0/005 is 8224 bytes" in str(err.value)
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, "tile/0/005", lambda d: d[:-64]), note, SIGNER.vkey)
    assert err.value.index == 5 * 256 + 254 and "tile/0/005 is 8128 bytes" in str(err.value)
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(Tampered(source, "tile/1/000", lambda d: d[:-32]), note, SIGNER.vkey)
    assert err.value.index == 0 and "tile/1/000 is 8160 bytes" in str(err.value)


def test_missing_tile(tmp_path: Path) -> None:
    note = write_log(tmp_path, [_entry(i) for i in range(300)])
    (tmp_path / "tile/0/001.p/44").unlink()
    with pytest.raises(NotFound, match=re.escape("tile/0/001.p/44")):
        verify_tiled_log(DirTileSource(tmp_path), note, SIGNER.vkey)


def test_checkpoint_with_other_root(tmp_path: Path) -> None:
    write_log(tmp_path, [_entry(i) for i in range(300)])
    note = sign_checkpoint(Checkpoint(ORIGIN, 300, bytes(32)), SIGNER)
    with pytest.raises(LogIntegrityError, match="checkpoint does not describe these tiles") as err:
        verify_tiled_log(DirTileSource(tmp_path), note, SIGNER.vkey)
    assert err.value.index is None


def test_on_disk_tamper(tmp_path: Path) -> None:
    """A byte changed in a file on disk (not through a wrapper) is caught at its entry."""
    entries = [_entry(i) for i in range(600)]
    note = write_log(tmp_path, entries)
    bundle = tmp_path / "tile/entries/001"
    data = bytearray(bundle.read_bytes())
    data[len(encode_bundle(entries[256:300])) + 2 + 3] ^= 0xFF
    bundle.write_bytes(bytes(data))
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_log(DirTileSource(tmp_path), note, SIGNER.vkey)
    assert err.value.index == 300


def test_entry_check_errors_propagate(big_log: tuple[DirTileSource, bytes]) -> None:
    source, note = big_log

    def check(index: int, entry: bytes) -> None:
        if index == 1234:
            raise BadInput(f"entry {index} is not a statement")

    with pytest.raises(BadInput, match="entry 1234"):
        verify_tiled_log(source, note, SIGNER.vkey, entry_check=check)


def test_dir_source_stays_inside(tmp_path: Path) -> None:
    source = DirTileSource(tmp_path)
    for bad in ["../etc/passwd", "/etc/passwd", ""]:
        with pytest.raises(BadInput):
            source.read(bad)
    with pytest.raises(NotFound, match="tile/0/000"):
        source.read("tile/0/000")
