"""reelrights rebuild: a new home from a log's static tiles and its public key."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import NotFound
from .context import AppContext, pass_app
from .output import created, json_option


def register(cli: click.Group) -> None:
    cli.add_command(rebuild_cmd)


@click.command("rebuild")
@click.option("--tiles", "tiles", required=True, metavar="DIR|URL",
              help="The log's static tiles: DIR/checkpoint, DIR/tile/... (`log export`, a "
                   "home's log/ folder), or the http(s) URL of a mirror serving them.")
@click.option("--key", "vkey", required=True, help="The log's note verifier key (`log key`).")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The signed checkpoint to rebuild at (default DIR/checkpoint).")
@click.option("--log-key", "log_key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The log's signing key (PEM): the operator's disaster recovery; the new home "
                   "can then append. Without it the new home is a read-only replica.")
@click.option("--database-url", metavar="URL",
              help="The new home's database, kept in its home.json (default: "
                   "REELRIGHTS_DATABASE_URL, else SQLite in the home). It must be empty.")
@click.option("--bodies", "bodies", metavar="URL|DIR",
              help="A sealed body store to open sealed statements with: the database URL of "
                   "a backup or of the old registry, or a folder of a home's sealed copies "
                   "(HOME/sealed). Without it they read \"body unavailable\".")
@json_option
@pass_app
def rebuild_cmd(app: AppContext, tiles: str, vkey: str, checkpoint_file: Path | None,
                log_key: Path | None, database_url: str | None, bodies: str | None,
                as_json: bool) -> None:
    """Recreate a home's registry from the log alone, into a new --home.

    The tiles are verified against the key first; every registry table is then replayed from
    the entries through the registry's own rules. An existing home is never overwritten.
    Prints the new home's path (its id) and, on standard error, what was rebuilt.
    """
    from ..home import Home
    from ..log.tiled import DirTileSource, TileSource
    from ..replica import rebuild
    from ..replica.http_tiles import HttpTileSource

    source: TileSource
    if tiles.startswith(("http://", "https://")):
        source = HttpTileSource(tiles)
    else:
        if not Path(tiles).is_dir():
            raise NotFound(f"--tiles {tiles}: no such folder; pass the folder holding the "
                           "log's checkpoint and tile/ (or an http(s) URL)")
        source = DirTileSource(tiles)
    if checkpoint_file is not None:
        try:
            note = checkpoint_file.read_bytes()
        except OSError as exc:
            raise NotFound(f"--checkpoint {checkpoint_file}: {exc.strerror}") from None
    else:
        try:
            note = source.read("checkpoint")
        except NotFound:
            raise NotFound(f"no checkpoint in {tiles}; pass --tiles holding the log's "
                           "checkpoint, or --checkpoint FILE") from None
    from ..sealed.copies import body_source_at

    report = rebuild(source, note, vkey, Home.resolve(app.home_dir),
                     log_key=log_key, database_url=database_url,
                     bodies=None if bodies is None else body_source_at(bodies))
    created(as_json, str(report.home), report.to_json(), [report.summary()])
