"""reelrights fingerprint: compute, store and index fingerprints of registered assets.

Exit 0 when every named file has its prints (computed now or before); 2 when any file was bad
input (unreadable, corrupt or truncated, changed since recorded, or not a registered asset).
The others are still done: one bad file never stops a batch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..evidence import fingerprints as fp
from ..media.engine import ENGINES, make_engine
from .context import AppContext, pass_app
from .output import emit_json, json_option
from .progress import progress_bar


def register(cli: click.Group) -> None:
    cli.add_command(fingerprint)


engine_option = click.option("--engine", "engine_name", type=click.Choice(ENGINES),
                             help="Where to run: local (this process), pool (default: a process "
                                  "pool) or ray (default when RAY_ADDRESS is set).")
workers_option = click.option("--workers", type=click.IntRange(1, 1024),
                              help="Worker processes (default: 2, or the CPUs if fewer).")


@click.command("fingerprint")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--all", "all_", is_flag=True,
              help="Every registered asset whose file location is known and has no print yet.")
@click.option("--keyframes-only", is_flag=True,
              help="Hash only keyframes (catalog-scale triage; about 7x cheaper than 1 fps).")
@click.option("--force", is_flag=True, help="Recompute prints that already exist.")
@click.option("--rebuild-index", is_flag=True,
              help="Rewrite <home>/index/ from the stored prints (after a crash or a copy).")
@click.option("--mode", default="fast", show_default=True, type=click.Choice(["fast", "thorough"]),
              help="thorough: also region hashes (off-centre crops, overlays, picture-in-picture; docs/scan.md).")
@engine_option
@workers_option
@json_option
@pass_app
def fingerprint(app: AppContext, paths: tuple[Path, ...], all_: bool, keyframes_only: bool,
                force: bool, rebuild_index: bool, mode: str, engine_name: str | None, workers: int | None,
                as_json: bool) -> None:
    """Fingerprint registered assets' files (video PDQ, audio Chromaprint, text MinHash)."""
    db = app.ledger.db
    if rebuild_index:
        if paths or all_:
            raise click.UsageError("--rebuild-index takes no PATHS and no --all")
        counts = fp.rebuild_indexes(app.home, db)
        if as_json:
            emit_json({"rebuilt": counts})
        else:
            click.echo(f"rebuilt {app.home.path / 'index'}: {counts['video']} video, "
                       f"{counts['audio']} audio, {counts['landmark']} landmark, {counts['text']} text prints")
        return
    if bool(paths) == all_:
        raise click.UsageError("give PATHS of registered assets' files, or --all (not both)")
    with make_engine(engine_name, workers) as engine, progress_bar("fingerprinting") as bar:
        def tick(o: fp.Outcome) -> None:
            bar.advance()
            if o.status in ("failed", "unregistered"):
                bar.log(f"error: {o.error}")

        if all_:
            summary = fp.fingerprint_all(app.home, db, engine=engine,
                                         keyframes_only=keyframes_only, progress=tick, mode=mode)
        else:
            bar.total(len(paths))
            summary = fp.fingerprint_paths(app.home, db, list(paths), engine=engine,
                                           keyframes_only=keyframes_only, force=force,
                                           progress=tick, mode=mode)
    s = summary.to_json()
    if as_json:
        emit_json(s)
    else:
        click.echo(f"{s['files']} files: {s['fingerprinted']} fingerprinted, {s['skipped']} "
                   f"already done, {len(s['not_fingerprinted'])} not fingerprinted "
                   f"({s['cpu_s']:.1f} s worker CPU)")
        for o in summary.not_fingerprinted:
            click.echo(f"  not fingerprinted: {o.path}")
    sys.exit(summary.exit_code)
