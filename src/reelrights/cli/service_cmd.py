"""reelrights service: the allowlist of keys the service accepts, and the operator's switches.

Until parties have identities of their own, ``reelrights serve`` appends only statements signed
by a key on this list (the log's own key always). docs/service.md, "Limits and abuse". The
operator's commands (freeze, unfreeze, check, succeed; docs/deploy.md) are defined in
:mod:`.operate_cmd` and join this group.
"""

from __future__ import annotations

import click

from ..service.allowlist import allow, allowed, disallow, format_key, parse_key
from .context import AppContext, pass_app
from .output import emit_json, json_option, table


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


@service.command("freeze")
@click.option("--reason", required=True, help="Why (one line, shown in every refusal).")
@pass_app
def service_freeze(app: AppContext, reason: str) -> None:
    """Refuse every write from now on (reads go on): the first step of the log key's
    compromise procedure (docs/deploy.md). Idempotent. Prints the flag's path."""
    from ..operate.freeze import freeze

    click.echo(str(freeze(app.home, reason)))
    click.echo("writes are frozen; `reelrights service unfreeze` resumes them", err=True)


@service.command("unfreeze")
@pass_app
def service_unfreeze(app: AppContext) -> None:
    """Resume writes."""
    from ..operate.freeze import unfreeze

    was = unfreeze(app.home)
    click.echo("writes resumed" if was else "writes were not frozen", err=True)


@service.command("check")
@click.option("--published", "published", multiple=True, metavar="DIR|URL",
              help="Another published copy of the log (also REELRIGHTS_PUBLISHED, "
                   "comma-separated).")
@json_option
@pass_app
def service_check(app: AppContext, published: tuple[str, ...], as_json: bool) -> None:
    """Run the checks `reelrights serve` runs at start: the database's log head is not behind
    any published checkpoint (never fork; exit 1 naming both sizes and the fix), and whether
    writes are frozen. Brings the home's log folder up to the database's head if it lags."""
    from ..operate import check_published, writes_frozen

    report = check_published(app.home, published=published)
    frozen = writes_frozen(app.home)
    if as_json:
        emit_json({**report.to_json(), "frozen": frozen})
        return
    click.echo(report.summary())
    if frozen:
        click.echo(f"writes are frozen: {frozen}")


@service.command("succeed")
@click.option("--from", "old_home", required=True,
              type=click.Path(file_okay=False, exists=True),
              help="The old log's home (frozen first with `service freeze`).")
@click.option("--origin", required=True, help="The new log's origin (not the old one's).")
@json_option
@pass_app
def service_succeed(app: AppContext, old_home: str, origin: str, as_json: bool) -> None:
    """Start a new log in --home (new origin, new log key) whose first entry cites the old
    log's last published checkpoint: the log key's compromise procedure (docs/deploy.md).
    Prints the new home's path; publish its log key (`log key`) out of band."""
    from ..home import Home
    from ..operate.succession import succeed

    report = succeed(Home.open(old_home), Home.resolve(app.home_dir), origin=origin)
    if as_json:
        emit_json(report)
        return
    click.echo(report["home"])
    pred = report["predecessor"]
    click.echo(f"{origin} succeeds {pred['origin']} at its checkpoint of size {pred['size']}; "
               f"new log key {report['log_key']}", err=True)
