"""``reelrights guild strike``, ``guild end-strike`` and ``guild strikes`` (docs/rules.md,
"Strikes"); attached to the ``guild`` group by :mod:`.license_cmd`."""

from __future__ import annotations

from datetime import datetime

import click

from ..rights import strikes
from .context import AppContext, pass_app
from .output import Col, created_receipt, json_option, listing


def attach(guild: click.Group) -> None:
    guild.add_command(strike)
    guild.add_command(end_strike)
    guild.add_command(strikes_)


@click.command("strike")
@click.option("--guild", "guild_ref", required=True, metavar="GUILD")
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day of the strike (today or later: it cannot be backdated).")
@click.option("--description", required=True, help="What the strike is about, in words.")
@json_option
@pass_app
def strike(app: AppContext, guild_ref: str, start: datetime, description: str,
           as_json: bool) -> None:
    """Declare a strike (signed by the guild): from START on, no license needing the guild's
    co-signature and no consent of its members is in force for new runs and generations."""
    r = strikes.declare_strike(app.home, app.ledger, guild_ref, start.date(), description)
    created_receipt(as_json, r, notes=[
        f"{r.details['guild']} is on strike from {r.details['start']} (log index {r.index}); "
        f"end it with `reelrights guild end-strike {r.details['id']} --end YYYY-MM-DD`"])


@click.command("end-strike")
@click.argument("strike_id", metavar="STRIKE")
@click.option("--end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day members' work is back in force (today or later).")
@json_option
@pass_app
def end_strike(app: AppContext, strike_id: str, end: datetime, as_json: bool) -> None:
    """End a strike (signed by the striking guild)."""
    created_receipt(as_json, strikes.end_strike(app.home, app.ledger, strike_id, end.date()))


@click.command("strikes")
@click.option("--guild", "guild_ref", metavar="GUILD")
@json_option
@pass_app
def strikes_(app: AppContext, guild_ref: str | None, as_json: bool) -> None:
    """List strikes, with their first and end days."""
    rows = [s.to_json() for s in strikes.list_strikes(app.ledger.db, guild_ref)]
    listing(as_json, rows, "Strikes",
            ["Strike", "Guild", "From", Col("Until", "id"), "Description"],
            lambda r: [r["id"], r["guild"], r["starts_on"], r["ends_on"] or "(on strike)",
                       r["description"]])
