"""reelrights preferences import|show: rights holders' declared AI-use preferences."""

from __future__ import annotations

from pathlib import Path

import click

from ..preferences.declared import declare_preference, list_preferences
from ..preferences.sources import fetch_https_response, read_file, read_source
from .context import AppContext, pass_app
from .output import created_receipt, emit_json, json_option


def register(cli: click.Group) -> None:
    cli.add_command(preferences)


@click.group()
def preferences() -> None:
    """Rights holders' declared AI-use preferences (AIPREF, Content Signals, RSL, IPTC, CAWG,
    TDMRep), recorded as signed statements that `check` honours."""


@preferences.command("import")
@click.argument("source", metavar="FILE_OR_URL")
@click.option("--work", "work_ref", required=True, metavar="WORK",
              help="The work the preference is about (id, title or a standard identifier).")
@click.option("--as", "declarer", metavar="PARTY",
              help="Who declares it: the work's owner (default) or a party credited on it.")
@click.option("--format", "fmt", type=click.Choice(
    ["robots.txt", "rsl", "tdmrep", "cawg", "content-usage", "iptc-xmp"]),
              help="Default: recognised from the content.")
@click.option("--path", default="/", show_default=True,
              help="robots.txt, RSL, TDMRep: the path whose preference applies to the work.")
@click.option("--user-agent", default="*", show_default=True,
              help="robots.txt: the crawler's product token whose group applies.")
@json_option
@pass_app
def preferences_import(app: AppContext, source: str, work_ref: str, declarer: str | None,
                       fmt: str | None, path: str, user_agent: str, as_json: bool) -> None:
    """Read a declared preference and record it for WORK as a signed statement.

    FILE_OR_URL: robots.txt (Content-Usage, Content-Signal), an RSL license, tdmrep.json, a CAWG
    or C2PA training-mining assertion (JSON), a bare Content-Usage value (--format
    content-usage), or a media file or XMP sidecar (IPTC plus:DataMining, and its C2PA
    manifest's training-mining assertion). A URL must be https and public; at most 1 MiB."""
    url = source if "://" in source else None
    local = None if url else Path(source)
    data, header = fetch_https_response(source) if url else (read_file(Path(source)), None)
    found = read_source(data, name=source, fmt=fmt, path=path, user_agent=user_agent,
                        local=local, content_usage=header)
    r = declare_preference(app.home, app.ledger, work_ref, found.preferences,
                           source_format=found.format, source_sha256=found.sha256,
                           declarer=declarer, url=url,
                           path=path if found.format in ("robots.txt", "rsl", "tdmrep") else None,
                           user_agent=user_agent if found.format == "robots.txt" else None)
    values = found.preferences.to_json()
    created_receipt(as_json, r, {"format": found.format, "values": values,
                                 "notes": list(found.preferences.notes)}, notes=[
        f"  {c}: {v}" for c, v in values.items()] or ["  no category stated (all unknown)"])


@preferences.command("show")
@click.argument("work_ref", metavar="WORK")
@json_option
@pass_app
def preferences_show(app: AppContext, work_ref: str, as_json: bool) -> None:
    """Each party's current declared preference about WORK."""
    rows = [p.to_json() for p in list_preferences(app.ledger.db, work_ref)]
    if as_json:
        emit_json({"preferences": rows})
        return
    if not rows:
        click.echo("no declared preference")
    for p in rows:
        vals = ", ".join(f"{c}={v}" for c, v in p["values"].items()) or "all unknown"
        click.echo(f"{p['declarer']}  {vals}  ({p['source_format']}, log {p['log_index']}, "
                   f"{p['declared_at']})")
