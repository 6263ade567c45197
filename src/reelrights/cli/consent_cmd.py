"""reelrights consent grant|revoke|list|show|deceased|request|requests|approve|decline: performer
consent for voice and likeness, and requests for it."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from ..identity.display import display_names
from ..rights import consent as consent_service
from ..rights.types import CONSENT_KINDS, MEDIA, REPRESENTATION
from .context import AppContext, pass_app
from .output import Col, created_receipt, emit_json, json_option, listing, ref


def register(cli: click.Group) -> None:
    cli.add_command(consent)


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a calendar date like 2027-12-31", param, ctx)


class CommaList(click.ParamType):
    """``audio,video`` -> ["audio", "video"], each item checked against ``choices`` if given."""

    def __init__(self, name: str, choices: tuple[str, ...] | None = None) -> None:
        self.name = name
        self.choices = choices

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        items = [v.strip() for v in str(value).split(",")]
        if not all(items):
            self.fail(f"{value!r} has an empty item; write items separated by commas, "
                      "like audio,video", param, ctx)
        if self.choices is not None:
            for v in items:
                if v not in self.choices:
                    self.fail(f"{v!r} is not one of {', '.join(self.choices)}", param, ctx)
        return items


DATE = DateType()


@click.group()
def consent() -> None:
    """Performer consent for voice and likeness (SAG-AFTRA 2023 digital-replica rules)."""


@consent.command("grant")
@click.option("--performer", required=True, metavar="PARTY",
              help="The performer (id or unique name); signs with their own key.")
@click.option("--kind", "kinds", required=True, multiple=True, type=click.Choice(CONSENT_KINDS),
              help="voice and/or likeness (repeatable).")
@click.option("--description", required=True,
              help="A reasonably specific description of the intended use (SAG-AFTRA R1).")
@click.option("--production", help="The production the consent is for (R4: one per production).")
@click.option("--model-family", help="The model family the consent is for.")
@click.option("--licensee", metavar="PARTY", help="Only this party may use the consent.")
@click.option("--media", required=True, type=CommaList("MEDIA", MEDIA),
              help=f"Comma-separated: {', '.join(MEDIA)}.")
@click.option("--territory", required=True, type=CommaList("TERRITORIES"),
              help="Comma-separated ISO 3166-1 codes or EU, EEA, WORLD, e.g. US,CA.")
@click.option("--from", "start", required=True, type=DATE, help="First day covered.")
@click.option("--until", "end", required=True, type=DATE, help="Last day covered.")
@click.option("--compensation-ref", required=True, metavar="REF",
              help="Reference to the compensation agreed (contract or payment id).")
@click.option("--represented-by", required=True, type=click.Choice(REPRESENTATION),
              help="Who represented the performer (CA AB 2602).")
@click.option("--post-mortem-representative", metavar="PARTY",
              help="Who consents for the performer after death (SAG-AFTRA R6).")
@click.option("--as", "signer", metavar="PARTY",
              help="Sign as the recorded representative (after the performer's death).")
@click.option("--sealed", is_flag=True,
              help="Seal the description and compensation reference (personal details): the "
                   "log gets their salted root; they can later be erased (docs/sealed.md).")
@json_option
@pass_app
def consent_grant(app: AppContext, performer: str, kinds: tuple[str, ...], description: str,
                  production: str | None, model_family: str | None, licensee: str | None,
                  media: list[str], territory: list[str], start: date, end: date,
                  compensation_ref: str, represented_by: str,
                  post_mortem_representative: str | None, signer: str | None,
                  sealed: bool, as_json: bool) -> None:
    """Record the performer's consent to a specific use of their voice and/or likeness."""
    receipt = consent_service.grant_consent(
        app.home, app.ledger, performer=performer, kinds=kinds, description=description,
        media=media, territory=territory, start=start, end=end,
        compensation_ref=compensation_ref, represented_by=represented_by,
        production=production, model_family=model_family, licensee=licensee,
        post_mortem_representative=post_mortem_representative, signer=signer, sealed=sealed)
    created_receipt(as_json, receipt,
                    notes=[f"  note: {note}" for note in receipt.details["notes"]])


@consent.command("revoke")
@click.argument("consent_id", metavar="CONSENT")
@click.option("--reason", required=True, help="Why the consent is revoked.")
@click.option("--as", "signer", metavar="PARTY",
              help="Signing party (default: the performer, or the representative after death).")
