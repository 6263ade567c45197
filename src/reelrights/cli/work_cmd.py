"""reelrights work add|credit|list|show."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import PolicyDenied
from ..evidence import fingerprints
from ..identity.display import display_names, shown_json
from ..registry.credits import credit_work
from ..registry.types import CREDIT_ROLES, WORK_KINDS
from ..registry.works import list_works, register_work, work_detail
from ..rights import disputes
from .context import AppContext, pass_app
from .output import Col, created_receipt, emit_json, json_option, listing, ref
from .types import EXTERNAL_ID, SHARE


def register(cli: click.Group) -> None:
    cli.add_command(work)


@click.group()
def work() -> None:
    """Films, episodes, scripts, scores, performances and images, with their files."""


@work.command("add")
@click.option("--owner", required=True, metavar="PARTY", help="Owning party (id or unique name); signs.")
@click.option("--kind", required=True, type=click.Choice(WORK_KINDS))
@click.option("--title", required=True)
@click.option("--year", type=click.IntRange(1850, 2200))
@click.option("--id", "external_ids", multiple=True, type=EXTERNAL_ID,
              help="External id, e.g. eidr:10.5240/7791-8534-2C23-9030-8610-5 (repeatable).")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-fingerprint", is_flag=True,
              help="Register only; fingerprint later with `reelrights fingerprint`.")
@json_option
@pass_app
def work_add(app: AppContext, owner: str, kind: str, title: str, year: int | None,
             external_ids: tuple[str, ...], files: tuple[Path, ...], no_fingerprint: bool,
             as_json: bool) -> None:
    """Register a work and its files (each streamed for SHA-256 and probed), then fingerprint them."""
    receipt = register_work(app.home, app.ledger, owner, kind, title, list(files),
                                     year, external_ids)
    failed = fingerprints.fingerprint_new_work(app.home, app.ledger.db, receipt.details["assets"],
                                               list(files), skip=no_fingerprint)
    conflicts = list(receipt.details.get("disputes", []))
    segments: list[dict] = []
    if not no_fingerprint:
        near, segments = disputes.find_near_duplicates(
            app.home, app.ledger, receipt.actor,
            [a["sha256"] for a in receipt.details["assets"] if "dispute" not in a])
        conflicts += near
    notes = []
    for a in receipt.details["assets"]:
        if a["new"]:
            notes.append(f"  asset {a['sha256']}  {a['name']}  (new)")
        elif "dispute" not in a:
            notes.append(f"  asset {a['sha256']}  {a['name']}  (already registered, first in "
                         f"{a['first_work']}: same content, same asset)")
    for f in failed:
        notes.append(f"  not fingerprinted: {f['error']} (registered all the same; retry with "
                     "`reelrights fingerprint FILE`)")
    for m in segments:
        notes.append(f"  segment match: {m['share']:.0%} of asset {m['asset'][:16]} matches "
                     f"{m['matches'][:16]} of {m['owner']} (reported, not blocking)")
    for d in conflicts:
        notes.append(f"error: ownership conflict: asset {d['asset']} is {d['first_owner']}'s "
                     f"(work {d['first_work']}, log {d['first_log_index']}); recorded as "
                     f"dispute {d['dispute']}, which suspends licensing of it by both parties "
                     "until the first owner releases it or the operator decides "
                     "(`reelrights dispute show`)")
    created_receipt(as_json, receipt, {"fingerprint_failures": failed, "disputes": conflicts,
                                       "segment_matches": segments}, notes)
    if conflicts:
        sys.exit(PolicyDenied.exit_code)


@work.command("credit")
@click.argument("work_ref", metavar="WORK")
@click.option("--party", "party_ref", required=True, metavar="PARTY")
@click.option("--role", required=True, type=click.Choice(CREDIT_ROLES))
@click.option("--share", required=True, type=SHARE, help="Exact share of the role, e.g. 0.25 or 1/3.")
@json_option
@pass_app
def work_credit(app: AppContext, work_ref: str, party_ref: str, role: str, share: str,
                as_json: bool) -> None:
    """Credit a party on a work (signed by the work's owner; shares per role total at most 1).

    Prints the credit's id, WORK/ROLE/PARTY."""
    receipt = credit_work(app.home, app.ledger, work_ref, party_ref, role, share)
    d = receipt.details
    created_receipt(as_json, receipt, notes=[
        f"credited {d['party']} as {d['role']} {d['share']} on {d['work']} "
        f"({d['role']} total {d['role_total']}, log index {receipt.index})"])


@work.command("list")
@click.option("--owner", metavar="PARTY")
@json_option
@pass_app
def work_list(app: AppContext, owner: str | None, as_json: bool) -> None:
    """List registered works."""
    rows = [r.to_json() for r in list_works(app.ledger.db, owner)]
    named = {} if as_json else display_names(app.ledger.db, (r["owner"] for r in rows))
    listing(as_json, rows, "works",
            ["id", "kind", "title", "year", Col("owner", "ref"), Col("log", "num")],
            lambda r: [r["id"], r["kind"], r["title"], r.get("year"),
                       ref(named.get(r["owner"]), r["owner"]), r["log_index"]])


@work.command("show")
@click.argument("work_ref", metavar="WORK")
@json_option
@pass_app
def work_show(app: AppContext, work_ref: str, as_json: bool) -> None:
    """Show a work (by id, unique title, or a standard identifier such as
    eidr:10.5240/..., isan:, isrc:, iswc:, isbn:): its assets and credits."""
    w = shown_json(app.ledger.db, work_detail(app.ledger.db, work_ref).to_json())
    if as_json:
        emit_json(w)
        return
    year = f" ({w['year']})" if "year" in w else ""
    click.echo(f"{w['id']}  {w['title']}{year}  [{w['kind']}]  owner {w['owner']}  log index {w['log_index']}")
    for x in w["external_ids"]:
        click.echo(f"  id      {x}")
    for a in w["assets"]:
        extra = ", ".join(f"{k} {a[k]}" for k in ("duration_ms", "pages", "lines", "width", "height") if k in a)
        click.echo(f"  asset   {a['sha256']}  {a['name']}  {a['media_type']}  {a['size']} bytes"
                   + (f"  ({extra})" if extra else ""))
    for c in w["credits"]:
        click.echo(f"  credit  {c['role']:<10} {c['share']:<8} {c['name']} ({c['party']})")
