"""``reelrights credit``: unmatched credits, their claims, and the money held for them
(docs/fund.md, "Unmatched royalties")."""

from __future__ import annotations

import click

from ..fund import suspense
from ..registry.types import CREDIT_ROLES
from .context import AppContext, pass_app
from .output import Col, created_receipt, json_option, listing


def register(cli: click.Group) -> None:
    cli.add_command(credit)


@click.group()
def credit() -> None:
    """Credits for contributors with no registered party: suspense, claims, release."""


@credit.command("unmatched")
@click.argument("work")
@click.option("--name", required=True, help="The contributor's name as credited.")
@click.option("--role", required=True, type=click.Choice(CREDIT_ROLES))
@click.option("--share", required=True, help="Share of the role: 1/4, 0.25 or 1.")
@click.option("--id", "identifiers", multiple=True, metavar="isni:…|ipi:…",
              help="A standard id of the contributor (repeatable).")
@json_option
@pass_app
def unmatched(app: AppContext, work: str, name: str, role: str, share: str,
              identifiers: tuple[str, ...], as_json: bool) -> None:
    """Credit a contributor who has no party yet (signed by the work's owner): what the credit
    earns is held in suspense until the contributor claims it."""
    r = suspense.credit_unmatched(app.home, app.ledger, work, name, role, share,
                                  list(identifiers))
    created_receipt(as_json, r, notes=[
        f"claim {r.details['claim']}: the contributor claims it with `reelrights credit claim "
        f"{r.details['claim']} --party P --evidence TEXT`"])


@credit.command("dispute")
@click.argument("work")
@click.option("--party", required=True, metavar="PARTY", help="The credited party disputed.")
@click.option("--role", required=True, type=click.Choice(CREDIT_ROLES))
@click.option("--as", "claimant", required=True, metavar="PARTY",
              help="The claimant (signs): the party the credit should be.")
@click.option("--reason", required=True)
@json_option
@pass_app
def dispute(app: AppContext, work: str, party: str, role: str, claimant: str, reason: str,
            as_json: bool) -> None:
    """Dispute a registered credit, claiming it: its money is held in suspense until the
    dispute is confirmed for one of the two."""
    created_receipt(as_json, suspense.dispute_credit(app.home, app.ledger, work, party, role,
                                                     claimant, reason))


@credit.command("claim")
@click.argument("claim")
@click.option("--party", required=True, metavar="PARTY", help="The claimant (signs).")
@click.option("--evidence", required=True, help="How the claimant proves the credit is theirs.")
@json_option
@pass_app
def claim(app: AppContext, claim: str, party: str, evidence: str, as_json: bool) -> None:
    """Claim an unmatched credit as your own."""
    created_receipt(as_json, suspense.claim_credit(app.home, app.ledger, claim, party, evidence))


@credit.command("confirm")
@click.argument("claim")
@click.option("--by", metavar="PARTY", help="The confirming party: the work's owner (default) "
                                            "or a guild of the claimant covering the role.")
@click.option("--for", "party", metavar="PARTY",
              help="A dispute: the party it is settled for (default: the claimant).")
@json_option
@pass_app
def confirm(app: AppContext, claim: str, by: str | None, party: str | None,
            as_json: bool) -> None:
    """Confirm the standing claim: the claimant is paid exactly what suspense held."""
    r = suspense.confirm_claim(app.home, app.ledger, claim, by, party)
    held = ", ".join(f"{v} {c}" for c, v in r.details["released"].items()) or "nothing"
    created_receipt(as_json, r, notes=[f"released {held} to {r.details['party']}"])


@credit.command("expire")
@click.argument("claim")
@click.option("--to", "to", required=True, metavar="PARTY",
              help="The work's owner, or a guild fund covering the role.")
@click.option("--reason", required=True)
@json_option
@pass_app
def expire(app: AppContext, claim: str, to: str, reason: str, as_json: bool) -> None:
    """Close a claim nobody proved within the holding period (36 months)."""
    created_receipt(as_json, suspense.expire_claim(app.home, app.ledger, claim, to, reason))


@credit.command("list")
@click.option("--work", metavar="WORK")
@json_option
@pass_app
def claims(app: AppContext, work: str | None, as_json: bool) -> None:
    """Unmatched credits, their status and what suspense holds for each."""
    rows = [c.to_json() for c in suspense.list_claims(app.ledger.db, work)]
    listing(as_json, rows, "Unmatched credits",
            [Col("claim", "id"), Col("work", "id"), "credited as", "status", "held"],
            lambda r: [r["claim"], r["work"], f"{r['name']} ({r['role']} {r['share']})",
                       r["status"] + (f" ({r['confirmed_party'] or r['released_to'] or r['claimed_by']})"
                                      if r["status"] != "unclaimed" else ""),
                       ", ".join(f"{v} {c}" for c, v in r["held"].items()) or "0"])
