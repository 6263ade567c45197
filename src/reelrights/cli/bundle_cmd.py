"""reelrights bundle create|list|show|export."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import BadInput
from ..identity.display import display_names, shown_json
from ..rights import bundles
from .context import AppContext, pass_app
from .output import Col, created_receipt, emit_json, json_option, listing, ref


def register(cli: click.Group) -> None:
    cli.add_command(bundle)


@click.group()
def bundle() -> None:
    """Immutable, versioned sets of works and assets that an owner licenses."""


@bundle.command("create")
@click.option("--owner", required=True, metavar="PARTY",
              help="Owning party (id or unique name); signs, and must own every work.")
@click.option("--name", required=True, help="The bundle's name, shared by all its versions.")
@click.option("--version", "version", required=True, metavar="V",
              help="This version's label, e.g. 1 or 2026.1 (unique per owner and name).")
@click.option("--predecessor", metavar="BUNDLE",
              help="The version this one follows (id, NAME@VERSION or name); required once "
                   "the name has versions.")
@click.option("--description", help="A sentence about the bundle (up to 2000 characters).")
@click.argument("items", nargs=-1, required=True, metavar="WORK_OR_ASSET...")
@json_option
@pass_app
def bundle_create(app: AppContext, owner: str, name: str, version: str,
                  predecessor: str | None, description: str | None, items: tuple[str, ...],
                  as_json: bool) -> None:
    """Create a bundle version from works (ids or unique titles) and asset SHA-256s."""
    r = bundles.create_bundle(app.home, app.ledger, owner, name, version, list(items),
                              predecessor, description)
    d, t = r.details, r.details["totals"]
    created_receipt(as_json, r, notes=[
        f"  {name} version {version}: {t['assets']} assets from {d['works']} works, "
        f"{d['contributors']} contributors, root {d['root']}, log index {r.index}"])


@bundle.command("list")
@click.option("--owner", metavar="PARTY")
@json_option
@pass_app
def bundle_list(app: AppContext, owner: str | None, as_json: bool) -> None:
    """List bundle versions, oldest first."""
    rows = [r.to_json() for r in bundles.list_bundles(app.ledger.db, owner)]
    named = {} if as_json else display_names(app.ledger.db, (r["owner"] for r in rows))

    def contents(t: dict) -> str:
        return (f"{t['assets']} assets: video {t['video_ms'] / 3_600_000:.2f}h, "
                f"audio {t['audio_ms'] / 3_600_000:.2f}h, {t['script_pages']} pages")

    listing(as_json, rows, "bundles",
            ["id", "name@version", Col("owner", "ref"), "contents", Col("log", "num")],
            lambda r: [r["id"], f"{r['name']}@{r['version']}", ref(named.get(r["owner"]),
                                                                   r["owner"]),
                       contents(r["totals"]), r["log_index"]])


@bundle.command("show")
@click.argument("bundle_ref", metavar="BUNDLE")
@json_option
@pass_app
def bundle_show(app: AppContext, bundle_ref: str, as_json: bool) -> None:
    """Show a bundle version (id, NAME@VERSION, or name for the latest version)."""
    d = shown_json(app.ledger.db, bundles.bundle_detail(app.ledger.db, bundle_ref).to_json())
    if as_json:
        emit_json(d)
        return
    t = d["totals"]
    click.echo(f"{d['id']}  {d['name']} version {d['version']}  owner {d['owner_name']} "
               f"({d['owner']})  log index {d['log_index']}")
    if d.get("description"):
        click.echo(f"  about        {d['description']}")
    click.echo(f"  root         {d['root']}")
    click.echo(f"  leaf hash    {d['leaf_hash']}  (created {d['created_at']})")
    click.echo(f"  assets       {t['assets']}")
    click.echo(f"  video        {bundles.format_hours(t['video_ms'])}")
    click.echo(f"  audio        {bundles.format_hours(t['audio_ms'])}")
    click.echo(f"  script       {t['script_pages']} pages, {t['script_lines']} lines")
    click.echo(f"  images       {t['images']}    other {t['other']}")
    for w in d["works"]:
        how = "whole work" if w["listed"] else "some assets"
        click.echo(f"  work         {w['id']}  {w['title']}  [{w['kind']}]  ({how})")
    for c in d["contributors"]:
        click.echo(f"  contributor  {c['party']}  {c['name']}  ({', '.join(c['roles'])})")
    for v in d["versions"]:
        mark = "*" if v["id"] == d["id"] else " "
        after = f"  after {v['predecessor']}" if v["predecessor"] else ""
        click.echo(f"  version {mark}   {v['version']:<10} {v['id']}  log index {v['log_index']}"
                   f"{after}")


@bundle.command("export")
@click.argument("bundle_ref", metavar="BUNDLE")
@click.option("--format", "fmt", type=click.Choice(["croissant"]), default="croissant",
              show_default=True, help="Export format: Croissant 1.1 JSON-LD with RAI and PROV-O.")
@click.option("--license", "license_id", metavar="LICENSE",
              help="Point license/usageInfo at this license's ODRL policy (default: the "
                   "placeholder urn:reelrights:terms:<bundle id>).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to FILE instead of standard output.")
@pass_app
def bundle_export(app: AppContext, bundle_ref: str, fmt: str, license_id: str | None,
                  output: Path | None) -> None:
    """Export a bundle version's description for ML tools (Croissant 1.1 JSON-LD)."""
    from ..rights.croissant import bundle_croissant

    doc = bundle_croissant(app.ledger.db, bundle_ref, license_id=license_id)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {output}: {exc.strerror}; choose another -o FILE") from None
    click.echo(f"wrote {output} ({len(doc['distribution'])} files, Croissant 1.1)", err=True)
