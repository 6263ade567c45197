"""reelrights join, sync: a party's home on its own machine, following a reelrights service."""

from __future__ import annotations

import click

from ..errors import BadInput
from .context import AppContext, pass_app
from .output import created, emit_json, json_option


def register(cli: click.Group) -> None:
    cli.add_command(join)
    cli.add_command(sync_cmd)


@click.command()
@click.option("--server", "server", metavar="URL",
              help="The service's URL (default: the root --server / REELRIGHTS_SERVER).")
@click.option("--log-key", "log_key", metavar="VKEY",
              help="The log's note verifier key as the operator published it (`reelrights log "
                   "key`); the server must sign with it. Without it the key the server names "
                   "now is pinned (trust on first use).")
@click.option("--database-url", metavar="URL",
              help="The replica's database, kept in home.json (default: SQLite in the home).")
@json_option
@pass_app
def join(app: AppContext, server: str | None, log_key: str | None, database_url: str | None,
         as_json: bool) -> None:
    """Make this home a party's home that follows the reelrights service at --server.

    The home keeps the server's URL, the log's public key (pinned now), this party's own keys
    and a read-only replica of the registry synced from the server's tiles, every checkpoint
    verified. Idempotent. Prints the home's path (its id); the server, origin, log key and the
    first sync go to standard error.
    """
    from ..replica.remote import join as join_server

    url = server or app.server
    if not url:
        raise BadInput("join needs the service's URL: pass --server URL (or set "
                       "REELRIGHTS_SERVER)")
    if server and app.server and server.rstrip("/") != app.server.rstrip("/"):
        raise BadInput(f"join --server {server} differs from the root --server {app.server}; "
                       "pass one")
    home, new, report = join_server(app.home_dir, url, log_key=log_key,
                                    database_url=database_url)
    app._home = home
    vkey = home.log_vkey()
    created(as_json, str(home.path),
            {"home": str(home.path), "created": new, "server": home.server,
             "origin": home.origin, "log_key": vkey, "size": report.size},
            [f"{'joined' if new else 'already joined'}: {home.path}",
             f"server:     {home.server}", f"log origin: {home.origin}",
             f"log key:    {vkey}", report.summary()])


@click.command("sync")
@json_option
@pass_app
def sync_cmd(app: AppContext, as_json: bool) -> None:
    """Bring this party's home up to the server's latest checkpoint, verified.

    Every command of a party's home syncs first; this one only syncs. A checkpoint that
    contradicts what the home synced before (a split view) is refused, exit 1, and nothing is
    written.
    """
    from ..replica.remote import open_remote_ledger

    home = app.home
    if home.server is None:
        raise BadInput(f"{home.path} follows no server, so there is nothing to sync; a party's "
                       "home is made with `reelrights join --server URL`")
    ledger = open_remote_ledger(home, fresh=False)
    app._ledger = ledger
    report = ledger.sync()
    if as_json:
        emit_json(report.to_json())
        return
    click.echo(report.summary())
