"""reelrights production: register productions and the generated outputs they use."""

from __future__ import annotations

import click

from ..errors import BadInput
from ..fund import productions as fund
from ..identity.display import display_names
from .context import AppContext, pass_app
from .output import Col, created_receipt, emit_json, json_option, listing, ref


def register(cli: click.Group) -> None:
    cli.add_command(production)


@click.group("production")
def production() -> None:
    """Films and episodes whose revenue feeds the creative fund."""


@production.command("add")
@click.option("--studio", required=True, metavar="STUDIO", help="The producing studio.")
@click.option("--title", required=True)
@click.option("--kind", type=click.Choice(["film", "episode"]), default="film", show_default=True)
@click.option("--currency", required=True, metavar="CUR",
              help="The fund currency its revenue pools are converted to (ISO 4217).")
@click.option("--year", type=int)
@json_option
@pass_app
def add(app: AppContext, studio: str, title: str, kind: str, currency: str, year: int | None,
        as_json: bool) -> None:
    """Register a production (signed by the studio)."""
    r = fund.add_production(app.home, app.ledger, studio, title, kind, currency, year)
    created_receipt(as_json, r)


@production.command("use")
@click.argument("production_ref", metavar="PRODUCTION")
@click.option("--output", "outputs", multiple=True, required=True, metavar="OUT=RUN",
              help="An output id and the run it came from, e.g. out_...=run_... (repeatable).")
@click.option("--weight", "weights", multiple=True, metavar="OUT:BUNDLE=W",
              help="Attribution weight of a bundle in an output (exact, e.g. 0.6).")
@json_option
@pass_app
def use(app: AppContext, production_ref: str, outputs: tuple[str, ...], weights: tuple[str, ...],
        as_json: bool) -> None:
    """Record the outputs PRODUCTION uses (signed by its studio). Prints the production's id."""
    items: dict[str, dict] = {}
    for spec in outputs:
        out, sep, run = spec.partition("=")
        if not sep:
            raise BadInput(f"--output {spec!r} must look like out_...=run_...")
        items[out.strip()] = {"output": out.strip(), "run": run.strip()}
    for spec in weights:
        left, sep, w = spec.partition("=")
        out, colon, bundle = left.partition(":")
        if not sep or not colon or out not in items:
            raise BadInput(f"--weight {spec!r} must look like OUT:BUNDLE=0.6 for an --output OUT")
        items[out].setdefault("weights", []).append({"bundle": bundle, "weight": w})
    r = fund.use_outputs(app.home, app.ledger, production_ref, list(items.values()))
    created_receipt(as_json, r, notes=[f"  {r.details['outputs']} output(s) recorded, log index "
                                       f"{r.index}"])


@production.command("list")
@click.option("--studio", metavar="STUDIO")
@json_option
@pass_app
def list_cmd(app: AppContext, studio: str | None, as_json: bool) -> None:
    """List productions."""
    rows = [r.to_json() for r in fund.list_productions(app.ledger.db, studio)]
    named = {} if as_json else display_names(app.ledger.db, (r["studio"] for r in rows))
    listing(as_json, rows, "Productions",
            ["id", "title", Col("studio", "ref"), "currency", Col("log", "num")],
            lambda r: [r["id"], f"{r['title']} ({r['kind']})", ref(named.get(r["studio"]),
                                                                   r["studio"]),
                       r["currency"], r["log_index"]])


@production.command("show")
@click.argument("production_ref", metavar="PRODUCTION")
@pass_app
def show(app: AppContext, production_ref: str) -> None:
    """A production and the outputs it uses (JSON)."""
    emit_json(fund.production_detail(app.ledger.db, production_ref).to_json())
