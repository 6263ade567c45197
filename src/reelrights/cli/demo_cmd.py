"""reelrights demo: the end-to-end story on a fresh embedded home, then (``--serve``) its web app."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import click


def register(cli: click.Group) -> None:
    cli.add_command(demo)


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--serve", is_flag=True,
              help="Then serve the demo's home on 127.0.0.1 (the web app; Ctrl-C stops). "
                   "`make demo` passes it when standard input and output are terminals and CI "
                   "is unset.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port for --serve (0: any free port).")
def demo(directory: Path | None, serve: bool, port: int) -> None:
    """Build a fresh home in DIRECTORY (default ./demo-home) and tell the story step by step."""
    from ..demo import run_demo

    directory = directory or Path("demo-home")
    run_demo(directory, echo=click.echo)
    if not serve:
        return
    from ..home import Home
    from ..ledger import Ledger
    from ..registry.parties import list_parties

    home = Home.open(directory.absolute() / "home")
    ledger = Ledger.open(home)
    try:
        parties = list_parties(ledger.db)
    finally:
        ledger.close()
    click.echo("")
    click.echo("== The web app: open the URL below; sign in as any party of the story with its "
               "key file")
    for p in parties:
        key = Path(home.path) / "keys" / f"{p.id}.pem"
        if key.exists():
            click.echo(f"   {p.name:<26} {p.kind:<10} key file {key}")
    click.echo("   (the key is imported into your browser, never sent; demo and loopback only: "
               "any key may append)")
    # Loopback only, and only this demo's home: the open allowlist is for the demo's parties.
    args = [sys.executable, "-c", "from reelrights.cli import main; main()", "--home",
            str(home.path), "serve", "--host", "127.0.0.1", "--port", str(port), "--open"]
    with contextlib.suppress(KeyboardInterrupt):  # serve stops itself on Ctrl-C
        subprocess.run(args, check=False)
