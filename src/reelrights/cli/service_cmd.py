"""reelrights service: the allowlist of keys the service accepts, and the operator's switches.

Until parties have identities of their own, ``reelrights serve`` appends only statements signed
by a key on this list (the log's own key always). docs/service.md, "Limits and abuse". The
operator's commands (freeze, unfreeze, check, succeed; docs/deploy.md) are defined in
:mod:`.operate_cmd` (:data:`~.operate_cmd.SERVICE_COMMANDS`) and join this group.
"""

from __future__ import annotations

import click

from ..service.allowlist import allow, allowed, disallow, format_key, parse_key
from .context import AppContext, pass_app
from .identity_cmd import SERVICE_COMMANDS as IDENTITY_COMMANDS
from .operate_cmd import SERVICE_COMMANDS
from .output import emit_json, table


def register(cli: click.Group) -> None:
    cli.add_command(service)


@click.group()
def service() -> None:
    """The service's allowlist of signing keys, the freeze and the start-up checks."""


@service.command("allow")
@click.argument("key")
@click.option("--note", default=None, help="Who holds the key and how it was checked.")
@pass_app
def service_allow(app: AppContext, key: str, note: str | None) -> None:
    """Accept statements signed by KEY (ed25519:<base64>, base64, or a key file).

    A party registers with the key in its party.registered statement: allow that key first."""
    public = parse_key(key)
    added = allow(app.ledger.db, public, note)
    click.echo(format_key(public))
    if not added:
        click.echo("(already allowed)", err=True)


@service.command("disallow")
@click.argument("key")
@pass_app
def service_disallow(app: AppContext, key: str) -> None:
    """Stop accepting statements signed by KEY (running servers within 2 seconds)."""
    public = parse_key(key)
    removed = disallow(app.ledger.db, public)
    click.echo(format_key(public))
    if not removed:
        click.echo("(was not allowed)", err=True)


@service.command("allowed")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def service_allowed(app: AppContext, as_json: bool) -> None:
    """List the allowed keys (the log's own key is always allowed and not listed)."""
    rows = allowed(app.ledger.db)
    if as_json:
        emit_json(rows)
        return
    table("allowed signing keys", ["key", "party", "added", "note"],
          [[r["key"], r["party"] or "", r["added_at"], r["note"] or ""] for r in rows])


for _command in (*SERVICE_COMMANDS, *IDENTITY_COMMANDS):
    service.add_command(_command)
