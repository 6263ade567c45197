"""Admission's commands (docs/identity.md): ``party nonce``, ``party request-admission``,
``party admit`` (joining the ``party`` group) and ``service reverify``
(joining ``service``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from .context import AppContext, pass_app
from .output import created_receipt, emit_json, json_option, table

if TYPE_CHECKING:
    from ..identity.domain_proof import FetchPolicy

__all__ = ["PARTY_COMMANDS", "SERVICE_COMMANDS"]

_fetch_config = click.option("--fetch-config-json", hidden=True, default=None,
                             help="Test-only fetch switches as JSON (loopback, CA, resolver).")


def _policy(text: str | None) -> FetchPolicy:
    from ..identity.domain_proof import FetchPolicy

    return FetchPolicy.from_config(json.loads(text) if text else None)


@click.command("nonce")
@click.argument("party_ref", metavar="PARTY")
@click.option("--domain", required=True, help="The domain PARTY controls, e.g. northlight.example.")
@json_option
@pass_app
def party_nonce(app: AppContext, party_ref: str, domain: str, as_json: bool) -> None:
    """Get a single-use nonce (72 hours) for PARTY's proof of DOMAIN, and what to publish.

    Publish the printed JSON at https://DOMAIN/.well-known/reelrights.json, or the TXT record at
    _reelrights.DOMAIN; then run `party request-admission`."""
    from ..identity.admit import nonce_for

    out = nonce_for(app.home, app.ledger, party_ref, domain)
    if as_json:
        emit_json(out)
        return
    click.echo(out["nonce"])
    click.echo(f"expires {out['expires_at']}; publish either", err=True)
    click.echo(f"  {out['document_url']}:\n    {json.dumps(out['document'])}", err=True)
    click.echo(f"  or the TXT record {out['txt_name']}:\n    {out['txt']}", err=True)


@click.command("request-admission")
@click.argument("party_ref", metavar="PARTY")
@click.option("--domain", help="Admission by domain control: the domain PARTY published at.")
@click.option("--nonce", help="The nonce from `party nonce` that the published proof carries.")
@click.option("--via", "proof", type=click.Choice(["https", "dns"]), default="https",
              show_default=True, help="Where the proof is: the .well-known document or DNS TXT.")
@click.option("--guild-attestation", "attestation", metavar="STATEMENT",
              help="Admission by a guild: the id of its guild.member statement about PARTY.")
@_fetch_config
@json_option
@pass_app
def party_request_admission(app: AppContext, party_ref: str, domain: str | None,
                            nonce: str | None, proof: str, attestation: str | None,
                            fetch_config_json: str | None, as_json: bool) -> None:
    """Ask to be admitted, signed with PARTY's key: the server checks the proof and logs the
    request with the operator's admission (both, or nothing)."""
    from ..identity.admit import request_admission

    receipts = request_admission(app.home, app.ledger, party_ref, domain=domain, nonce=nonce,
                                 proof=proof, attestation=attestation,
                                 policy=_policy(fetch_config_json))
    admitted = receipts[-1]
    created_receipt(as_json, admitted, {"request": receipts[0].to_json()},
                    [f"admitted by {admitted.details.get('method')}"
                     + (f": {admitted.details['domain']}" if "domain" in admitted.details
                        else f": guild {admitted.details['guild']}"
                        if "guild" in admitted.details else "")])


@click.command("admit")
@click.argument("party_ref", metavar="PARTY")
@click.option("--manual", "reference", required=True, metavar="REF",
              help="The record of the operator's own check (a ticket or file number; never "
                   "the documents).")
@json_option
@pass_app
def party_admit(app: AppContext, party_ref: str, reference: str, as_json: bool) -> None:
    """The operator admits PARTY on its documented manual check (the operator's home only).

    Admission by domain or guild is the party's request (`party request-admission`)."""
    from ..identity.admit import admit_manual

    created_receipt(as_json, admit_manual(app.home, app.ledger, party_ref, reference))


@click.command("reverify")
@click.option("--all", "every", is_flag=True,
              help="Every admitted domain, not only those verified 80 days ago or more.")
@_fetch_config
@json_option
@pass_app
def service_reverify(app: AppContext, every: bool, fetch_config_json: str | None,
                     as_json: bool) -> None:
    """Fetch admitted domains' proofs again (run it daily) and log each outcome.

    A proof that still holds is logged domain.reverified; one that does not,
    domain.lapsed (the party shows LAPSED beside its name). Exit 1 if any lapsed."""
    from ..errors import VerificationError
    from ..identity.admit import reverify

    rows = reverify(app.home, app.ledger, _policy(fetch_config_json), every=every)
    if as_json:
        emit_json(rows)
    else:
        table("domain re-verification", ["party", "domain", "outcome", "log", "reason"],
              [[r["party"], r["domain"], r["outcome"], r.get("log_index", ""),
                r.get("reason", "")] for r in rows])
    failed = [r for r in rows if r["outcome"] != "reverified"]
    if failed:
        raise VerificationError(f"{len(failed)} of {len(rows)} domains did not re-verify: "
                                + ", ".join(f"{r['party']} {r['domain']}" for r in failed))


PARTY_COMMANDS = (party_nonce, party_request_admission, party_admit)
SERVICE_COMMANDS = (service_reverify,)
