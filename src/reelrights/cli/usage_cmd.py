"""reelrights usage: where a party's works (or its guild members' work) are used."""

from __future__ import annotations

import click

from ..identity.display import display_names
from ..registry.usage import usage_report
from .context import AppContext, pass_app
from .output import Col, emit_json, json_option, ref, table


def register(cli: click.Group) -> None:
    cli.add_command(usage)


@click.command("usage")
@click.option("--party", required=True, metavar="P")
@json_option
@pass_app
def usage(app: AppContext, party: str, as_json: bool) -> None:
    """Licenses, certified runs, outputs, productions and earnings on P's works, with log indexes."""
    r = usage_report(app.ledger.db, party).to_json()
    if as_json:
        emit_json(r)
        return
    named = display_names(app.ledger.db, [i for key, fields in (
        ("licenses", ("bundle", "licensee")), ("runs", ("developer", "bundle")),
        ("productions", ("production",)), ("earnings", ("production",)))
        for x in r[key] for i in (x[f] for f in fields)])
    table(f"Works of {r['name']}", [Col("work", "id"), "title", "relations", Col("log", "num")],
          [[w["work"], w["title"], ", ".join(f"{x['role']}" for x in w["relations"]),
            w["log_index"]] for w in r["works"]])
    table("Licenses", [Col("license", "id"), Col("bundle", "ref"), Col("licensee", "ref"),
                       Col("log", "num")],
          [[x["license"], ref(named.get(x["bundle"]), x["bundle"]),
            ref(named.get(x["licensee"]), x["licensee"]), x["log_index"]] for x in r["licenses"]])
    table("Runs", [Col("run, certificates", "id"), Col("developer", "ref"), Col("bundle", "ref"),
                   "used", Col("log", "num")],
          [["\n".join([x["run"], *(c["certificate"] for c in x["certificates"])]),
            ref(named.get(x["developer"]), x["developer"]), ref(named.get(x["bundle"]), x["bundle"]),
            f"{x['items']} items, {x['seconds']} s"
            + "".join(f"; audit {c['result']}" for c in x["certificates"]), x["log_index"]]
           for x in r["runs"]])
    table("Productions", [Col("production", "ref"), Col("output", "id"), Col("run", "id"),
                          Col("log", "num")],
          [[ref(x["title"], x["production"]), x["output"], x["run"], x["log_index"]]
           for x in r["productions"]])
    table("Earnings (minor units)", [Col("report", "id"), Col("production", "ref"), "period",
                                     Col("amount", "num"), Col("log", "num")],
          [[x["report"], ref(named.get(x["production"]), x["production"]), x["period"],
            f"{x['amount_minor']} {x['currency']}", x["log_index"]] for x in r["earnings"]])
    if r["suspense"]:
        table("Held in suspense for unmatched credits (minor units)",
              [Col("claim", "id"), Col("work", "id"), "credited as", "status", Col("held", "num")],
              [[x["claim"], x["work"], f"{x['name']} ({x['role']} {x['share']})", x["status"],
                ", ".join(f"{v} {c}" for c, v in sorted(x["held_minor"].items())) or "0"]
               for x in r["suspense"]])
