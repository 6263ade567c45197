"""reelrights monitor: follow a log's tiles, verify everything, report split views and touches."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .verify_cmd import witness_options


def register(cli: click.Group) -> None:
    cli.add_command(monitor)


def _text(ev: dict[str, Any]) -> str:
    kind = ev["event"]
    if kind == "checkpoint":
        wit = f", cosigned by {', '.join(ev['witnesses'])}" if ev["witnesses"] else ""
        return f"checkpoint {ev['size']} root {ev['root'][:16]}… verified{wit}"
    if kind == "touch":
        return (f"touch {ev['party']}: entry {ev['index']} {ev['type']} by {ev['actor']} "
                f"({ev['log_time']}): {ev['why']}")
    if kind == "split_view":
        return (f"SPLIT VIEW at {ev['server']}: checkpoint {ev['a']['size']} "
                f"({ev['a']['root'][:16]}…) and {ev['b']['size']} ({ev['b']['root'][:16]}…): "
                f"{ev['detail']} (both notes kept in the state folder's split-views/)")
    return f"VERIFICATION FAILED at {ev['server']}: {ev['detail']}"


@click.command("monitor")
@click.option("--server", required=True, metavar="URL",
              help="The log's service or static mirror (its /checkpoint and tiles).")
@click.option("--log-key", "log_key", required=True, metavar="VKEY",
              help="The log's note verifier key, or a file holding it (log.vkey).")
@click.option("--party", metavar="P", help="Report statements touching party P (an id) that "
                                          "P did not sign.")
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("reelrights-monitor"), show_default=True,
              help="The monitor's own folder: last verified checkpoint, its tree, every "
                   "checkpoint seen.")
@witness_options
@click.option("--checkpoint", "extra", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A checkpoint someone else saw (another party, a witness): checked against "
                   "this log too; repeat.")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text",
              show_default=True)
@click.option("--webhook", metavar="URL", help="POST each event as JSON to this URL too.")
@click.option("--once", is_flag=True, help="One poll, then exit (0 ok, 1 split view or a "
                                           "failed verification).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds between polls.")
def monitor(server: str, log_key: str, party: str | None, state_dir: Path,
            witnesses: tuple[str, ...], policy: Path | None, min_witnesses: int,
            extra: tuple[Path, ...], fmt: str,
            webhook: str | None, once: bool, interval: float) -> None:
    """Follow a log through its tiles with its public key: verify everything, report split
    views and what touches a party.

    Every entry, signature and consistency step is verified; a split view (two checkpoints
    that no consistency proof joins) exits 1 and is kept as evidence; with --party, every
    statement touching the party that it did not sign is reported."""
    import re

    from ..core.ids import ID_PATTERNS
    from ..errors import BadInput
    from ..monitor.follow import Monitor, run_monitor
    from ..monitor.server import LogServer
    from ..monitor.webhook import Webhook
    from ..verify_file import make_trust

    if party is not None and not re.fullmatch(ID_PATTERNS["party"], party):
        raise BadInput(f"--party {party!r}: give the party's id (pty_…); a monitor knows no "
                       "names")
    trust = make_trust(log_key, witnesses, min_witnesses, policy)
    hook = Webhook(webhook) if webhook else None

    def emit(ev: dict[str, Any]) -> None:
        click.echo(json.dumps(ev, sort_keys=True) if fmt == "jsonl" else _text(ev))
        sys.stdout.flush()
        if hook is not None:
            hook.post(ev)

    code = run_monitor(Monitor(state_dir, trust, party), LogServer(server), emit, once=once,
                       interval=interval, extra=[p.read_bytes() for p in extra])
    raise click.exceptions.Exit(code)
