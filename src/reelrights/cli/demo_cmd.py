"""reelrights demo: the end-to-end story on a fresh embedded home."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    cli.add_command(demo)


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path | None) -> None:
    """Build a fresh home in DIRECTORY (default ./demo-home) and tell the story step by step."""
    from ..demo import run_demo

    run_demo(directory or Path("demo-home"), echo=click.echo)
