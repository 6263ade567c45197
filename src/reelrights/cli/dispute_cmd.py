"""reelrights dispute list|show|release|decide: ownership conflicts over assets (docs/rules.md)."""

from __future__ import annotations

import click

from ..rights import disputes
from ..rights.dispute_types import OUTCOMES
from .context import AppContext, pass_app
from .output import Col, created_receipt, emit_json, json_option, listing, receipt_id, ref


def register(cli: click.Group) -> None:
    cli.add_command(dispute)


@click.group()
def dispute() -> None:
    """Ownership conflicts: the same bytes, or a whole-asset near-duplicate, of two owners."""


@dispute.command("list")
@click.option("--party", metavar="PARTY", help="Only disputes where PARTY is first owner or claimant.")
@json_option
@pass_app
def dispute_list(app: AppContext, party: str | None, as_json: bool) -> None:
    """List disputes, both parties named; open ones suspend licensing of their assets."""
    rows = [r.to_json() for r in disputes.list_disputes(app.ledger.db, party)]
    listing(as_json, rows, "disputes",
            [Col("id, kind, asset", "id"), Col("first owner", "ref"), Col("claimant", "ref"),
             "status", Col("log", "num")],
            lambda r: [f"{r['id']}\n{r['kind']}\n{r['asset'][:16]}…",
                       ref(r["first_owner_name"], r["first_owner"]),
                       ref(r["claimant_name"], r["claimant"]),
                       r["status"] if r["outcome"] in (None, "released")
                       else f"decided: {r['outcome']}", r["log_index"]])


@dispute.command("show")
@click.argument("dispute_id", metavar="DISPUTE")
@json_option
@pass_app
def dispute_show(app: AppContext, dispute_id: str, as_json: bool) -> None:
    """Show a dispute and its history from the log."""
    d = disputes.dispute_detail(app.ledger.db, dispute_id).to_json()
    if as_json:
        emit_json(d)
        return
    click.echo(f"{d['id']}  {d['kind']}  {d['status']}"
               + (f" ({d['outcome']})" if d["outcome"] else "") + f"  log index {d['log_index']}")
    click.echo(f"  asset        {d['asset']}")
    if d["first_asset"] != d["asset"]:
        click.echo(f"  original     {d['first_asset']}  (matched {d['matched_ms']} of "
                   f"{d['duration_ms']} ms)")
    click.echo(f"  first owner  {d['first_owner_name']} ({d['first_owner']})  work "
               f"{d['first_work']}  log index {d['first_log_index']}")
    click.echo(f"  claimant     {d['claimant_name']} ({d['claimant']})"
               + (f"  work {d['claimant_work']}" if d["claimant_work"] else ""))
    for h in d["history"]:
        click.echo(f"  log {h['log_index']:<8} {h['type']:<18} {h['actor']}  {h['time']}")
    if d["close_reason"]:
        click.echo(f"  reason       {d['close_reason']}")


@dispute.command("decide")
@click.argument("dispute_id", metavar="DISPUTE")
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES),
              help="first_owner: the claim is dismissed; claimant: the first owner's chain on "
                   "the asset ends.")
@click.option("--reason", required=True, help="Why the operator decides so (logged, public).")
@json_option
@pass_app
def dispute_decide(app: AppContext, dispute_id: str, outcome: str, reason: str,
                   as_json: bool) -> None:
    """Decide a dispute as the registry's operator (signed with this home's log key).

    Prints the dispute's id."""
    receipt = disputes.decide_dispute(app.home, app.ledger, dispute_id, outcome, reason)
    created_receipt(as_json, receipt, notes=[
        f"decided {receipt_id(receipt)}: {outcome} (log index {receipt.index})"])


@dispute.command("release")
@click.argument("dispute_id", metavar="DISPUTE")
@click.option("--reason", required=True, help="Why the first owner releases the asset.")
@json_option
@pass_app
def dispute_release(app: AppContext, dispute_id: str, reason: str, as_json: bool) -> None:
    """Release a dispute (signed by its first owner): licensing of the asset resumes for both.

    Prints the dispute's id."""
    receipt = disputes.release_dispute(app.home, app.ledger, dispute_id, reason)
    created_receipt(as_json, receipt, notes=[
        f"released {receipt_id(receipt)} (log index {receipt.index})"])