@json_option
@pass_app
def consent_revoke(app: AppContext, consent_id: str, reason: str, signer: str | None,
                   as_json: bool) -> None:
    """Revoke a consent; it applies from now on. Prints the consent's id."""
    receipt = consent_service.revoke_consent(app.home, app.ledger, consent_id, reason, signer)
    created_receipt(as_json, receipt, notes=[
        f"revoked {receipt.details['consent']} at {receipt.details['revoked_at']} "
        f"(log index {receipt.index})"])


@consent.command("list")
@click.option("--performer", metavar="PARTY")
@json_option
@pass_app
def consent_list(app: AppContext, performer: str | None, as_json: bool) -> None:
    """List consents on file."""
    rows = [r.to_json() for r in consent_service.list_consents(app.ledger.db, performer)]
    named = {} if as_json else display_names(app.ledger.db, (r["performer"] for r in rows))

    def scope(r: dict) -> str:
        what = " / ".join(x for x in (r.get("production"), r.get("model_family")) if x)
        return (f"{', '.join(r['kinds'])} for {what}; {', '.join(r['territory'])}; "
                f"{r['start']} to {r['end']}")

    listing(as_json, rows, "consents",
            ["id", Col("performer", "ref"), "scope", "status", Col("log", "num")],
            lambda r: [r["id"], ref(named.get(r["performer"]), r["performer"]), scope(r),
                       r["status"], r["log_index"]])


@consent.command("show")
@click.argument("consent_id", metavar="CONSENT")
@json_option
@pass_app
def consent_show(app: AppContext, consent_id: str, as_json: bool) -> None:
    """Show one consent and its full history, with log indices."""
    c = consent_service.consent_detail(app.ledger.db, consent_id).to_json()
    if as_json:
        emit_json(c)
        return
    click.echo(f"{c['id']}  performer {c['performer']}  [{', '.join(c['kinds'])}]  {c['status']}")
    click.echo(f"  description     {c['description']}")
    for key, label in (("production", "production"), ("model_family", "model family"),
                       ("licensee", "licensee")):
        if key in c:
            click.echo(f"  {label:<15} {c[key]}")
    click.echo(f"  media           {', '.join(c['media'])}")
    click.echo(f"  territory       {', '.join(c['territory'])}")
    click.echo(f"  period          {c['start']} to {c['end']}")
    click.echo(f"  compensation    {c['compensation_ref']}")
    click.echo(f"  represented by  {c['represented_by']}")
    if "post_mortem_representative" in c:
        click.echo(f"  representative  {c['post_mortem_representative']} (after death)")
    for e in c["history"]:
        when = e.get("time") or e.get("date")
        extra = f"  ({e['reason']})" if e.get("reason") else ""
        click.echo(f"  log {e['log_index']:<6} {e['event']:<19} {when}  by {e['actor']}{extra}")


@consent.command("deceased")
@click.option("--performer", required=True, metavar="PARTY")
@click.option("--date", "died", required=True, type=DATE, help="Date of death.")
@click.option("--as", "representative", required=True, metavar="PARTY",
              help="The authorised representative (or, if none was named, the guild); signs.")
@json_option
@pass_app
def consent_deceased(app: AppContext, performer: str, died: date, representative: str,
                     as_json: bool) -> None:
    """Record a performer's death; from then on only the representative consents (R6).

    Prints the performer's id."""
    receipt = consent_service.record_death(app.home, app.ledger, performer, died,
                                           representative)
    d = receipt.details
    created_receipt(as_json, receipt, notes=[
        f"recorded the death of {d['performer']} on {d['date']}; representative "
        f"{d['representative']} (log index {receipt.index})"])


# -- consent requests: ask, list, approve, decline ------------------------------------------------

@consent.command("request")
@click.option("--as", "requester", required=True, metavar="PARTY",
              help="Who asks (a developer or a production's studio); signs with its key.")
@click.option("--performer", required=True, metavar="PARTY", help="The performer asked.")
@click.option("--kind", "kinds", required=True, multiple=True, type=click.Choice(CONSENT_KINDS),
              help="voice and/or likeness (repeatable).")
@click.option("--description", required=True,
              help="A reasonably specific description of the intended use (SAG-AFTRA R1).")
@click.option("--production", help="The production the use is for.")
@click.option("--model-family", help="The model family the use is for.")
@click.option("--media", required=True, type=CommaList("MEDIA", MEDIA),
              help=f"Comma-separated: {', '.join(MEDIA)}.")
