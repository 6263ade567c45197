"""reelrights verify: an artifact, offline, with the log's public key (and witnesses' keys)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .output import emit_json, json_option


def register(cli: click.Group) -> None:
    cli.add_command(verify)


def witness_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--witness, --policy and --min-witnesses: which witnesses' cosignatures a checkpoint
    needs (``verify`` and ``monitor``)."""
    f = click.option("--min-witnesses", type=click.IntRange(min=0), default=0,
                     show_default=True,
                     help="How many of the --witness keys must have cosigned each "
                          "checkpoint.")(f)
    f = click.option("--policy", "policy", type=click.Path(dir_okay=False, path_type=Path),
                     help="A c2sp.org/tlog-policy file: the witnesses and the quorum a "
                          "checkpoint needs (instead of --witness and --min-witnesses).")(f)
    return click.option("--witness", "witnesses", multiple=True, metavar="VKEY",
                        help="A witness's cosignature/v1 key (or a file holding it); "
                             "repeat.")(f)


@click.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--log-key", "log_key", required=True, metavar="VKEY",
              help="The log's note verifier key, or a file holding it (log.vkey); pin it out "
                   "of band.")
@witness_options
@click.option("--server", metavar="URL",
              help="Upgrade the proof online: the server's newer checkpoint and a consistency "
                   "proof to it (it may carry the witnesses' cosignatures).")
@click.option("--proof", "proof_path", type=click.Path(dir_okay=False, path_type=Path),
              help="FILE's proof file, when FILE does not carry it (a royalty statement's "
                   "JSON: `reelrights log proof fst_…`).")
@json_option
def verify(file: Path, log_key: str, witnesses: tuple[str, ...], policy: Path | None,
           min_witnesses: int, server: str | None, proof_path: Path | None,
           as_json: bool) -> None:
    """Verify an artifact offline (a proof file, a certificate, a statement, a signed output)
    with the log's public key.

    FILE is a .tlog-proof, a certificate carrying one, a royalty statement with --proof, or a
    media file whose C2PA manifest embeds one. Exit 0 verified, 1 a check fails (named), 2 bad
    input. No home, no private key, no network unless --server."""
    from ..verify_file import make_trust, verify_artifact

    trust = make_trust(log_key, witnesses, min_witnesses, policy)
    report = verify_artifact(file, trust, server=server, proof_path=proof_path)
    if as_json:
        emit_json(report)
        return
    click.echo(f"ok: {report['kind']} {report['type']} at log index {report['index']} by "
               f"{report['actor']} verifies")
    for c in report["checks"]:
        click.echo(f"  - {c}")
