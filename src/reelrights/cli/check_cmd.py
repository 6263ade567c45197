"""reelrights check: may this licensee do this with this content? (exit 0 allow, 3 deny)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import PolicyDenied
from ..rights.check_run import check_one, manifest_hashes
from ..rights.policy import ACTIONS, CheckContext, check_manifest, resolve_context
from .context import AppContext, pass_app
from .output import emit_json, json_option

if TYPE_CHECKING:
    from sqlalchemy import Connection


def register(cli: click.Group) -> None:
    cli.add_command(check_cmd)


@click.command("check")
@click.option("--licensee", required=True, metavar="DEVELOPER")
@click.option("--action", required=True, type=click.Choice(ACTIONS))
@click.option("--asset", metavar="SHA256")
@click.option("--work", metavar="WORK")
@click.option("--bundle", metavar="BUNDLE", help="Id, NAME@VERSION, or NAME (its latest version).")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file of SHA-256 hashes (one per line, or JSONL with a sha256 field).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="With --manifest: write one JSON verdict per item here.")
@click.option("--model-family", metavar="F")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Default: today (UTC).")
@click.option("--territory", metavar="CC", help="ISO 3166 alpha-2 code, e.g. US.")
@click.option("--performer", metavar="PARTY", help="The performer whose voice or likeness is used or resembled.")
@click.option("--production", metavar="Q")
@click.option("--purpose")
@json_option
@pass_app
def check_cmd(app: AppContext, licensee: str, action: str, asset: str | None, work: str | None,
              bundle: str | None, manifest: Path | None, report: Path | None,
              model_family: str | None, on: datetime | None, territory: str | None,
              performer: str | None,
              production: str | None, purpose: str | None, as_json: bool) -> None:
    """Answer allow or deny, with the chain of reasons (license, rule, consent, co-signature)."""
    day: date | None = on.date() if on else None
    context: dict[str, Any] = {"model_family": model_family, "on": day,
                               "territory": territory, "performer": performer,
                               "production": production, "purpose": purpose}
    if manifest is not None:
        with app.ledger.db.read() as conn:
            ctx = resolve_context(conn, licensee=licensee, action=action, **context)
            _manifest(conn, ctx, manifest, report, as_json)
        return
    ctx, verdict = check_one(app.ledger.db, licensee=licensee, action=action, asset=asset,
                             work=work, bundle=bundle, **context)
    if as_json:
        emit_json(verdict.to_json())
    else:
        click.echo(f"{'ALLOW' if verdict.allowed else 'DENY'}  {action} {verdict.item} by {ctx.licensee}")
        for r in verdict.reasons:
            click.echo(f"  - {r}")
        for m in verdict.affected_by:
            click.echo(f"  affected by {m['statement_type']} at log index {m['log_index']} "
                       f"({m['subject_kind']} {m['subject']}): {m['reason']}")
        for d in verdict.disputed:
            click.echo(f"  disputed: {d['entry_type']} at log index {d['entry_index']} is "
                       f"disowned by {d['party']} ({d['status']}, dispute {d['dispute']}): "
                       f"{d['reason']}")
    if not verdict.allowed:
        sys.exit(PolicyDenied.exit_code)


def _manifest(conn: Connection, ctx: CheckContext, path: Path, report: Path | None,
              as_json: bool) -> None:
    def hashes() -> Iterator[str]:
        with path.open("r", encoding="utf-8") as f:
            yield from manifest_hashes(f)

    counts = {"allow": 0, "deny": 0}
    out = report.open("w", encoding="utf-8") if report else None
    try:
        for sha, v in check_manifest(conn, ctx, hashes()):
            counts["allow" if v.allowed else "deny"] += 1
            if out:
                out.write(json.dumps({"sha256": sha, "decision": "allow" if v.allowed else "deny",
                                      "license": v.license, "reasons": v.reasons}) + "\n")
    finally:
        if out:
            out.close()
    summary = {"items": counts["allow"] + counts["deny"], **counts}
    emit_json(summary) if as_json else click.echo(
        f"{summary['items']} items: {counts['allow']} allowed, {counts['deny']} denied")
    if counts["deny"]:
        sys.exit(PolicyDenied.exit_code)
