"""`log verify` covers everything the log stores, as an attacker would tamper with it.

* every tile and bundle file in the home's ``log/`` folder, superseded partial versions
  included, and the folder's ``checkpoint`` against the database's;
* stored tiles are exactly as long and as wide as the tree says (database rows and files);
* a deleted checkpoint row is noticed (``log_head.checkpoints`` counts the checkpoints issued);
* a cell of the wrong SQL type is named (table, row, column) instead of raising TypeError.

Every test runs on SQLite and PostgreSQL (PostgreSQL refuses wrong-typed cells itself).
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import delete, text, update
from test_tamper import BIG, SMALL, Log, flipped, run_verify  # tests/log is on sys.path

from reelrights.core.tiles import encode_bundle, entries_path, tile_path
from reelrights.errors import LogIntegrityError
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.store.tables import log_checkpoints, log_head, log_tiles


@pytest.fixture
def small(home: Home, ledger: Ledger) -> Log:
    """Sizes 1, 2, 3, 6, 11, 12, 18 (the establishment, 2 parties, 4 batches of works): log/
    holds tile/0/000.p/{1,2,3,6,11,12,18} and the bundles of the same widths."""
    log = Log(home, ledger, SMALL)
    assert log.sizes == [1, 2, 3, 6, 11, 12, 18]
    return log


@pytest.fixture
def big(home: Home, ledger: Ledger) -> Log:
    """520 entries: tile/0/000, 001, 002.p/8, tile/1/000.p/1 (superseded) and 000.p/2."""
    log = Log(home, ledger, BIG)
    assert log.size == 520
    return log


def cli_error(result: Any) -> str:
    """The one stderr line of a failed verification (exit 1, nothing on stdout)."""
    assert result.exit_code == 1, (result.output, repr(result.exception))
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


def verify_error(log: Log, **kw: Any) -> LogIntegrityError:
    return log.verify(**kw)


def is_sqlite(log: Log) -> bool:
    return log.ledger.db.dialect == "sqlite"


# --------------------------------------------------------------------------------------------
# 1. Every file in log/, superseded partial tiles and bundles included
# --------------------------------------------------------------------------------------------


def _flip_file(path: Path, offset: int) -> None:
    path.write_bytes(flipped(path.read_bytes(), offset))


def test_folder_holds_superseded_partials(small: Log) -> None:
    """The mirror keeps the older partial widths (for clients holding an older checkpoint)."""
    widths = sorted(int(p.name) for p in (small.home.log_dir / "tile/0/000.p").iterdir())
    assert widths == small.sizes == [1, 2, 3, 6, 11, 12, 18]
    assert run_verify(small.home).exit_code == 0


@pytest.mark.parametrize(("width", "hash_at"), [(1, 0), (6, 3), (12, 10)])
def test_superseded_partial_tile_tampered(small: Log, width: int, hash_at: int) -> None:
    path = tile_path(0, 0, width)
    _flip_file(small.home.log_dir / path, hash_at * 32 + 7)
    line = cli_error(run_verify(small.home))
    assert path in line and f"entry {hash_at}:" in line, line


@pytest.mark.parametrize(("width", "entry"), [(2, 1), (11, 7)])
def test_superseded_partial_bundle_tampered(small: Log, width: int, entry: int) -> None:
    path = entries_path(0, width)
    entries = [small.entry(i) for i in range(width)]
    assert (small.home.log_dir / path).read_bytes() == encode_bundle(entries)
    _flip_file(small.home.log_dir / path, len(encode_bundle(entries[:entry])) + 2 + 20)
    line = cli_error(run_verify(small.home))
    assert path in line and f"entry {entry}:" in line, line


def test_superseded_partial_files_with_extra_bytes(small: Log) -> None:
    tile = small.home.log_dir / tile_path(0, 0, 6)
    tile.write_bytes(tile.read_bytes() + bytes(32))
    assert tile_path(0, 0, 6) in cli_error(run_verify(small.home))
    shutil.copy(small.home.log_dir / tile_path(0, 0, 11), tile)  # another width's bytes
    assert tile_path(0, 0, 6) in cli_error(run_verify(small.home))
    tile.write_bytes((small.home.log_dir / tile_path(0, 0, 18)).read_bytes()[:6 * 32])  # repaired
    assert run_verify(small.home).exit_code == 0
    bundle = small.home.log_dir / entries_path(0, 11)
    bundle.write_bytes(bundle.read_bytes() + encode_bundle([small.entry(11)]))
    assert entries_path(0, 11) in cli_error(run_verify(small.home))


def test_superseded_upper_partial_tile_tampered(big: Log) -> None:
    path = tile_path(1, 0, 1)
    assert (big.home.log_dir / path).exists()
    _flip_file(big.home.log_dir / path, 3)
    line = cli_error(run_verify(big.home))
    assert path in line and "entry 0:" in line, line


@pytest.mark.parametrize("path", [tile_path(0, 0, 20), tile_path(0, 1), entries_path(0, 19),
                                  tile_path(2, 0, 1), "tile/0/000.p/18.orig", "tile/notes.txt"])
def test_files_beyond_the_log_or_unknown(small: Log, path: str) -> None:
    """A tile or bundle the checkpoint does not cover, or a file no client asks for, is named."""
    target = small.home.log_dir / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((small.home.log_dir / tile_path(0, 0, 18)).read_bytes() + bytes(96))
    assert path in cli_error(run_verify(small.home))


def test_leftover_temporary_files_are_ignored(small: Log) -> None:
    """A crash between a write and its rename leaves ``.<name>.<pid>.tmp``: never served."""
    (small.home.log_dir / "tile/0/000.p/.18.4242.tmp").write_bytes(b"half written")
    assert run_verify(small.home).exit_code == 0


def test_tiled_folder_function(small: Log, tmp_path: Path) -> None:
    """The same sweep in the library: every file checked, the current widths verified first."""
    from reelrights.log.mirror_verify import verify_tiled_folder

    folder = tmp_path / "copy"
    shutil.copytree(small.home.log_dir, folder)
    note = (folder / "checkpoint").read_bytes()
    report = verify_tiled_folder(folder, note, small.vkey)
    assert (report.size, report.files_checked) == (18, 14)  # 7 tile widths, 7 bundle widths
    _flip_file(folder / entries_path(0, 6), 2 + 9)
    with pytest.raises(LogIntegrityError) as err:
        verify_tiled_folder(folder, note, small.vkey)
    assert err.value.index == 0 and entries_path(0, 6) in str(err.value)


def test_cli_tiles_folder_checks_every_file(small: Log) -> None:
    """`log verify --tiles DIR` sweeps the folder too (here: the home's own folder)."""
    _flip_file(small.home.log_dir / tile_path(0, 0, 2), 33)
    result = run_verify(small.home, "--tiles", str(small.home.log_dir), "--key", small.vkey)
    assert tile_path(0, 0, 2) in cli_error(result)


def test_cli_tiles_folder_at_an_older_checkpoint(small: Log, tmp_path: Path) -> None:
    """At an older checkpoint (``--checkpoint``) the folder's newer files are expected: counted,
    not failed; the files that checkpoint covers are still checked."""
    old = tmp_path / "checkpoint-11"
    old.write_bytes(small.get(log_checkpoints, log_checkpoints.c.size == 11, "note"))
    args = ("--tiles", str(small.home.log_dir), "--key", small.vkey, "--checkpoint", str(old))
    result = run_verify(small.home, *args)
    assert result.exit_code == 0, (result.output, repr(result.exception))
    # newer: the tiles and bundles of widths 12 and 18
    assert "size 11 " in result.stdout and "4 newer files not covered" in result.stdout
    _flip_file(small.home.log_dir / tile_path(0, 0, 6), 40)
    assert tile_path(0, 0, 6) in cli_error(run_verify(small.home, *args))


# --- the folder's checkpoint against the database's --------------------------------------------


def test_older_checkpoint_put_back(small: Log, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older, validly signed checkpoint in log/ hides the newer entries from clients."""
    import reelrights.log.mirror_verify as mv

    monkeypatch.setattr(mv, "BEHIND_WAIT_S", 0.2)
    old = small.get(log_checkpoints, log_checkpoints.c.size == 11, "note")
    (small.home.log_dir / "checkpoint").write_bytes(old)
    line = cli_error(run_verify(small.home))
    assert "log/checkpoint" in line and "size 11" in line and "size 18" in line, line


def test_checkpoint_file_with_extra_signature_line(small: Log) -> None:
    """Unknown signature lines do not stop the note from opening; the bytes still differ."""
    cp = small.home.log_dir / "checkpoint"
    fake = base64.b64encode(b"\x01\x02\x03\x04" + bytes(64)).decode()
    cp.write_bytes(cp.read_bytes() + f"\u2014 evil.example/log {fake}\n".encode())
    line = cli_error(run_verify(small.home))
    assert "log/checkpoint" in line and "size 18" in line, line


def test_checkpoint_file_missing(small: Log) -> None:
    (small.home.log_dir / "checkpoint").unlink()
    line = cli_error(run_verify(small.home))
    assert "log/checkpoint" in line and "missing" in line, line


# --------------------------------------------------------------------------------------------
# 2. Stored tiles are exactly as long and as wide as the tree says
# --------------------------------------------------------------------------------------------


def _tile_where(level: int, idx: int) -> Any:
    return (log_tiles.c.level == level) & (log_tiles.c.idx == idx)


@pytest.mark.parametrize(("level", "idx", "first_leaf"), [(0, 0, 0), (0, 2, 512), (1, 0, 0)])
@pytest.mark.parametrize("width_too", [False, True])
def test_stored_tile_with_extra_bytes(big: Log, level: int, idx: int, first_leaf: int,
                                      width_too: bool) -> None:
    """Extra bytes after a stored tile, with or without its width column raised to match."""
    data = big.get(log_tiles, _tile_where(level, idx), "hashes")
    width = len(data) // 32 + (1 if width_too and len(data) < 8192 else 0)
    big.set(log_tiles, _tile_where(level, idx), hashes=data + bytes(32), width=width)
    err = verify_error(big)
    assert err.index == first_leaf
    named = "width" if width != len(data) // 32 else "bytes"
    assert f"tile {level}/{idx}" in str(err) and named in str(err), str(err)


@pytest.mark.parametrize(("level", "idx", "width"), [(0, 0, 255), (0, 2, 9), (1, 0, 1), (1, 0, 0)])
def test_stored_tile_width_column_wrong(big: Log, level: int, idx: int, width: int) -> None:
    big.set(log_tiles, _tile_where(level, idx), width=width)
    err = verify_error(big)
    assert f"tile {level}/{idx}" in str(err) and "width" in str(err), str(err)
    line = cli_error(run_verify(big.home, "--tree-only"))
    assert f"tile {level}/{idx}" in line


@pytest.mark.parametrize(("level", "idx"), [(0, 3), (1, 1), (2, 0)])
def test_stored_tile_beyond_the_tree(big: Log, level: int, idx: int) -> None:
    with big.ledger.db.write() as conn:
        conn.execute(log_tiles.insert().values(level=level, idx=idx, width=1, hashes=bytes(32)))
    err = verify_error(big)
    assert f"tile {level}/{idx}" in str(err) and "no such tile" in str(err), str(err)


# --------------------------------------------------------------------------------------------
# 3. A deleted checkpoint row is noticed
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 6, 12])
def test_checkpoint_row_deleted(small: Log, size: int) -> None:
    with small.ledger.db.write() as conn:
        assert conn.execute(delete(log_checkpoints).where(log_checkpoints.c.size == size)).rowcount == 1
    err = verify_error(small)
    assert "log_checkpoints" in str(err) and "7 checkpoints" in str(err) and "6 rows" in str(err)
    line = cli_error(run_verify(small.home))
    assert "a checkpoint row was deleted" in line, line


def test_checkpoint_count_changed(small: Log) -> None:
    with small.ledger.db.read() as conn:  # the appends counted their checkpoints
        assert small.ledger.log.head_state(conn).checkpoints == len(small.sizes) == 7
    small.set(log_head, log_head.c.id == 1, checkpoints=8)
    assert "8 checkpoints" in str(verify_error(small))


# --------------------------------------------------------------------------------------------
# 4. Cells of the wrong SQL type
# --------------------------------------------------------------------------------------------

#: (table, SET clause, WHERE clause, what the error names on SQLite, on PostgreSQL). PostgreSQL
#: refuses a cell of the wrong type (None), except a string literal for a bytea column, which
#: it reads as bytes: then the cell is just wrong bytes, named like any other tampering.
WRONG_CELLS = [
    ("log_entries", "entry = 'not bytes'", "idx = 3", "log_entries row 3: column entry",
     "entry 3: its bytes do not hash"),
    ("log_entries", "entry = 123456789", "idx = 3", "log_entries row 3: column entry", None),
    ("log_entries", "leaf_hash = 'abc'", "idx = 16", "log_entries row 16: column leaf_hash",
     "entry 16: its bytes do not hash"),
    ("log_entries", "leaf_hash = 7.5", "idx = 0", "log_entries row 0: column leaf_hash", None),
    ("log_tiles", "hashes = 'abc'", "level = 0 AND idx = 0", "log_tiles row 0/0: column hashes",
     "entry 0: stored tile 0/0 is 3 bytes"),
    ("log_tiles", "width = 'wide'", "level = 0 AND idx = 0", "log_tiles row 0/0: column width",
     None),
    ("log_tiles", "idx = 'zero'", "level = 0 AND idx = 0", "log_tiles row 0/'zero': column idx",
     None),
    ("log_checkpoints", "root = 'abc'", "size = 11", "log_checkpoints row 11: column root",
     "checkpoint at size 11 has a root that differs"),
    ("log_checkpoints", "note = 42", "size = 6", "log_checkpoints row 6: column note", None),
    ("log_checkpoints", "size = 'eleven'", "size = 11",
     "log_checkpoints row 'eleven': column size", None),
    ("log_head", "size = 'many'", "id = 1", "log_head row 1: column size", None),
    ("log_head", "root = 'abc'", "id = 1", "log_head row 1: column root",
     "the head's root differs"),
    ("log_head", "checkpoints = 'seven'", "id = 1", "log_head row 1: column checkpoints", None),
]


@pytest.mark.parametrize(("table", "assign", "where", "named", "pg_named"), WRONG_CELLS)
def test_wrong_typed_cell(small: Log, table: str, assign: str, where: str, named: str,
                          pg_named: str | None) -> None:
    sql = f"UPDATE {table} SET {assign} WHERE {where}"
    if not is_sqlite(small):
        if pg_named is None:  # PostgreSQL's column types refuse the cell: nothing to verify
            with pytest.raises(sqlalchemy.exc.DBAPIError), small.ledger.db.write() as conn:
                conn.exec_driver_sql(sql)
            small.verify_ok()
            return
        named = pg_named
    with small.ledger.db.write() as conn:
        assert conn.exec_driver_sql(sql).rowcount == 1
    for kw in ({}, {"signatures": False}):
        err = verify_error(small, **kw)
        assert str(err).startswith(named), str(err)
    line = cli_error(run_verify(small.home))
    assert named in line, line


def test_entry_index_cannot_be_text(small: Log) -> None:
    """``idx`` is the rowid on SQLite and a bigint on PostgreSQL: both refuse text."""
    with pytest.raises(sqlalchemy.exc.DBAPIError), small.ledger.db.write() as conn:
        conn.exec_driver_sql("UPDATE log_entries SET idx = 'three' WHERE idx = 3")
    small.verify_ok()


def test_wrong_typed_entry_in_tree_only_workers(home: Home, ledger: Ledger,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree-only path that hashes in worker processes names the cell too (SQLite only)."""
    import reelrights.log.verify as verify_mod

    log = Log(home, ledger, [40])
    if not is_sqlite(log):
        pytest.skip("worker hashing reads SQLite files only")
    monkeypatch.setattr(verify_mod, "_WORKER_MIN", 1)
    with ledger.db.write() as conn:
        conn.exec_driver_sql("UPDATE log_entries SET entry = 'text now' WHERE idx = 30")
    err = verify_error(log, signatures=False)
    assert str(err).startswith("log_entries row 30: column entry"), str(err)
    assert err.index == 30


def test_negative_or_null_like_values_on_both_backends(small: Log) -> None:
    """Values the type system lets through on both backends are still checked."""
    small.set(log_head, log_head.c.id == 1, checkpoints=-1)
    assert "-1 checkpoints" in str(verify_error(small))
    small.set(log_head, log_head.c.id == 1, checkpoints=7)
    small.verify_ok()
    with small.ledger.db.write() as conn:
        conn.execute(update(log_tiles).where(_tile_where(0, 0)).values(width=-5))
    assert "tile 0/0" in str(verify_error(small))
    with small.ledger.db.write() as conn:
        conn.execute(text("UPDATE log_tiles SET width = 18 WHERE level = 0 AND idx = 0"))
    small.verify_ok()
