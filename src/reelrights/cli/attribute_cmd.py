"""reelrights attribute OUTPUT: the licensed works an output draws on, near-copies, consent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .context import AppContext, pass_app
from .output import Col, emit_json, json_option, ref, table


def register(cli: click.Group) -> None:
    cli.add_command(attribute_cmd)


@click.command("attribute")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--territory", help="Where the output is used (ISO 3166 code) for the consent "
                                  "check; without it only a WORLD consent covers it.")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]),
              help="The day of use for the consent check (default today).")
@json_option
@pass_app
def attribute_cmd(app: AppContext, output: Path, territory: str | None, on, as_json: bool) -> None:
    """Weights per work and bundle, near-copies and performers without consent (exit 3: a
    near-copy or a missing consent)."""
    from ..outputs.attribution import attribute

    day: date | None = on.date() if on else None
    report = attribute(app.home, app.ledger, output, territory=territory, on=day)
    if as_json:
        emit_json(report)
    else:
        o = report["output"]
        click.echo(f"output: {o['id'] + ' (found by ' + report['found_by'] + ')' if o else 'no record found'}")
        table("Works", [Col("work", "id"), "title", "weight", "share", "signals"],
              [[w["work"], w["title"], w["weight"], w["share"],
                ", ".join(f"{k} {v}" for k, v in w["signals"].items())] for w in report["works"]])
        table("Bundles", [Col("bundle", "ref"), "weight", "used by run"],
              [[ref(f"{b['name']}@{b['version']}", b["bundle"]), b["weight"],
                "yes" if b["used_by_run"] else "no"] for b in report["bundles"]])
        click.echo(f"near-copies: {report['near_copy_count']}")
        for n in report["near_copies"][:20]:
            where = (f"output {n['output_ms']} ms ~ ref {n['ref_ms']} ms, distance {n['distance']}"
                     if n["signal"] == "video" else
                     f"output lines {n['query_first_line']}-{n['query_last_line']} = ref lines "
                     f"{n['ref_first_line']}-{n['ref_last_line']}")
            click.echo(f"  {n['signal']} {','.join(n['works']) or n['sha256'][:12]}: {where}")
        for f in report["consent_flags"]:
            click.echo(f"no consent: performer {f['performer']} ({f['kind']}) in {f['work']}: "
                       f"{f['reasons'][0] if f['reasons'] else ''}")
    raise click.exceptions.Exit(report["exit_code"])
