"""reelrights log: checkpoint, key, export, inclusion, consistency, get, verify."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..catalogue import check_body
from ..errors import BadInput, NotFound
from ..home import Home
from ..log.mirror import export_log, publisher_lock
from ..log.mirror_verify import verify_home_folder, verify_tiled_folder
from ..log.stored_rows import read_head
from ..log.verify import verify_log
from .context import AppContext, pass_app
from .output import emit_json
from .types import LOG_INDEX

if TYPE_CHECKING:
    from ..core.tlog_policy import Policy


def register(cli: click.Group) -> None:
    cli.add_command(log)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr for long verifications (only on a terminal)."""
    if total < 50_000 or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verifying entries", total=total)
        yield lambda n: bar.advance(task, n)


def log_vkey(home: Home) -> str:
    """The note verifier key of the home's log: <origin>+<key id>+<base64(0x01||pk)>."""
    from ..replica import log_verifier_key  # a read-only replica has the public key only

    return log_verifier_key(home)


@click.group()
def log() -> None:
    """The public transparency log (RFC 9162 tree, C2SP checkpoints and tiles)."""


@log.command("checkpoint")
@click.option("--size", type=click.IntRange(min=1), help="A checkpoint issued at this size.")
@pass_app
def log_checkpoint(app: AppContext, size: int | None) -> None:
    """Print the latest signed checkpoint (a C2SP signed note)."""
    with app.ledger.db.read() as conn:
        sys.stdout.write(app.ledger.log.checkpoint(conn, size).decode("utf-8"))


@log.command("checkpoints")
@pass_app
def log_checkpoints(app: AppContext) -> None:
    """List the sizes at which checkpoints were issued (one per batch)."""
    with app.ledger.db.read() as conn:
        sizes = app.ledger.log.checkpoint_sizes(conn)
    for size in sizes:
        click.echo(size)


@log.command("key")
@pass_app
def log_key(app: AppContext) -> None:
    """Print the log's note verifier key (name+keyid+base64(0x01||public key))."""
    click.echo(log_vkey(app.home))


@log.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def log_export(app: AppContext, directory: Path) -> None:
    """Write DIR/checkpoint and every tile and entry bundle (servable by any static server)."""
    with app.ledger.db.read() as conn:
        size = export_log(directory, app.ledger.log, conn)
    click.echo(f"exported {size} entries to {directory}")


@log.command("inclusion")
@click.argument("index", type=LOG_INDEX)
@click.option("--size", type=click.IntRange(min=1), help="Tree size (default: the latest).")
@pass_app
def log_inclusion(app: AppContext, index: int, size: int | None) -> None:
    """Print the inclusion proof of entry INDEX as JSON."""
    with app.ledger.db.read() as conn:
        emit_json(app.ledger.log.inclusion(conn, index, size))


@log.command("consistency")
@click.argument("old", type=click.IntRange(min=1))
@click.argument("new", type=click.IntRange(min=1), required=False)
@pass_app
def log_consistency(app: AppContext, old: int, new: int | None) -> None:
    """Print the consistency proof between tree sizes OLD and NEW (default: latest)."""
    with app.ledger.db.read() as conn:
        emit_json(app.ledger.log.consistency(conn, old, new))


@log.command("proof")
@click.argument("ref", metavar="REF")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the proof file here (refused if it exists) instead of standard output.")
@pass_app
def log_proof(app: AppContext, ref: str, out: Path | None) -> None:
    """Print the offline proof (c2sp.org/tlog-proof) of REF: a log index, or a license,
    certificate, output, run or royalty statement id. `reelrights verify` checks it with the
    log's public key alone."""
    from ..proofs import issue_proof

    text = issue_proof(app.ledger, ref).format()
    if out is None:
        sys.stdout.write(text)
        return
    from ..errors import BadInput

    try:
        with out.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise BadInput(f"{out} already exists; choose another -o file or remove it") from None
    click.echo(str(out))


@log.command("get")
@click.argument("index", type=LOG_INDEX)
@click.option("--pretty", is_flag=True, help="Indent the JSON (the raw form is the leaf's bytes).")
@pass_app
def log_get(app: AppContext, index: int, pretty: bool) -> None:
    """Print entry INDEX: the leaf's canonical bytes (the signed statement, wrapped with the
    log's time for entries logged after the registry was established)."""
    with app.ledger.db.read() as conn:
        entry = app.ledger.log.entry(conn, index)
    if pretty:
        emit_json(json.loads(entry))
    else:
        sys.stdout.write(entry.decode("utf-8") + "\n")


@log.command("verify")
@click.option("--tiles", "tiles", metavar="DIR|URL",
              help="Verify a C2SP tiled log (any implementation's) in this folder, or served "
                   "at this http(s) URL (a `reelrights serve`, a static mirror), instead.")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              help="With --tiles: the signed checkpoint (default DIR/checkpoint).")
@click.option("--key", "vkey", help="With --tiles: the log's note verifier key.")
@click.option("--tree-only", is_flag=True, help="Skip statement signatures and schemas.")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A c2sp.org/tlog-policy file: the checkpoint must carry its witnesses' "
                   "quorum of cosignatures; in a home, every entry's log time must also lie "
                   "within the witnesses' timestamps (docs/witness.md).")