@click.option("--territory", required=True, type=CommaList("TERRITORIES"),
              help="Comma-separated ISO 3166-1 codes or EU, EEA, WORLD, e.g. US,CA.")
@click.option("--from", "start", required=True, type=DATE, help="First day asked for.")
@click.option("--until", "end", required=True, type=DATE, help="Last day asked for.")
@click.option("--compensation-ref", required=True, metavar="REF",
              help="Reference to the compensation offered (contract or payment id).")
@json_option
@pass_app
def consent_request(app: AppContext, requester: str, performer: str, kinds: tuple[str, ...],
                    description: str, production: str | None, model_family: str | None,
                    media: list[str], territory: list[str], start: date, end: date,
                    compensation_ref: str, as_json: bool) -> None:
    """Ask a performer for a specific use of her voice and/or likeness. Prints the request's
    id; she approves or declines it (`consent approve`, `consent decline`, or her web page)."""
    from ..rights.consent_requests import request_consent

    receipt = request_consent(
        app.home, app.ledger, requester=requester, performer=performer, kinds=kinds,
        description=description, media=media, territory=territory, start=start, end=end,
        compensation_ref=compensation_ref, production=production, model_family=model_family)
    created_receipt(as_json, receipt)


@consent.command("requests")
@click.option("--performer", metavar="PARTY", help="Requests to this performer.")
@click.option("--requester", metavar="PARTY", help="Requests by this party.")
@click.option("--status", type=click.Choice(("pending", "approved", "declined")))
@json_option
@pass_app
def consent_requests_list(app: AppContext, performer: str | None, requester: str | None,
                          status: str | None, as_json: bool) -> None:
    """List consent requests and where each stands (newest first)."""
    from ..rights.consent_requests import list_requests

    rows = [r.to_json() for r in list_requests(app.ledger.db, performer=performer,
                                               requester=requester, status=status)]
    named = {} if as_json else display_names(
        app.ledger.db, [x for r in rows for x in (r["performer"], r["requester"])])

    def scope(r: dict) -> str:
        what = " / ".join(x for x in (r.get("production"), r.get("model_family")) if x)
        return (f"{', '.join(r['kinds'])} for {what}; {', '.join(r['territory'])}; "
                f"{r['start']} to {r['end']}")

    def standing(r: dict) -> str:
        if r["status"] == "approved":
            return f"approved: {r['consent']}"
        if r["status"] == "declined":
            return f"declined: {r['decline_reason']}"
        return "pending"

    listing(as_json, rows, "consent requests",
            ["id", Col("performer", "ref"), Col("requester", "ref"), "scope", "status",
             Col("log", "num")],
            lambda r: [r["id"], ref(named.get(r["performer"]), r["performer"]),
                       ref(named.get(r["requester"]), r["requester"]), scope(r), standing(r),
                       r["log_index"]])


@consent.command("approve")
@click.argument("request_id", metavar="REQUEST")
@click.option("--represented-by", default="none", show_default=True,
              type=click.Choice(REPRESENTATION),
              help="Who represented the performer (CA AB 2602).")
@click.option("--post-mortem-representative", metavar="PARTY",
              help="Who consents for the performer after death (SAG-AFTRA R6).")
@json_option
@pass_app
def consent_approve(app: AppContext, request_id: str, represented_by: str,
                    post_mortem_representative: str | None, as_json: bool) -> None:
    """Approve a request: the performer signs the consent it asks for, to the requester.
    Prints the new consent's id."""
    from ..rights.consent_requests import approve_request

    receipt = approve_request(app.home, app.ledger, request_id, represented_by=represented_by,
                              post_mortem_representative=post_mortem_representative)
    created_receipt(as_json, receipt, notes=[
        f"approved {request_id}: consent {receipt.details['id']} (log index {receipt.index})"])


@consent.command("decline")
@click.argument("request_id", metavar="REQUEST")
@click.option("--reason", required=True, help="Why; the requester reads it.")
@json_option
@pass_app
def consent_decline(app: AppContext, request_id: str, reason: str, as_json: bool) -> None:
    """Decline a request, with a reason. Prints the request's id."""
    from ..rights.consent_requests import decline_request

    receipt = decline_request(app.home, app.ledger, request_id, reason)
    created_receipt(as_json, receipt, notes=[
        f"declined {request_id} (log index {receipt.index})"])
