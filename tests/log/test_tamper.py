"""Tampering with the stored log: every change is caught and names the first bad index.

The database half goes through :func:`verify_log`, the static half through
:func:`verify_tiled_log`, and both through ``reelrights log verify`` (exit 1, one stderr line).
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from reelrights.catalogue import check_body
from reelrights.cli import cli
from reelrights.core.ids import new_id
from reelrights.core.merkle import leaf_hash
from reelrights.core.note import NoteSigner
from reelrights.core.statements import make_leaf, make_statement, open_leaf, sign_statement
from reelrights.core.tiles import TileBuilder, encode_bundle, entries_path, tile_path
from reelrights.errors import LogIntegrityError
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.log.mirror import export_log
from reelrights.log.tiled import DirTileSource, verify_tiled_log
from reelrights.log.verify import verify_log
from reelrights.registry.parties import register_party
from reelrights.store.tables import log_checkpoints, log_entries, log_tiles

_counter = itertools.count()


def work_entry(registry: str, pid: str, key: Any) -> bytes:
    n = next(_counter)
    wid = new_id("work")
    body = {"id": wid, "kind": "film", "title": f"Tampered {n:06d}", "owner": pid,
            "assets": [{"sha256": hashlib.sha256(wid.encode()).hexdigest(), "size": 100 + n,
                        "media_type": "video/mp4", "category": "video", "name": f"t{n}.mp4"}]}
    return sign_statement(make_statement("work.registered", pid, body, registry=registry), key)


#: Works per batch of the ``small`` log: with the registry.established entry (index 0) and the
#: two parties (1, 2), 18 entries, a checkpoint at each of the sizes 1, 2, 3, 6, 11, 12, 18.
SMALL = [3, 5, 1, 6]
#: Works per batch of the ``big`` log: sizes 1, 2, 3, 102, 256 (a full tile exactly), 257 (one
#: past it), 457, 520: level-0 tiles 000, 001 (full) and 002.p/8, level-1 tile 000.p/2.
BIG = [99, 154, 1, 200, 63]


class Log:
    """A log built through the ledger: the registry.established entry (index 0, logged when the
    ledger was opened), 2 parties (indices 1 and 2), then batches of works.

    ``sizes`` is the log's size after each batch, read from the head: each batch issued one
    checkpoint at that size.
    """

    def __init__(self, home: Home, ledger: Ledger, batches: list[int]) -> None:
        self.home, self.ledger = home, ledger
        self.sizes = [self.head_size()]
        assert self.sizes == [1], "a new log holds its registry.established entry alone"
        self.pids = []
        for name in ("Alpha", "Beta"):
            self.pids.append(register_party(home, ledger, "studio", name).details["id"])
            self.sizes.append(self.head_size())
        self.keys = [home.party_key(p) for p in self.pids]
        for i, b in enumerate(batches):
            pid, key = self.pids[i % 2], self.keys[i % 2]
            self.ledger.submit([work_entry(home.registry, pid, key) for _ in range(b)])
            self.sizes.append(self.head_size())
        assert self.sizes == sorted(set(self.sizes)) and self.sizes[3:] == list(
            itertools.accumulate(batches, initial=3))[1:]
        self.size = self.sizes[-1]
        self.vkey = NoteSigner(home.origin, home.log_key().seed).vkey

    def head_size(self) -> int:
        with self.ledger.db.read() as conn:
            return self.ledger.log.head(conn)[0]

    def verify(self, **kw: Any) -> LogIntegrityError:
        with self.ledger.db.read() as conn, pytest.raises(LogIntegrityError) as err:
            verify_log(conn, self.ledger.log, self.vkey, **kw, check_body=check_body)
        return err.value

    def verify_ok(self) -> None:
        with self.ledger.db.read() as conn:
            assert verify_log(conn, self.ledger.log, self.vkey, check_body=check_body).size == self.size

    def verify_mirror(self) -> LogIntegrityError:
        root = self.home.log_dir
        with pytest.raises(LogIntegrityError) as err:
            verify_tiled_log(DirTileSource(root), (root / "checkpoint").read_bytes(), self.vkey)
        return err.value

    def entry(self, index: int) -> bytes:
        with self.ledger.db.read() as conn:
            return self.ledger.log.entry(conn, index)

    def set(self, table: Any, where: Any, **values: Any) -> None:
        with self.ledger.db.write() as conn:
            assert conn.execute(update(table).where(where).values(**values)).rowcount == 1

    def get(self, table: Any, where: Any, column: str) -> bytes:
        with self.ledger.db.read() as conn:
            return bytes(conn.execute(select(table.c[column]).where(where)).scalar_one())

    def flip(self, table: Any, where: Any, column: str, offset: int) -> None:
        """Change one byte of a stored blob with an SQL UPDATE."""
        data = bytearray(self.get(table, where, column))
        data[offset] ^= 0x01
        self.set(table, where, **{column: bytes(data)})


def flipped(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:]


def title_offset(entry: bytes) -> int:
    """Offset of the last digit of the work's title: flipping it keeps the JSON canonical."""
    m = re.search(rb'"title":"Tampered (\d{6})"', entry)
    assert m is not None
    return m.end(1) - 1


