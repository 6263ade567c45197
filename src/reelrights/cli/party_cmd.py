"""reelrights init, party add|list|show."""

from __future__ import annotations

import click

from ..core.names import normalize_name
from ..home import Home
from ..identity.display import parties_shown, party_shown
from ..registry.parties import confusable_parties, register_party
from ..registry.types import PARTY_KINDS
from .context import AppContext, pass_app
from .identity_cmd import PARTY_COMMANDS
from .output import Col, created, created_receipt, emit_json, json_option, listing
from .types import PARTY_ID


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(party)


@click.command()
@click.option("--origin", help="The log's origin (its name in checkpoints), e.g. example.com/log. "
              "Default reelrights.local/log; it never changes once set.")
@json_option
@pass_app
def init(app: AppContext, origin: str | None, as_json: bool) -> None:
    """Create the home, its database and the log's Ed25519 key (idempotent).

    Prints the home's path (its id); its origin and log key go to standard error."""
    if app.server is not None:
        from ..errors import BadInput

        raise BadInput(f"init makes the home of a log of its own (the operator's); a party's "
                       f"home follows {app.server} with `reelrights join --server URL`")
    home, new = Home.init(app.home_dir, origin=origin)
    app._home = home
    _ = app.ledger  # opens the database and applies migrations
    from .log_cmd import log_vkey
    vkey = log_vkey(home)
    created(as_json, str(home.path),
            {"home": str(home.path), "created": new, "origin": home.origin, "log_key": vkey},
            [f"{'created' if new else 'already initialised'}: {home.path}",
             f"log origin: {home.origin}", f"log key:    {vkey}"])


@click.group()
def party() -> None:
    """Studios, guilds, performers, writers, developers, auditors and funds."""


@party.command("add")
@click.option("--kind", required=True, type=click.Choice(PARTY_KINDS))
@click.option("--name", required=True, help="The party's display name.")
@click.option("--passphrase-env", metavar="VAR",
              help="Encrypt the private key with the passphrase in environment variable VAR.")
@click.option("--id", "external_ids", multiple=True, type=PARTY_ID,
              help="Standard identifier, e.g. isni:0000000121032683 or ipi:00014107338 "
                   "(repeatable; check characters verified).")
@json_option
@pass_app
def party_add(app: AppContext, kind: str, name: str, passphrase_env: str | None,
              external_ids: tuple[str, ...], as_json: bool) -> None:
    """Register a party with its own Ed25519 key pair (private key stays in the home, 0600).

    The name is signed in Unicode NFC; one with invisible, bidi-control or non-printing
    characters is refused. A name that can be mistaken for a registered party's (the same
    Unicode TR 39 skeleton, e.g. a Cyrillic "о" for a Latin "o") is registered with a warning.
    """
    name = normalize_name(name)  # the schema refuses the rest before any key is written
    lookalikes = confusable_parties(app.ledger.db, name)
    receipt = register_party(app.home, app.ledger, kind, name, passphrase_env, external_ids)
    created_receipt(as_json, receipt)
    if lookalikes:
        others = ", ".join(f"{pid} {other!r}" for pid, other in lookalikes)
        click.echo(f"warning: the name {name!r} can be mistaken for {others} (same Unicode "
                   "TR 39 skeleton); make sure this is a different party", err=True)


@party.command("list")
@click.option("--kind", type=click.Choice(PARTY_KINDS))
@click.option("--pending", is_flag=True, help="Only parties not admitted yet.")
@json_option
@pass_app
def party_list(app: AppContext, kind: str | None, pending: bool, as_json: bool) -> None:
    """List registered parties, each with its verified domain or attesting guild (or NOT
    ADMITTED) beside its name."""
    listing(as_json, parties_shown(app.ledger.db, kind, pending=pending), "parties",
            ["id", "kind", "name [verified as]", Col("key id", "id"), Col("log", "num")],
            lambda r: [r["id"], r["kind"], f"{r['name']}\n[{r['identity']['label']}]",
                       r["key_id"], r["log_index"]])


@party.command("show")
@click.argument("party_ref", metavar="PARTY")
@json_option
@pass_app
def party_show(app: AppContext, party_ref: str, as_json: bool) -> None:
    """Show one party (by id, unique name, or isni:/ipi:/imdb: identifier): key, ids, works
    owned, credits, look-alikes."""
    p = party_shown(app.ledger.db, party_ref)
    if as_json:
        emit_json(p)
        return
    ident = p["identity"]
    click.echo(f"{p['id']}  {p['shown_as']}  ({p['kind']})")
    how = {"domain": f"domain {ident.get('domain')} ({ident.get('verified_at')}; due "
                     f"{ident.get('due_at')})",
           "guild": f"guild {ident.get('guild')}'s membership statement",
           "manual": f"the operator's check {ident.get('reference')!r}"}.get(
        ident.get("method", ""), "not admitted: `reelrights party nonce` and "
                                 "`party request-admission`")
    click.echo(f"  identity    {ident['status']}: {how}")
    if ident.get("lapse"):
        click.echo(f"  LAPSED      {ident['lapse']}")
    click.echo(f"  public key  {p['public_key']}  (key id {p['key_id']})")
    click.echo(f"  registered  {p['registered_at']}  log index {p['log_index']}")
    for x in p["external_ids"]:
        click.echo(f"  id          {x}")
    for w in p["works_owned"]:
        click.echo(f"  owns        {w['id']}  {w['title']}")
    for c in p["credits"]:
        click.echo(f"  credited    {c['role']} {c['share']} on {c['work']}  (log index {c['log_index']})")
    for other in p["lookalikes"]:
        click.echo(f"  looks like  {other['id']}  {other['shown_as']}  (a different party)")


for _command in PARTY_COMMANDS:
    party.add_command(_command)
