"""Database backups: what the public log cannot give back.

The log's entries, tiles and checkpoints, and every projection, can be rebuilt from the
published tiles (``reelrights rebuild``). What is not in the log cannot: the local tables
(fingerprints, asset locations, signed output manifests, the service's allowlist, later pending
admissions and sealed bodies). ``reelrights backup DEST`` copies the whole database while the
server runs:

* **SQLite:** the online backup API (``sqlite3.Connection.backup``) in one step, which reads one
  consistent snapshot (WAL readers do not block the writer), into ``DEST/reelrights.db``;
* **PostgreSQL:** ``pg_dump --format=custom`` (one consistent snapshot, a logical copy) into
  ``DEST/reelrights.pgdump``, when ``pg_dump`` is installed. Production also keeps base backups
  with WAL archiving (point-in-time recovery): docs/deploy.md.

``DEST/backup.json`` (the manifest) names the log (origin, registry, public key), the head the
copy holds (size, root, the signed checkpoint), the schema revision and each file's SHA-256.
Keys are not in a backup: the log key is split among officers (:mod:`.key_shares`) and party
keys live with their parties.

``reelrights --home NEW restore SRC`` checks the manifest and the file digests, restores into a
new home (an SQLite file, or an empty PostgreSQL database or schema), migrates it, and checks it
as ``log verify`` does before the home is renamed into place: the head is the manifest's, its
checkpoint verifies with the log's key, the tree, every signature and every checkpoint check.
A backup is older than the published log by nature: the restored home's server refuses to
start while it is behind (never fork); docs/deploy.md says how to combine the two.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from ..catalogue import check_body
from ..core.checkpoint import open_checkpoint
from ..core.note import NoteSigner, NoteVerifier
from ..core.statements import utc_now
from ..errors import BadInput, Conflict, LogIntegrityError, NotFound
from ..home import Home
from ..keys import load_key_file, write_key_file
from ..log.database_log import DatabaseLog
from ..log.mirror import export_log
from ..log.verify import verify_log
from ..replica.home import log_verifier_key, vkey_path
from ..store.db import Database

__all__ = ["BackupReport", "backup", "restore"]

MANIFEST = "backup.json"
SQLITE_FILE = "reelrights.db"
PG_FILE = "reelrights.pgdump"


@dataclass
class BackupReport:
    path: Path
    dialect: str
    size: int
    root: str
    files: dict[str, str]
    seconds: float

    def summary(self) -> str:
        return (f"backed up {self.dialect} database with the log at size {self.size} to "
                f"{self.path} ({', '.join(self.files)}; {self.seconds:.2f}s)")

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "dialect": self.dialect, "size": self.size,
                "root": self.root, "files": self.files, "seconds": round(self.seconds, 3)}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _new_folder(dest: Path, what: str) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise Conflict(f"{dest} already exists; {what} never overwrites: pass a new folder")


def backup(home: Home, dest: Path) -> BackupReport:
    """Back up ``home``'s database into the new folder ``dest`` (module doc)."""
    started = time.perf_counter()
    dest = Path(dest).expanduser().absolute()
    _new_folder(dest, "backup")
    vkey = log_verifier_key(home)
    url = home.database_url
    dialect = make_url(url).get_backend_name()
    staging = dest.parent / f".{dest.name}.backup-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if dialect == "sqlite":
            name = SQLITE_FILE
            _sqlite_copy(url, staging / name)
            head = _sqlite_head(staging / name)
        elif dialect == "postgresql":
            name = PG_FILE
            head = _pg_dump(url, staging / name)
        else:
            raise BadInput(f"cannot back up a {dialect} database; reelrights runs on SQLite or "
                           "PostgreSQL")
        size, root, note, revision = head
        if size:
            open_checkpoint(note, NoteVerifier(vkey), origin=home.origin)
        files = {name: _sha256(staging / name)}
        manifest = {"format": 1, "created": utc_now(), "dialect": dialect,
                    "origin": home.origin, "registry": home.registry_setting, "log_key": vkey,
                    "size": size, "root": root.hex(), "checkpoint": note.decode("utf-8"),
                    "schema": revision, "files": files,
                    "passphrase_envs": home.passphrase_envs}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                        "utf-8")
        for f in staging.iterdir():
            _fsync(f)
        if dest.exists():
            dest.rmdir()
        os.rename(staging, dest)
        _fsync(dest.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupReport(dest, dialect, size, root.hex(), files, time.perf_counter() - started)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BadInput(f"{url} is not an SQLite file; nothing to back up")
    return Path(database)


def _sqlite_copy(url: str, target: Path) -> None:
    """The online backup API in one step: one consistent snapshot, writers not blocked (WAL)."""
    source = _sqlite_path(url)
    if not source.exists():
        raise NotFound(f"no database at {source}; check --home")
    src = sqlite3.connect(source, timeout=60)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()
    check = sqlite3.connect(target)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise LogIntegrityError(f"the backup copy {target} fails SQLite's integrity check "
                                f"({result}); the source database may be damaged")


def _sqlite_head(path: Path) -> tuple[int, bytes, bytes, str]:
    conn = sqlite3.connect(path)
    try:
        size, root = conn.execute("SELECT size, root FROM log_head WHERE id = 1").fetchone()
        row = conn.execute("SELECT note FROM log_checkpoints WHERE size = ?", (size,)).fetchone()
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()
    return int(size), bytes(root), bytes(row[0]) if row else b"", str(revision)


# -- PostgreSQL ---------------------------------------------------------------------------------

def _libpq(url: str) -> tuple[str, dict[str, str], str | None]:
    """(libpq URI without the password, environment with PGPASSWORD, the schema the URL's
    search_path names or None)."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    schema = None
    options = u.query.get("options")
    if isinstance(options, tuple):
        options = options[0]
    if options:
        for part in str(options).split():
            if part.startswith("-csearch_path="):
                schema = part.split("=", 1)[1].split(",")[0].strip('"')
    plain = u.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env, schema


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise NotFound(f"{name} is not installed; install the PostgreSQL client tools (Debian: "
                       f"apt-get install postgresql-client) or take base backups with WAL "
                       "archiving (docs/deploy.md)")
    return path


def _pg_dump(url: str, target: Path) -> tuple[int, bytes, bytes, str]:
    """pg_dump (custom format) of the snapshot in which the head was read: the transaction
    exports its snapshot and pg_dump runs in it (``--snapshot``), so the manifest's head is
    exactly the dump's."""
    uri, env, schema = _libpq(url)
    args = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
            f"--file={target}"]
    if schema:
        args.append(f"--schema={schema}")
    db = Database(url, migrate=False)
    try:
        with db.engine.connect() as plain:
            conn = plain.execution_options(isolation_level="REPEATABLE READ")
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            log = DatabaseLog("", None)
            size, root = log.head(conn)
            note = log.checkpoint(conn, size) if size else b""
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
            done = subprocess.run([*args, f"--snapshot={snapshot}", uri], env=env,
                                  capture_output=True, text=True, check=False)
            conn.rollback()
    finally:
        db.dispose()
    if done.returncode:
        raise BadInput(f"pg_dump failed: {_first_line(done.stderr)}; check the database URL "
                       "and that this user may read every table")
    return size, root, note, str(revision)


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else "no message"


