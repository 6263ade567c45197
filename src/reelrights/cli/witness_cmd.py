"""reelrights witness: run a C2SP tlog-witness for logs you do not operate (docs/witness.md).

``witness init`` makes the witness's key (mode 0600) and prints its cosignature vkey;
``witness serve`` answers ``POST /add-checkpoint`` for the logs listed in ``--config``, keeping
its own record in ``--db`` (SQLite). Neither needs a reelrights home.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

__all__ = ["register"]


def register(cli: click.Group) -> None:
    cli.add_command(witness)


@click.group()
def witness() -> None:
    """Witness other logs: cosign their checkpoints when consistent (C2SP tlog-witness)."""


@witness.command("init")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The key file to create (mode 0600; never overwritten).")
@click.option("--name", required=True,
              help="The witness's name, a scheme-less URL (e.g. witness.guild.example/w1).")
def witness_init(key_path: Path, name: str) -> None:
    """Make the witness's Ed25519 key and print its cosignature verifier key (vkey)."""
    from ..witness.keys import make_witness_key

    signer = make_witness_key(key_path, name)
    click.echo(signer.vkey)


@witness.command("serve")
@click.option("--config", "config_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The logs to witness: one `log <vkey>` line each (a tlog-policy file works).")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The witness's own record (SQLite file; created if missing).")
@click.option("--key", "key_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The key file `reelrights witness init` made.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port; the URL line names it).")
def witness_serve(config_path: Path, db_path: Path, key_path: Path, host: str,
                  port: int) -> None:
    """Serve POST /add-checkpoint; prints one line with the URL and the vkey; Ctrl-C stops."""
    import uvicorn

    from ..witness.config import load_logs
    from ..witness.http import create_witness_app
    from ..witness.keys import load_witness_key
    from ..witness.protocol import Witness
    from ..witness.store import WitnessStore

    signer = load_witness_key(key_path)
    logs = load_logs(config_path)
    app = create_witness_app(Witness(signer, logs, WitnessStore(db_path)))
    ucfg = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          server_header=False, timeout_keep_alive=30, lifespan="off")
    sock = ucfg.bind_socket()
    sock.listen(ucfg.backlog)  # connections wait in the backlog while the server starts
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"reelrights witness at http://{shown}:{bound_port} for {len(logs)} log(s); "
               f"vkey {signer.vkey} (Ctrl-C stops)")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it stopped on
        uvicorn.Server(ucfg).run(sockets=[sock])
    click.echo("reelrights witness stopped", err=True)