@pytest.fixture
def small(home: Home, ledger: Ledger) -> Log:
    """Establishment + 2 parties + works in batches of 3, 5, 1, 6: 18 entries, checkpoints 1,
    2, 3, 6, 11, 12, 18."""
    log = Log(home, ledger, SMALL)
    assert log.sizes == [1, 2, 3, 6, 11, 12, 18]
    return log


@pytest.fixture
def big(home: Home, ledger: Ledger) -> Log:
    """Establishment + 2 parties + 517 works = 520 entries: level-0 tiles 000, 001 (full) and
    002.p/8, level-1 tile 000.p/2."""
    log = Log(home, ledger, BIG)
    assert log.sizes == [1, 2, 3, 102, 256, 257, 457, 520]
    return log


# --------------------------------------------------------------------------------------------
# The database: verify_log
# --------------------------------------------------------------------------------------------


def test_untouched_logs_verify(small: Log) -> None:
    small.verify_ok()
    with small.ledger.db.read() as conn:
        report = verify_log(conn, small.ledger.log, small.vkey, check_body=check_body)
    assert (report.size, report.checkpoints, report.signatures) == (18, 7, 18)
    verify_tiled_log(DirTileSource(small.home.log_dir), (small.home.log_dir / "checkpoint").read_bytes(),
                     small.vkey)


@pytest.mark.parametrize("index", [0, 1, 9, 17])  # the establishment, a party, two works
def test_entry_byte_changed(small: Log, index: int) -> None:
    offset = title_offset(small.entry(index)) if index >= 3 else 40
    small.flip(log_entries, log_entries.c.idx == index, "entry", offset)
    err = small.verify()
    assert err.index == index
    assert str(err).startswith(f"entry {index}: its bytes do not hash to the stored leaf hash")
    assert small.verify(signatures=False).index == index


@pytest.mark.parametrize(("index", "offset"), [(0, 0), (7, 31), (17, 13)])
def test_leaf_hash_byte_changed(small: Log, index: int, offset: int) -> None:
    small.flip(log_entries, log_entries.c.idx == index, "leaf_hash", offset)
    err = small.verify()
    assert err.index == index
    assert f"entry {index}:" in str(err)


@pytest.mark.parametrize("index", [3, 17])
def test_entry_and_leaf_hash_rewritten_together(small: Log, index: int) -> None:
    """An attacker who also fixes the leaf hash: the signature names the entry."""
    forged = flipped(small.entry(index), title_offset(small.entry(index)))
    small.set(log_entries, log_entries.c.idx == index, entry=forged, leaf_hash=leaf_hash(forged))
    err = small.verify()
    assert err.index == index
    assert "signature" in str(err) and "does not verify" in str(err)
    # Without signature checks the recomputed tree no longer gives the signed root at the first
    # checkpoint after the entry (it is compared before the partial edge tile).
    err = small.verify(signatures=False)
    after = min(s for s in small.sizes if s > index)
    assert (err.index, str(err).split(" has ")[0]) == (after, f"checkpoint at size {after}")