def pg_restore(dump: Path, url: str) -> None:
    uri, env, _ = _libpq(url)
    done = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges",
                           "--exit-on-error", "--single-transaction", f"--dbname={uri}",
                           str(dump)], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BadInput(f"pg_restore failed: {_first_line(done.stderr)}; restore into an empty "
                       "database (or a schema that does not exist yet)")


# -- restore -----------------------------------------------------------------------------------

def read_manifest(src: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((src / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise NotFound(f"{src} holds no {MANIFEST}; pass a folder written by `reelrights "
                       "backup`") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{src / MANIFEST} is unreadable ({exc}); use another backup") from None
    if data.get("format") != 1:
        raise BadInput(f"{src / MANIFEST}: unknown backup format {data.get('format')!r}")
    for name, digest in data["files"].items():
        path = src / name
        if not path.exists():
            raise NotFound(f"{path} is missing from the backup; use another backup")
        if _sha256(path) != digest:
            raise LogIntegrityError(f"{path} does not match its SHA-256 in {MANIFEST}: the "
                                    "backup is damaged; use another backup")
    return data


def restore(src: Path, target: Path, *, log_key: Path | None = None,
            database_url: str | None = None) -> dict[str, Any]:
    """Restore the backup in ``src`` into a new home ``target`` (module doc). ``log_key``: the
    log's signing key (PEM, e.g. from `key combine`) so the home can append; else a read-only
    replica. ``database_url``: where a PostgreSQL backup goes (an empty database, or a schema
    that does not exist yet); an SQLite backup goes to the home's own file."""
    started = time.perf_counter()
    src, target = Path(src).absolute(), Path(target).expanduser().absolute()
    data = read_manifest(src)
    vkey: str = data["log_key"]
    origin: str = data["origin"]
    verifier = NoteVerifier(vkey)
    key = None
    if log_key is not None:
        key = load_key_file(log_key)
        if NoteSigner(origin, key.seed).vkey != vkey:
            raise BadInput(f"--log-key {log_key} is not this log's key (the backup's log key "
                           f"is {vkey}); pass the key that signs {origin}")
    _new_folder(target, "restore")
    staging = target.parent / f".{target.name}.restore-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if data["dialect"] == "sqlite":
            shutil.copyfile(src / SQLITE_FILE, staging / SQLITE_FILE)
            _fsync(staging / SQLITE_FILE)
            url = f"sqlite:///{staging / SQLITE_FILE}"
            kept_url = None
        else:
            url = database_url or os.environ.get("REELRIGHTS_DATABASE_URL") or ""
            if not url.startswith("postgresql"):
                raise BadInput("a PostgreSQL backup restores into PostgreSQL: pass "
                               "--database-url postgresql+psycopg://USER@HOST/DB (empty)")
            pg_restore(src / PG_FILE, url)
            kept_url = database_url
        db = Database(url)  # migrates a backup of an older schema
        try:
            log = DatabaseLog(origin, None)
            with db.read() as conn:
                head = log.head_state(conn)
                if (head.size, head.root.hex()) != (data["size"], data["root"]):
                    raise LogIntegrityError(
                        f"the restored database's log head (size {head.size}) is not the one "
                        f"{MANIFEST} names (size {data['size']}); use another backup")
                if head.size:
                    note = log.checkpoint(conn, head.size)
                    cp = open_checkpoint(note, verifier, origin=origin)
                    if cp.root != head.root:
                        raise LogIntegrityError("the checkpoint at the restored head does not "
                                                "name its root; use another backup")
                verify_log(conn, log, vkey, check_body=check_body)
                export_log(staging / "log", log, conn)
        finally:
            db.dispose()
        keys = staging / "keys"
        keys.mkdir(mode=0o700, exist_ok=True)
        home = Home(staging, origin, kept_url, dict(data.get("passphrase_envs") or {}),
                    data.get("registry"))
        home.save()
        if key is not None:
            write_key_file(home.log_key_path, key)
        else:
            vkey_path(home).write_text(vkey + "\n", "utf-8")
        if target.exists():
            target.rmdir()
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"home": str(target), "origin": origin, "size": data["size"], "root": data["root"],
            "backup_created": data["created"], "read_only": key is None,
            "seconds": round(time.perf_counter() - started, 3)}
