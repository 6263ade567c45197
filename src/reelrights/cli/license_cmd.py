"""reelrights license grant|cosign|revoke|list|show|project, guild agreement|member add."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..core.canonical import load_json
from ..core.odrl import parse_policy
from ..errors import BadInput
from ..identity.display import display_names, shown_json
from ..preferences.project import TARGETS, project
from ..rights import licensing
from ..rights.types import COVERED_ROLES
from .context import AppContext, pass_app
from .output import Col, created_receipt, emit_json, json_option, listing, ref


def register(cli: click.Group) -> None:
    cli.add_command(license_)
    cli.add_command(guild)
    from .strike_cmd import attach

    attach(guild)


def _read_policy(path: Path) -> dict:
    try:
        doc = load_json(path.read_bytes(), what=f"{path} (JSON policy)")
    except OSError as exc:
        raise BadInput(f"{path}: not a readable JSON policy ({exc}); fix the file") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{path}: an ODRL policy is a JSON object")
    return doc


@click.group("license")
def license_() -> None:
    """Licenses on bundles: ODRL 2.2 Agreements, guild co-signature, revocation."""


@license_.command("grant")
@click.option("--bundle", required=True, metavar="BUNDLE")
@click.option("--to", "licensee", required=True, metavar="DEVELOPER")
@click.option("--policy", "policy_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="ODRL 2.2 Agreement (JSON-LD) under the reelrights profile.")
@click.option("--sealed", is_flag=True,
              help="Seal the private fields: the log gets their salted Merkle root, the "
                   "registry and this home keep the body (docs/sealed.md).")
@json_option
@pass_app
def license_grant(app: AppContext, bundle: str, licensee: str, policy_path: Path,
                  sealed: bool, as_json: bool) -> None:
    """License a bundle to a developer (signed by the bundle's owner)."""
    r = licensing.grant_license(app.home, app.ledger, bundle, licensee, _read_policy(policy_path),
                                sealed=sealed)
    need = r.details["required_cosigners"]
    created_receipt(as_json, r, notes=[f"  not in force until co-signed by: {', '.join(need)}"]
                    if need else [])


@license_.command("cosign")
@click.argument("license_ref", metavar="LICENSE")
@click.option("--as", "guild", required=True, metavar="GUILD")
@json_option
@pass_app
def license_cosign(app: AppContext, license_ref: str, guild: str, as_json: bool) -> None:
    """Co-sign a license as a guild whose covered members are credited in the bundle.

    Prints the license's id."""
    r = licensing.cosign_license(app.home, app.ledger, license_ref, guild)
    created_receipt(as_json, r, notes=[
        f"co-signed {r.details['license']} as {r.details['guild']} (log index {r.index})"])


@license_.command("revoke")
@click.argument("license_ref", metavar="LICENSE")
@click.option("--reason", required=True)
@json_option
@pass_app
def license_revoke(app: AppContext, license_ref: str, reason: str, as_json: bool) -> None:
    """Revoke a license from now on (signed by the licensor). Prints the license's id."""
    r = licensing.revoke_license(app.home, app.ledger, license_ref, reason)
    created_receipt(as_json, r, notes=[
        f"revoked {r.details['license']} at {r.details['revoked_at']} (log index {r.index})"])


@license_.command("list")
@click.option("--licensee", metavar="DEVELOPER")
@json_option
@pass_app
def license_list(app: AppContext, licensee: str | None, as_json: bool) -> None:
    """List licenses and whether each is in force."""
    rows = [r.to_json() for r in licensing.list_licenses(app.ledger.db, licensee)]
    named = {} if as_json else display_names(app.ledger.db, [i for r in rows for i in (
        r["bundle"], r["licensee"], *r["missing_cosigners"])])

    def status(r: dict) -> str:
        if r["in_force"]:
            return "in force"
        if r["revoked"]:
            return "revoked"
        return "waiting for " + ", ".join(named.get(g, g) for g in r["missing_cosigners"])

    # three ids leave no room for a log column at 80 columns: `license show` has the history
    listing(as_json, rows, "licenses",
            ["id", Col("bundle", "ref"), Col("licensee", "ref"), "status"],
            lambda r: [r["id"], ref(named.get(r["bundle"]), r["bundle"]),
                       ref(named.get(r["licensee"]), r["licensee"]), status(r)])


@license_.command("show")
@click.argument("license_ref", metavar="LICENSE")
@json_option
@pass_app
def license_show(app: AppContext, license_ref: str, as_json: bool) -> None:
    """Show a license, its status and its full history from the log."""
    d = shown_json(app.ledger.db, licensing.license_detail(app.ledger.db, license_ref).to_json())
    if as_json:
        emit_json(d)
        return
    state = "in force" if d["in_force"] else (
        "revoked" if d["revoked"] else f"waiting for {', '.join(d['missing_cosigners'])}")
    click.echo(f"{d['id']}  bundle {d['bundle']}  {d['licensor']} -> {d['licensee']}  [{state}]")
    click.echo(f"  policy {d['policy_uid']}")
    for h in d["history"]:
        click.echo(f"  log {h['log_index']:>6}  {h['time']}  {h['type']:<17} by {h['actor']}")


@license_.command("template")
@click.option("--bundle", required=True, metavar="BUNDLE")
@click.option("--to", "licensee", required=True, metavar="DEVELOPER")
@click.option("--model-family", required=True, metavar="F")
@click.option("--territory", "territories", multiple=True, required=True, metavar="CC",
              help="ISO 3166 code or EU/EEA/WORLD (repeatable).")
@click.option("--until", required=True, metavar="YYYY-MM-DD", help="Training allowed before this date.")
@click.option("--fund-share", required=True, metavar="PERCENT", help="Share of revenue to the fund, e.g. 2.5.")
@click.option("--fine-tune", is_flag=True, help="Fine-tuning only (not training from scratch).")
@click.option("--voice", "voice", multiple=True, metavar="PERFORMER",
              help="Allow voice synthesis of this performer, with their consent (repeatable).")
@click.option("--likeness", "likeness", multiple=True, metavar="PERFORMER",
              help="Allow likeness synthesis of this performer, with their consent (repeatable).")
@pass_app
def license_template(app: AppContext, bundle: str, licensee: str, model_family: str,
                     territories: tuple[str, ...], until: str, fund_share: str, fine_tune: bool,
                     voice: tuple[str, ...], likeness: tuple[str, ...]) -> None:
    """Print a training Agreement for a bundle (ODRL JSON-LD) to review, edit and grant."""
    from ..core.ids import new_id
    from ..core.license_terms import training_agreement
    from ..registry.resolve import resolve_party
    from ..rights.bundles import resolve_bundle

    with app.ledger.db.read() as conn:
        b = resolve_bundle(conn, bundle)
        dev = resolve_party(conn, licensee).id
        voices = [resolve_party(conn, p).id for p in voice]
        faces = [resolve_party(conn, p).id for p in likeness]
    policy = training_agreement(
        uid=f"urn:reelrights:policy:{new_id('license')[4:]}", licensor=b.owner_id, licensee=dev,
        bundle=b.id, model_family=model_family, territories=list(territories), until=until,
        fund_share=fund_share, voice_performers=voices, likeness_performers=faces,
        actions=("fineTune",) if fine_tune else ("train",))
    parse_policy(policy)  # what we print must be a policy the registry accepts
    emit_json(policy)


@license_.command("project")
@click.argument("license_ref", metavar="[LICENSE]", required=False)
@click.option("--policy", "policy_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An ODRL policy file, instead of a granted LICENSE.")
@click.option("--to", "target", required=True, type=click.Choice(list(TARGETS)))
@click.option("--policy-url", metavar="URL",
              help="Where the policy is published (https); the projection points there.")
@click.option("--location", default="/",
              help="RSL, TDMRep: the path or location the terms apply to.")
@pass_app
def license_project(app: AppContext, license_ref: str | None, policy_path: Path | None,
                    target: str, policy_url: str | None, location: str) -> None:
    """Write a license's policy (or --policy FILE) in another vocabulary: aipref (robots.txt
    Content-Usage and the header), content-signals, rsl, iptc (XMP), cawg, tdmrep.

    Lossy, and marked as derived from the ODRL policy, which governs (docs/odrl-profile.md has
    the mapping table and what each loses)."""
    if (license_ref is None) == (policy_path is None):
        raise BadInput("name a granted LICENSE or --policy FILE (one of the two)")
    doc: dict[str, Any] | None = (
        _read_policy(policy_path) if policy_path is not None
        else licensing.license_detail(app.ledger.db, license_ref or "").policy)
    if doc is None:
        raise BadInput(f"license {license_ref} has no policy to project")
    _, text = project(parse_policy(doc), target, policy_url=policy_url, location=location)
    click.echo(text, nl=False)


@click.group()
def guild() -> None:
    """Guild collective agreements and membership."""


@guild.group("agreement")
def agreement() -> None:
    """Collective agreements."""


@agreement.command("add")
@click.option("--guild", "guild_ref", required=True, metavar="GUILD")
@click.option("--name", default="Collective agreement", show_default=True)
@click.option("--covers", required=True, help="Comma-separated roles, e.g. performer,writer.")
@click.option("--fund-share", required=True, help="Percent of members' earnings to the guild fund, e.g. 25.")
@click.option("--effective", help="YYYY-MM-DD")
@click.option("--expires", help="YYYY-MM-DD")
@json_option
@pass_app
def agreement_add(app: AppContext, guild_ref: str, name: str, covers: str, fund_share: str,
                  effective: str | None, expires: str | None, as_json: bool) -> None:
    """Register a guild's collective agreement (signed by the guild)."""
    roles = [c.strip() for c in covers.split(",") if c.strip()]
    bad = [r for r in roles if r not in COVERED_ROLES]
    if bad or not roles:
        raise BadInput(f"--covers {covers!r}: use roles from {', '.join(COVERED_ROLES)}")
    r = licensing.add_agreement(app.home, app.ledger, guild_ref, name, roles, fund_share,
                                effective, expires)
    created_receipt(as_json, r)


@guild.group("member")
def member() -> None:
    """Guild membership."""


@member.command("add")
@click.option("--guild", "guild_ref", required=True, metavar="GUILD")
@click.option("--party", "party_ref", required=True, metavar="PARTY")
@click.option("--since", help="YYYY-MM-DD")
@json_option
@pass_app
def member_add(app: AppContext, guild_ref: str, party_ref: str, since: str | None,
               as_json: bool) -> None:
    """Record that a party is a member of the guild (signed by the guild).

    Prints the membership's id, GUILD/MEMBER."""
    r = licensing.add_member(app.home, app.ledger, guild_ref, party_ref, since)
    created_receipt(as_json, r, notes=[
        f"{r.details['member']} is a member of {r.details['guild']} (log index {r.index})"])