@pytest.mark.parametrize(("index", "first_checkpoint_after"), [(3, 6), (11, 12), (17, 18)])
def test_rewritten_history_is_a_fork(small: Log, index: int, first_checkpoint_after: int) -> None:
    """Replace an entry with another validly signed statement (in a leaf with the replaced
    entry's log time, so every rule of the log holds) and rebuild the leaf hash and every tile
    consistently: only the signed checkpoints can tell, and the first one after it does."""
    _, log_time = open_leaf(small.entry(index))
    assert log_time is not None
    replacement = make_leaf(work_entry(small.home.registry, small.pids[0], small.keys[0]),
                            log_time)
    with small.ledger.db.write() as conn:
        conn.execute(update(log_entries).where(log_entries.c.idx == index)
                     .values(entry=replacement, leaf_hash=leaf_hash(replacement)))
        hashes = [bytes(h) for h in conn.scalars(select(log_entries.c.leaf_hash).order_by(log_entries.c.idx))]
        for (level, idx), data in TileBuilder(0, {}).append(hashes).items():
            conn.execute(update(log_tiles).where(log_tiles.c.level == level, log_tiles.c.idx == idx)
                         .values(hashes=data, width=len(data) // 32))
    err = small.verify()
    assert err.index == first_checkpoint_after
    assert str(err).startswith(f"checkpoint at size {first_checkpoint_after} has a root that differs")


@pytest.mark.parametrize("index", [0, 4, 17])
def test_level0_tile_byte_changed(small: Log, index: int) -> None:
    where = (log_tiles.c.level == 0) & (log_tiles.c.idx == 0)
    small.flip(log_tiles, where, "hashes", index * 32 + 17)
    err = small.verify()
    assert err.index == index
    assert str(err) == (f"entry {index}: stored tile 0/0 differs at hash {index} from the tree "
                        "recomputed from the entries")


@pytest.mark.parametrize(("level", "tile", "position", "first_leaf"), [
    (0, 0, 100, 100),     # a full level-0 tile, compared while streaming
    (0, 0, 255, 255),
    (0, 1, 5, 261),
    (0, 2, 3, 515),       # the partial level-0 tile at the edge
    (0, 2, 7, 519),
    (1, 0, 0, 0),         # the partial level-1 tile: hash 0 covers entries 0..255
    (1, 0, 1, 256),       # hash 1 covers entries 256..511
])
def test_tile_byte_changed_big_log(big: Log, level: int, tile: int, position: int, first_leaf: int) -> None:
    assert big.size == 520
    where = (log_tiles.c.level == level) & (log_tiles.c.idx == tile)
    big.flip(log_tiles, where, "hashes", position * 32 + 5)
    err = big.verify()
    assert err.index == first_leaf
    assert str(err).startswith(f"entry {first_leaf}: stored tile {level}/{tile} differs at hash {position}")
    assert big.verify(signatures=False).index == first_leaf


@pytest.mark.parametrize("chunk", [1, 7, 256])
def test_chunked_verification(big: Log, chunk: int) -> None:
    """verify_log streams in chunks; chunk edges that do not fall on checkpoints or tiles change
    nothing, neither the result nor the index a tampered tile is reported at."""
    with big.ledger.db.read() as conn:
        done: list[int] = []
        report = verify_log(conn, big.ledger.log, big.vkey, chunk=chunk, progress=done.append, check_body=check_body)
        assert (report.size, report.checkpoints, report.signatures) == (520, 8, 520)
        assert sum(done) == 520
    big.flip(log_tiles, (log_tiles.c.level == 0) & (log_tiles.c.idx == 1), "hashes", 40 * 32)
    assert big.verify(chunk=chunk).index == 296


def test_tile_rows_missing_or_short(big: Log) -> None:
    with big.ledger.db.write() as conn:
        conn.execute(delete(log_tiles).where(log_tiles.c.level == 1))
    err = big.verify()
    assert (err.index, str(err)) == (0, "tile 1/0 is missing from the database")


def test_edge_tile_truncated(big: Log) -> None:
    where = (log_tiles.c.level == 0) & (log_tiles.c.idx == 2)
    data = big.get(log_tiles, where, "hashes")
    big.set(log_tiles, where, hashes=data[:-64])  # the last two hashes (entries 518, 519) gone
    assert big.verify().index == 518


@pytest.mark.parametrize("which", [0, 4, -1])  # checkpoints at sizes 1, 11 and 18
@pytest.mark.parametrize("how", ["signature", "note_root", "stored_root", "note_size"])
def test_checkpoint_tampered(small: Log, which: int, how: str) -> None:
    size = small.sizes[which]
    where = log_checkpoints.c.size == size
    note = small.get(log_checkpoints, where, "note")
    text, _, sigline = note.decode().rpartition("\n\n")
    if how == "signature":
        name, b64 = sigline.rstrip("\n").rsplit(" ", 1)
        raw = bytearray(base64.b64decode(b64))
        raw[4 + 10] ^= 0x01  # a byte of the Ed25519 signature, after the 4-byte key id
        small.set(log_checkpoints, where, note=f"{text}\n\n{name} {base64.b64encode(raw).decode()}\n".encode())
    elif how == "note_root":
        lines = text.split("\n")
        lines[2] = base64.b64encode(hashlib.sha256(b"another root").digest()).decode()
        small.set(log_checkpoints, where, note=("\n".join(lines) + "\n\n" + sigline).encode())
    elif how == "note_size":
        lines = text.split("\n")
        lines[1] = str(size + 1)
        small.set(log_checkpoints, where, note=("\n".join(lines) + "\n\n" + sigline).encode())
    else:
        small.flip(log_checkpoints, where, "root", 9)
    err = small.verify()
    assert err.index == size
    assert str(err).startswith(f"checkpoint at size {size}")
    assert small.verify(signatures=False).index == size


def test_checkpoint_rows_added_or_removed(small: Log) -> None:
    """A forged checkpoint beyond the log, or the last checkpoint deleted, is named by size."""
    note = small.get(log_checkpoints, log_checkpoints.c.size == 18, "note")
    root = small.get(log_checkpoints, log_checkpoints.c.size == 18, "root")
    with small.ledger.db.write() as conn:
        conn.execute(log_checkpoints.insert().values(size=23, root=root, note=note,
                                                     issued_at="2026-01-01T00:00:00Z"))
    err = small.verify()
    assert (err.index, str(err)) == (23, "checkpoint at size 23 is beyond the log's 18 entries")
    with small.ledger.db.write() as conn:
        conn.execute(delete(log_checkpoints).where(log_checkpoints.c.size >= 18))
    err = small.verify()
    assert (err.index, str(err)) == (18, "the head (size 18) is not the last checkpoint (size 12)")


def test_head_root_changed(small: Log) -> None:
    """The head names a size and root of its own: it must be the last checkpoint's."""
    from reelrights.store.tables import log_head

    small.flip(log_head, log_head.c.id == 1, "root", 0)
    assert small.verify().index == 18


@pytest.mark.parametrize("index", [0, 6, 17])
def test_entry_row_deleted(small: Log, index: int) -> None:
    with small.ledger.db.write() as conn:
        assert conn.execute(delete(log_entries).where(log_entries.c.idx == index)).rowcount == 1
    err = small.verify()
    assert err.index == index
    assert f"entry {index} is missing" in str(err)


def test_entry_row_beyond_head(small: Log) -> None:
    forged = work_entry(small.home.registry, small.pids[0], small.keys[0])
    with small.ledger.db.write() as conn:
        conn.execute(log_entries.insert().values(idx=18, leaf_hash=leaf_hash(forged), type="work.registered",
                                                 actor=small.pids[0], time="2026-01-01T00:00:00Z",
                                                 entry=forged))
    assert small.verify().index == 18


# --------------------------------------------------------------------------------------------
# The static mirror: verify_tiled_log
# --------------------------------------------------------------------------------------------


def _flip_file(path: Path, offset: int) -> None:
    path.write_bytes(flipped(path.read_bytes(), offset))


@pytest.mark.parametrize("index", [0, 5, 17])
def test_mirror_bundle_byte_changed(small: Log, index: int) -> None:
    entries = [small.entry(i) for i in range(small.size)]
    bundle = small.home.log_dir / entries_path(0, 18)
    assert bundle.read_bytes() == encode_bundle(entries)
    _flip_file(bundle, len(encode_bundle(entries[:index])) + 2 + 30)  # inside entry ``index``
    err = small.verify_mirror()
    assert err.index == index
    assert str(err) == f"entry {index}: leaf hash differs from tile/0/000.p/18 position {index}"
    small.verify_ok()  # the database is untouched


@pytest.mark.parametrize("index", [0, 11, 17])
def test_mirror_tile_byte_changed(small: Log, index: int) -> None:
    _flip_file(small.home.log_dir / tile_path(0, 0, 18), index * 32 + 31)
    assert small.verify_mirror().index == index


@pytest.mark.parametrize(("path", "offset", "first_leaf"), [
    (tile_path(0, 0), 200 * 32, 200),
    (tile_path(0, 1), 3 * 32, 259),
    (tile_path(0, 2, 8), 3 * 32, 515),
    (tile_path(1, 0, 2), 32, 256),
    (tile_path(1, 0, 2), 0, 0),
])
def test_mirror_tile_byte_changed_big_log(big: Log, path: str, offset: int, first_leaf: int) -> None:
    _flip_file(big.home.log_dir / path, offset)
    assert big.verify_mirror().index == first_leaf


def test_mirror_bundle_byte_changed_big_log(big: Log) -> None:
    entries = [big.entry(i) for i in range(512, 520)]
    bundle = big.home.log_dir / entries_path(2, 8)
    assert bundle.read_bytes() == encode_bundle(entries)
    _flip_file(bundle, len(encode_bundle(entries[:6])) + 2 + 50)  # inside entry 512 + 6
    assert big.verify_mirror().index == 518
    full = big.home.log_dir / entries_path(1)
    _flip_file(full, len(encode_bundle([big.entry(i) for i in range(256, 300)])) + 2 + 50)
    assert big.verify_mirror().index == 300  # the earlier (full) bundle is reached first


# --------------------------------------------------------------------------------------------
# The command line: `reelrights --home H log verify`
# --------------------------------------------------------------------------------------------


def run_verify(home: Home, *extra: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home.path), "log", "verify", *extra])