@click.option("--projections/--no-projections", default=True,
              help="Rebuild every registry table from the entries and compare (default on; "
                   "--tree-only skips it).")
@pass_app
def log_verify(app: AppContext, tiles: str | None, checkpoint_file: Path | None,
               vkey: str | None, tree_only: bool, policy_file: Path | None,
               projections: bool) -> None:
    """Check every entry, signature, tile and checkpoint, and every file of the home's log/
    folder; exit 1 naming the first bad index, row or file."""
    policy = _policy(policy_file)
    if tiles is not None:
        if not vkey:
            raise click.UsageError("--tiles needs --key VKEY (the log's note verifier key)")
        if tiles.startswith(("http://", "https://")):
            _verify_remote(tiles, checkpoint_file, vkey, policy)
            return
        tiles_dir = Path(tiles)
        if not tiles_dir.is_dir():
            raise NotFound(f"--tiles {tiles}: no such folder; pass the folder holding the log's "
                           "checkpoint and tile/ (or an http(s) URL)")
        cp_path = checkpoint_file or tiles_dir / "checkpoint"
        try:
            note = cp_path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no checkpoint at {cp_path}; pass --checkpoint FILE") from None
        # Another checkpoint than the folder's own (an older one): newer files are expected.
        own = tiles_dir / "checkpoint"
        older = checkpoint_file is not None and (not own.is_file() or own.read_bytes() != note)
        witnessed = _witnessed(note, vkey, policy)
        folder = verify_tiled_folder(tiles_dir, note, vkey, beyond_ok=older)
        beyond = (f"; {folder.files_beyond} newer files not covered by this checkpoint"
                  if folder.files_beyond else "")
        click.echo(f"ok: {folder.origin} size {folder.size} root {folder.root_hex[:16]}…: "
                   f"{folder.entries_checked} entries match the tiles and the signed checkpoint "
                   f"({folder.files_checked} tile and bundle files{beyond}){witnessed}")
        return
    vk = log_vkey(app.home)
    db, store = app.ledger.db, app.ledger.log
    with db.read() as conn, _progress(read_head(conn).size) as advance:
        report = verify_log(conn, store, vk, signatures=not tree_only, progress=advance, check_body=check_body)

    def checkpoint_at(size: int | None) -> bytes | None:
        with db.read() as conn:
            try:
                return store.checkpoint(conn, size)
            except NotFound:
                return None

    mirror = app.home.log_dir
    cosigned_file = app.home.path / "cosigned.sqlite"

    def witness_lines(size: int) -> set[bytes]:
        from ..log.cosigned import CosignedStore

        return CosignedStore(cosigned_file).lines(size) if cosigned_file.exists() else set()

    verify_home_folder(mirror, vk, lambda: publisher_lock(mirror), checkpoint_at, witness_lines)
    lines = [report.summary()]
    if policy is not None:
        from ..log.cosigned import COSIGNED_FILE, CosignedStore
        from ..log.witnessed import verify_witnessed

        path = app.home.path / COSIGNED_FILE
        with db.read() as conn:
            lines.append(verify_witnessed(conn, store, vk, policy, CosignedStore(path)
                                          if path.exists() else None).summary())
    if projections and not tree_only:  # the tables the commands answer from, against the log
        from ..replica import check_projections

        lines.append(check_projections(db, lambda line: click.echo(line, err=True)))
    click.echo("\n".join(lines))


def _policy(path: Path | None) -> Policy | None:
    if path is None:
        return None
    from ..core.tlog_policy import parse_policy

    try:
        return parse_policy(path.read_bytes())
    except OSError as exc:
        raise BadInput(f"--policy {path}: {exc.strerror}; pass a c2sp.org/tlog-policy "
                       "file") from None


def _witnessed(note: bytes, vkey: str, policy: Policy | None) -> str:
    """With a policy: check the checkpoint's cosignatures meet its quorum; the report's tail."""
    if policy is None:
        return ""
    from ..core.cosignature import verify_cosigned_checkpoint

    got = verify_cosigned_checkpoint(note, vkey, policy)
    return f"; cosigned by {len(got.cosignatures)} witness(es), quorum {got.quorum} met"


def _verify_remote(url: str, checkpoint_file: Path | None, vkey: str,
                   policy: Policy | None = None) -> None:
    """``log verify --tiles URL``: every tile and bundle the checkpoint implies, over HTTP."""
    from ..log.tiled import verify_tiled_log
    from ..replica.http_tiles import HttpTileSource

    source = HttpTileSource(url)
    if checkpoint_file is not None:
        try:
            note = checkpoint_file.read_bytes()
        except OSError as exc:
            raise NotFound(f"--checkpoint {checkpoint_file}: {exc.strerror}") from None
    else:
        note = source.read("checkpoint")
    witnessed = _witnessed(note, vkey, policy)
    report = verify_tiled_log(source, note, vkey)
    click.echo(f"ok: {report.origin} size {report.size} root {report.root_hex[:16]}…: "
               f"{report.entries_checked} entries match the tiles and the signed checkpoint "
               f"({report.tiles_checked} tiles and the entry bundles read from {url})"
               f"{witnessed}")
