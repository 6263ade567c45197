"""reelrights scan: find registered works in media, and say whether the licensee may use them.

Exit 0 when every matched item is licensed (or nothing matched); 3 when anything matched is not
licensed or lacks a co-signature or consent (a policy finding); 2 for bad input, including an
item that could not be read (the others are still scanned and reported).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..evidence.scan import read_inputs, scan_files
from ..media.engine import make_engine
from ..rights.policy import ACTIONS
from .context import AppContext, pass_app
from .fingerprint_cmd import engine_option, workers_option
from .output import emit_json, json_option
from .progress import progress_bar

if TYPE_CHECKING:
    from ..evidence.scan import ScanItem


def register(cli: click.Group) -> None:
    cli.add_command(scan)


@click.command("scan")
@click.argument("target", metavar="PATH_OR_MANIFEST", type=click.Path(path_type=Path))
@click.option("--licensee", required=True, metavar="DEVELOPER")
@click.option("--model-family", required=True, metavar="F")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Default: today (UTC).")
@click.option("--territory", metavar="CC", help="ISO 3166 alpha-2 code, e.g. US.")
@click.option("--action", default="train", show_default=True, type=click.Choice(ACTIONS))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSONL report here (default: stdout, unless --json).")
@click.option("--keyframes-only", is_flag=True, help="Hash only keyframes of the scanned video.")
@click.option("--mode", default="fast", show_default=True, type=click.Choice(["fast", "thorough"]),
              help="thorough: also region hashes (off-centre crops, overlays, picture-in-picture; docs/scan.md).")
@engine_option
@workers_option
@json_option
@pass_app
def scan(app: AppContext, target: Path, licensee: str, model_family: str, on: datetime | None,
         territory: str | None, action: str, output: Path | None, keyframes_only: bool,
         mode: str, engine_name: str | None, workers: int | None, as_json: bool) -> None:
    """Scan a media file, a directory (recursively) or a JSONL manifest of paths."""
    paths = read_inputs(target)
    with make_engine(engine_name, workers) as engine, progress_bar("scanning") as bar:
        bar.total(len(paths))

        def tick(item: ScanItem) -> None:
            bar.advance()
            if item.error:
                bar.log(f"error: {item.error}")

        report = scan_files(app.home, paths, licensee, model_family,
                            on.date() if on else None, territory, action=action, engine=engine,
                            keyframes_only=keyframes_only, db=app.ledger.db, progress=tick,
                            mode=mode)
    if output is not None:
        tmp = output.with_name(output.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            report.write_jsonl(f)
        tmp.replace(output)
    elif not as_json:
        for line in report.jsonl():
            click.echo(line)
    s = report.summary()
    if as_json:
        emit_json(s)
    else:
        shares = ", ".join(f"{v} {d['items']}" for v, d in s["by_verdict"].items())
        click.echo(f"{s['items']} items ({s['hours']:.2f} h, {s['pages']} pages): {shares}"
                   + (f", {s['unreadable']} unreadable" if s["unreadable"] else ""), err=True)
    sys.exit(report.exit_code)