def assert_cli_names(result: Any, index: int) -> str:
    assert result.exit_code == 1, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert re.search(rf"\b(entry|size) {index}\b", lines[0]), lines[0]
    assert result.stdout == ""
    return lines[0]


def test_cli_verify_ok(small: Log) -> None:
    result = run_verify(small.home)
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout.startswith(f"ok: {small.home.origin} size 18 ")
    assert "18 entries, 18 signatures, 7 checkpoints consistent" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("index", [3, 17])
def test_cli_entry_tampered(small: Log, index: int) -> None:
    small.flip(log_entries, log_entries.c.idx == index, "entry", title_offset(small.entry(index)))
    line = assert_cli_names(run_verify(small.home), index)
    assert line.startswith(f"error: entry {index}: ")
    assert_cli_names(run_verify(small.home, "--tree-only"), index)


def test_cli_tile_tampered(big: Log) -> None:
    big.flip(log_tiles, (log_tiles.c.level == 1) & (log_tiles.c.idx == 0), "hashes", 32)
    assert_cli_names(run_verify(big.home), 256)


def test_cli_checkpoint_tampered(small: Log) -> None:
    small.flip(log_checkpoints, log_checkpoints.c.size == 11, "root", 0)
    line = assert_cli_names(run_verify(small.home), 11)
    assert line.startswith("error: checkpoint at size 11")


