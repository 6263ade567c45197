"""reelrights run: start and commit to a training run, list and show runs, and the EU training
summary."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..core.canonical import load_json
from ..evidence import eu_summary, runs
from ..identity.display import display_names, shown_json
from .context import AppContext, pass_app
from .output import Col, created, emit_json, json_option, listing, ref


def register(cli: click.Group) -> None:
    cli.add_command(run)


@click.group("run")
def run() -> None:
    """Training-run commitments (the manifest and its salts never leave this machine)."""


@run.command("start")
@click.option("--developer", required=True, metavar="D", help="The developer party (id or name).")
@click.option("--model-family", required=True, metavar="F")
@click.option("--license", "licenses_", required=True, multiple=True, metavar="L",
              help="A license the run relies on (repeat for each).")
@click.option("--id", "run_id", metavar="RUN_ID", help="The run id (default: a new one).")
@click.option("--note", help="A public note on the run.")
@json_option
@pass_app
def start(app: AppContext, developer: str, model_family: str, licenses_: tuple[str, ...],
          run_id: str | None, note: str | None, as_json: bool) -> None:
    """Log run.started before training: the licenses the run relies on and its model family.

    Its licenses are then judged over the log-time interval from this start to `run commit
    --run RUN_ID`. Prints the run id."""
    out = runs.start_run(app.home, app.ledger, developer, model_family, licenses_,
                         run_id=run_id, note=note)
    created(as_json, out["id"], out, [
        f"  started at {out['started_at']}, log index {out['log_index']}, relying on "
        f"{', '.join(out['licenses'])}",
        *(f"  warning: license {lic} is not in force now" for lic in out["licenses_not_in_force"])])


@run.command("commit")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--developer", required=True, metavar="D", help="The developer party (id or name).")
@click.option("--model-family", required=True, metavar="F")
@click.option("--model", required=True, metavar="M", help="The versioned model name.")
@click.option("--base-model", metavar="B", help="The model this one was fine-tuned from.")
@click.option("--description", help="A public description of the run.")
@click.option("--opening", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the private salts (default: MANIFEST.opening, mode 0600).")
@click.option("--workers", type=click.IntRange(1, 256), help="Processes (default: every core).")
@click.option("--run", "run_id", metavar="RUN_ID",
              help="Commit the run `run start` logged (its licenses are judged from its start).")
@json_option
@pass_app
def commit(app: AppContext, manifest: Path, developer: str, model_family: str, model: str,
           base_model: str | None, description: str | None, opening: Path | None,
           workers: int | None, run_id: str | None, as_json: bool) -> None:
    """Commit to MANIFEST (JSONL or Parquet): sign and log its Merkle root and public totals."""
    out = runs.commit_run(app.home, app.ledger, manifest, developer, model_family, model,
                          base_model=base_model, opening=opening, description=description,
                          workers=workers, run_id=run_id)
    when = ("at commit time" if out["judged"] == "at_commit" else
            f"throughout the run ({out['over_interval']['from']} to {out['over_interval']['to']})")
    created(as_json, out["id"], out, [
        f"  {out['count']:,} items, root {out['root']}, log index {out['log_index']}",
        f"  salts written to {out['opening']} (keep it private: audits need it)",
        *(f"  warning: license {lic} was not in force {when}"
          for lic in out["licenses_not_in_force"]),
        *(["  judged at commit: no `run start` was logged for this run"]
          if out["judged"] == "at_commit" else [])])


@run.command("list")
@click.option("--developer", metavar="D")
@json_option
@pass_app
def list_cmd(app: AppContext, developer: str | None, as_json: bool) -> None:
    """List committed training runs."""
    rows = [r.to_json() for r in runs.list_runs(app.ledger.db, developer)]
    named = {} if as_json else display_names(app.ledger.db, (r["developer"] for r in rows))
    listing(as_json, rows, "Training runs",
            ["id", Col("developer", "ref"), "model family / model", Col("items", "num"),
             Col("log", "num")],
            lambda r: [r["id"], ref(named.get(r["developer"]), r["developer"]),
                       f"{r['model_family']} / {r['model']}", f"{r['count']:,}", r["log_index"]])


@run.command("show")
@click.argument("run_id", metavar="RUN")
@json_option
@pass_app
def show(app: AppContext, run_id: str, as_json: bool) -> None:
    """Show a run's commitment, usage per license and public totals."""
    from ..evidence.audit_status import run_show

    # with every audit and how it ended, each party named with its verification
    d = shown_json(app.ledger.db, run_show(app.ledger.db, app.ledger.log, run_id))
    if as_json:
        emit_json(d)
        return
    click.echo(f"{d['id']}  {d['model_family']} / {d['model']}"
               + (f" (from {d['base_model']})" if d.get("base_model") else ""))
    click.echo(f"  developer {d['developer']}, committed {d['committed_at']}, log index "
               f"{d['log_index']}")
    click.echo(f"  {d['count']:,} items, root {d['root']}")
    if d["judged"] == "at_commit":
        click.echo("  licenses judged at commit (no run.started was logged)")
    else:
        span = d["over_interval"]
        click.echo(f"  licenses judged over the run: started {span['from']} (log index "
                   f"{span['started_log_index']}) to committed {span['to']}")
    for u in d["usage"]:
        ok = u.get("in_force_at_commit", u.get("in_force_over_interval"))
        flag = "" if ok else f"  (out of force: {u.get('out_of_force', 'not in force')})"
        click.echo(f"  licensed: {u['bundle_name']} {u['bundle']} under {u['license']}: "
                   f"{u['items']:,} items{flag}")
    for kind, t in d["modalities"].items():
        click.echo(f"  {kind}: {t['items']:,} items")
    for a in d["audits"]:
        end = {"open": "open",
               "certified": f"{(a['result'] or '').upper()} ({a.get('certificate')})",
               "withdrawn": f"WITHDRAWN, a failed audit: {a.get('reason')}"}[a["status"]]
        click.echo(f"  audit {a['challenge']} by {a['auditor']}: {end}")
    for m in d["affected_by"]:
        click.echo(f"  affected by {m['statement_type']} at log index {m['log_index']} "
                   f"({m['marked_at']}): {m['reason']}")


@run.command("summary")
@click.argument("run_id", metavar="RUN")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown")
@click.option("--provider-info", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON with the fields only the provider can fill (see docs/runs.md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def summary(app: AppContext, run_id: str, fmt: str, provider_info: Path | None,
            output: Path | None) -> None:
    """The EU AI Act public summary of training content (AI Office template, July 2025)."""
    info = None
    if provider_info is not None:
        info = load_json(provider_info.read_bytes(), what=f"--provider-info {provider_info}")
    doc = eu_summary.build_summary(app.ledger.db, run_id, info)
    text = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n" if fmt == "json"
            else eu_summary.render_markdown(doc))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
