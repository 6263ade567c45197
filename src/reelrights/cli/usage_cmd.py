"""reelrights usage: where a party's works (or its guild members' work) are used."""

from __future__ import annotations

import click

from ..registry.usage import usage_report
from .context import AppContext, emit_json, json_option, pass_app, table


def register(cli: click.Group) -> None:
    cli.add_command(usage)


@click.command("usage")
@click.option("--party", required=True, metavar="P")
@json_option
@pass_app
def usage(app: AppContext, party: str, as_json: bool) -> None:
    """Licenses, certified runs, outputs, productions and earnings on P's works, with log indexes."""
    r = usage_report(app.ledger.db, party)
    if as_json:
        emit_json(r)
        return
    table(f"Works of {r['name']}", ["work", "title", "relations", "log"],
          [[w["work"], w["title"], ", ".join(f"{x['role']}" for x in w["relations"]),
            w["log_index"]] for w in r["works"]])
    table("Licenses", ["license", "bundle", "licensee", "log"],
          [[x["license"], x["bundle"], x["licensee"], x["log_index"]] for x in r["licenses"]])
    table("Runs", ["run", "developer", "bundle", "items", "seconds", "certificates", "log"],
          [[x["run"], x["developer"], x["bundle"], x["items"], x["seconds"],
            ", ".join(f"{c['certificate']} ({c['result']})" for c in x["certificates"]),
            x["log_index"]] for x in r["runs"]])
    table("Productions", ["production", "title", "output", "run", "log"],
          [[x["production"], x["title"], x["output"], x["run"], x["log_index"]]
           for x in r["productions"]])
    table("Earnings (minor units)", ["report", "production", "period", "currency", "amount", "log"],
          [[x["report"], x["production"], x["period"], x["currency"], x["amount_minor"],
            x["log_index"]] for x in r["earnings"]])
