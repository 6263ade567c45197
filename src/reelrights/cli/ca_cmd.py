"""reelrights ca init|issue|anchors|show: the project root CA and developers' C2PA signers."""

from __future__ import annotations

from pathlib import Path

import click

from ..outputs import pki
from .context import AppContext, pass_app
from .output import Col, created, emit_json, json_option, ref, table


def register(cli: click.Group) -> None:
    cli.add_command(ca)


@click.group()
def ca() -> None:
    """The project root CA that certifies developers' C2PA signing keys."""


@ca.command("init")
@click.option("--days", type=click.IntRange(min=1), default=pki.ROOT_DAYS, show_default=True,
              help="How long the root certificate is valid.")
@json_option
@pass_app
def ca_init(app: AppContext, days: int, as_json: bool) -> None:
    """Create the root CA in <home>/ca (idempotent: an existing CA is left as it is).

    Prints its id: the SHA-256 fingerprint of the root certificate."""
    root, new = pki.init_ca(app.home, days=days)
    info = root.to_json()
    created(as_json, info["fingerprint_sha256"], {"created": new, **info}, [
        f"{'created' if new else 'exists, unchanged'}: {root.dir}",
        f"root:        {root.cert.subject.rfc4514_string()}",
        f"valid until: {root.cert.not_valid_after_utc.isoformat()}"])


@ca.command("issue")
@click.option("--party", "party_ref", required=True, help="The developer party (id or unique name).")
@click.option("--days", type=click.IntRange(min=1), default=pki.SIGNER_DAYS, show_default=True,
              help="Validity of the signer certificate (capped at the root's).")
@click.option("--renew", is_flag=True, help="Issue a new certificate even if a current one exists.")
@json_option
@pass_app
def ca_issue(app: AppContext, party_ref: str, days: int, renew: bool, as_json: bool) -> None:
    """Issue a C2PA signing certificate to a developer party (key 0600 in <home>/keys).

    Prints its id, the certificate's serial number (the current one's, without --renew)."""
    signer, issued = pki.issue_signer(app.home, app.ledger, party_ref, days=days, renew=renew)
    from ..core.x509 import signer_profile
    profile = signer_profile(signer.certificate)
    created(as_json, profile.serial, {"issued": issued, **profile.to_json()}, [
        f"{'issued' if issued else 'current certificate kept'}: serial {profile.serial}",
        f"subject:     CN={profile.common_name}, UID={profile.party_id}",
        f"valid until: {profile.not_after}"])


@ca.command("anchors")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the PEM here instead of printing it.")
@pass_app
def ca_anchors(app: AppContext, output: str | None) -> None:
    """Export the trust anchors (the root certificate, PEM) for C2PA verifiers."""
    pem = pki.trust_anchors_pem(app.home)
    if output is None:
        click.echo(pem.decode("ascii"), nl=False)
        return
    tmp = Path(output).with_name(Path(output).name + ".tmp")
    tmp.write_bytes(pem)
    tmp.replace(output)
    click.echo(f"wrote {output}")


@ca.command("show")
@click.option("--party", "party_id", help="Only this party's certificates (party id).")
@json_option
@pass_app
def ca_show(app: AppContext, party_id: str | None, as_json: bool) -> None:
    """The root and every signer certificate it issued."""
    root = pki.load_ca(app.home)
    issued = pki.list_issued(app.home, party_id)
    if as_json:
        emit_json({"root": {"id": root.to_json()["fingerprint_sha256"], **root.to_json()},
                   "issued": [{"id": p.serial, **p.to_json()} for p in issued]})
        return
    click.echo(f"root: {root.cert.subject.rfc4514_string()}")
    click.echo(f"  sha256 {root.to_json()['fingerprint_sha256']}")
    table("issued C2PA signers", [Col("serial", "id"), Col("party", "ref"), "valid"],
          [[p.serial, ref(p.common_name, p.party_id), f"{p.not_before[:10]} to {p.not_after[:10]}"]
           for p in issued])
