"""``reelrights rebuild``: recreate a home's registry from the log alone.

The log's static tiles (C2SP tlog-tiles: ``checkpoint``, ``tile/...``, ``tile/entries/...``)
are verified against the log's public key first (:func:`~reelrights.log.tiled.verify_tiled_log`:
the signed checkpoint, every tile, every leaf). Then, in one transaction of a new database, the
entries are replayed through the registry's own appliers (:mod:`.replay`), the tiles and the
verified checkpoint (the note exactly as published) are stored, and the whole result is
verified as ``log verify`` would (every signature under the keys the log registered). The new
home is assembled in a temporary folder beside the target and renamed into place at the end, so
a refusal leaves nothing behind. Without the log's signing key the home is a read-only replica
(:mod:`.home`); with it (``--log-key``, the operator's disaster recovery) it appends again.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..catalogue import check_body
from ..core.checkpoint import open_checkpoint
from ..core.note import NoteSigner, NoteVerifier
from ..errors import BadInput, Conflict
from ..home import Home
from ..keys import PartyKey, load_key_file, write_key_file
from ..log.database_log import DatabaseLog, insert_rows
from ..log.mirror import export_log
from ..log.tiled import TileSource, verify_tiled_log
from ..log.verify import verify_log
from ..sealed.store import BodySource
from ..store.db import Database
from ..store.tables import log_checkpoints, log_head, log_tiles, parties
from .home import vkey_path
from .replay import replay
from .tables import projection_tables

__all__ = ["RebuildReport", "rebuild"]


@dataclass
class RebuildReport:
    home: Path
    origin: str
    entries: int
    checkpoint_size: int
    root: str
    tables: int
    read_only: bool
    seconds: float

    def summary(self) -> str:
        mode = "read-only replica" if self.read_only else "can append (log key installed)"
        return (f"rebuilt {self.home}: {self.entries} entries from checkpoint {self.origin} size "
                f"{self.checkpoint_size}, {self.tables} tables replayed, {mode} "
                f"({self.seconds:.2f}s)")

    def to_json(self) -> dict[str, Any]:
        return {"home": str(self.home), "origin": self.origin, "entries": self.entries,
                "checkpoint_size": self.checkpoint_size, "root": self.root,
                "tables": self.tables, "read_only": self.read_only,
                "seconds": round(self.seconds, 3)}


def rebuild(source: TileSource, checkpoint_note: bytes, vkey: str, target: Path, *,
            log_key: Path | None = None, database_url: str | None = None,
            bodies: BodySource | None = None) -> RebuildReport:
    """Verify the tiled log in ``source`` and build a new home at ``target`` from it.

    ``bodies`` supplies sealed statements' bodies (a sealed body store: a backup's database, a
    home's copies); each is checked against its signed root and kept in the new home. Without
    one, sealed statements rebuild from their public fields and read "body unavailable".

    ``database_url`` (kept in the new home.json) defaults to ``REELRIGHTS_DATABASE_URL`` at run
    time, else an SQLite file in the home, as for ``init``.
    """
    started = time.perf_counter()
    target = Path(target).expanduser().absolute()
    _refuse_existing(target)
    cp = open_checkpoint(checkpoint_note, NoteVerifier(vkey))
    key = _operator_key(log_key, cp.origin, vkey) if log_key is not None else None
    entries: list[bytes] = []
    verify_tiled_log(source, checkpoint_note, vkey, entry_check=lambda _i, e: entries.append(e))
    staging = target.parent / f".{target.name}.rebuild-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        url = database_url or os.environ.get("REELRIGHTS_DATABASE_URL") or \
            f"sqlite:///{staging / 'reelrights.db'}"
        registry = _build_database(url, entries, checkpoint_note, cp.origin, vkey, staging,
                                   bodies)
        _write_home(staging, cp.origin, registry, vkey, key, database_url)
        if target.exists():
            target.rmdir()  # empty (checked above); rename needs the name free
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RebuildReport(target, cp.origin, len(entries), cp.size, cp.root.hex(),
                         len(projection_tables()), key is None, time.perf_counter() - started)


def _refuse_existing(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Conflict(f"{target} already exists; rebuild never overwrites a home or a folder "
                       "in use: pass a new --home")


def _operator_key(path: Path, origin: str, vkey: str) -> PartyKey:
    key = load_key_file(path)
    if NoteSigner(origin, key.seed).vkey != vkey:
        raise BadInput(f"--log-key {path} is not this log's signing key (its verifier key "
                       f"differs from {vkey}); pass the PEM of the key that signs {origin}")
    return key


def _build_database(url: str, entries: list[bytes], note: bytes, origin: str, vkey: str,
                    staging: Path, bodies: BodySource | None = None) -> str | None:
    """Replay, store the log tables, verify the result, export the static folder, commit.
    Returns the registry id the log serves (None for a v1 log)."""
    db = Database(url)
    try:
        with db.write() as conn:
            size = int(conn.execute(select(log_head.c.size)).scalar_one())
            if size or conn.execute(select(parties.c.id).limit(1)).first():
                raise Conflict(f"the database {url.split('@')[-1]!r} already holds a registry "
                               f"({size} log entries); rebuild into an empty database")
            report = replay(conn, entries, origin=origin, bodies=bodies)
            insert_rows(conn, log_tiles, ("level", "idx", "width", "hashes"), [
                (lv, i, len(data) // 32, data) for (lv, i), data in sorted(report.tiles.items())])
            issued = report.last_time or ""
            if report.entries:
                conn.execute(log_checkpoints.insert().values(
                    size=report.entries, root=report.root, note=note, issued_at=issued))
            conn.execute(log_head.update().where(log_head.c.id == 1).values(
                size=report.entries, root=report.root, time=report.last_time,
                registry=report.registry, v2_from=report.v2_from,
                checkpoints=1 if report.entries else 0))
            log = DatabaseLog(origin, None)
            verify_log(conn, log, vkey, check_body=check_body)
            export_log(staging / "log", log, conn)
        return report.registry
    finally:
        db.dispose()


def _write_home(staging: Path, origin: str, registry: str | None, vkey: str,
                key: PartyKey | None, database_url: str | None) -> None:
    keys = staging / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    os.chmod(keys, 0o700)
    (staging / "log").mkdir(exist_ok=True)
    home = Home(staging, origin, database_url, registry_setting=registry)
    home.save()
    if key is not None:
        write_key_file(home.log_key_path, key)
    else:
        vkey_path(home).write_text(vkey + "\n", "utf-8")