def test_cli_entry_deleted(small: Log) -> None:
    with small.ledger.db.write() as conn:
        conn.execute(delete(log_entries).where(log_entries.c.idx == 8))
    line = assert_cli_names(run_verify(small.home), 8)
    assert "missing" in line


@pytest.mark.parametrize(("path", "offset", "index"), [
    (entries_path(0, 18), 2 + 12, 0),
    (tile_path(0, 0, 18), 9 * 32, 9),
])
def test_cli_mirror_tampered(small: Log, path: str, offset: int, index: int) -> None:
    _flip_file(small.home.log_dir / path, offset)
    line = assert_cli_names(run_verify(small.home), index)
    assert line.startswith(f"error: entry {index}: ")


def test_cli_tiles_folder_tampered(small: Log, tmp_path: Path) -> None:
    out = tmp_path / "export"
    with small.ledger.db.read() as conn:
        export_log(out, small.ledger.log, conn)
    _flip_file(out / tile_path(0, 0, 18), 14 * 32)
    assert_cli_names(run_verify(small.home, "--tiles", str(out), "--key", small.vkey), 14)


def test_cli_tiles_folder_ok(small: Log, tmp_path: Path) -> None:
    out = tmp_path / "export"
    with small.ledger.db.read() as conn:
        export_log(out, small.ledger.log, conn)
    result = run_verify(small.home, "--tiles", str(out), "--key", small.vkey)
    assert result.exit_code == 0, (result.output, repr(result.exception))
    assert result.stdout.startswith(f"ok: {small.home.origin} size 18 ")
    assert "18 entries match" in result.stdout
