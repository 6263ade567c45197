"""reelrights provenance sign|verify: C2PA manifests on generated outputs, and their chain."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import BadInput
from .context import AppContext, pass_app
from .output import created, emit_json, json_option


def register(cli: click.Group) -> None:
    cli.add_command(provenance)


@click.group()
def provenance() -> None:
    """Sign generated outputs with C2PA manifests tied to certified training runs; verify them."""


@provenance.command("sign")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--run", "run_ref", required=True, help="The training run (run_…) that made it.")
@click.option("--production", help="The production (prd_…) the output is made for.")
@click.option("--prompt-sha256", help="SHA-256 (hex) of the prompt; the prompt stays private.")
@click.option("--reuse", multiple=True, metavar="USE=TERM",
              help="The output's own reuse terms, e.g. ai_training=notAllowed, "
                   "data_mining=constrained:research only (default: ai_training and "
                   "ai_generative_training notAllowed). Repeatable.")
@click.option("--uncertified", is_flag=True,
              help="Sign although the run has no audit certificate that verifies now.")
@click.option("-o", "dst", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the signed copy (a text output also gets SIGNED.c2pa).")
@json_option
@pass_app
def sign_cmd(app: AppContext, output: Path, run_ref: str, production: str | None,
             prompt_sha256: str | None, reuse: tuple[str, ...], uncertified: bool, dst: Path,
             as_json: bool) -> None:
    """Record OUTPUT in the log, then embed its C2PA manifest (exit 3: run not certified).

    Prints the output record's id (out_...)."""
    from ..outputs.provenance import sign

    out = sign(app.home, app.ledger, output, run_ref, dst, production=production,
               prompt_sha256=prompt_sha256, reuse=list(reuse), uncertified=uncertified)
    created(as_json, out["output"], out, [
        f"output:    {out['output']}{' (existing record reused)' if out['reused_record'] else ''}",
        f"log index: {out['log_index']}",
        f"manifest:  {out['manifest_label']}",
        f"signed:    {out['signed']}" + (f" + {out['sidecar']}" if out["sidecar"] else ""),
        f"run:       {out['run']}  certificate: {out['certificate'] or 'none (uncertified)'}"])


@provenance.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sidecar", type=click.Path(dir_okay=False, path_type=Path),
              help="A detached manifest (.c2pa); default FILE.c2pa for plain text.")
@json_option
@pass_app
def verify_cmd(app: AppContext, file: Path, sidecar: Path | None, as_json: bool) -> None:
    """C2PA validation, then the output record, its run and its certificate (exit 1: fails)."""
    from ..outputs.provenance_verify import verify_output

    report = verify_output(app.home, app.ledger, file, sidecar=sidecar)
    if as_json:
        emit_json(report)
    else:
        c = report["c2pa"]
        line = f"c2pa:      {c['state']}"
        if c["failure_codes"]:
            line += f" ({', '.join(c['failure_codes'])})"
        click.echo(line)
        if report.get("recovered_note"):
            click.echo(f"found:     {report['recovered_note']}")
        elif report["found_by"]:
            click.echo("found:     by its manifest")
        if report["output"]:
            o = report["output"]
            click.echo(f"output:    {o['id']} (log {o['log_index']}), run {o['run']}, "
                       f"developer {o['developer']}")
        for link in report["chain"]:
            where = f" [log {link['log_index']}]" if link.get("log_index") is not None else ""
            click.echo(f"{'ok  ' if link['ok'] else 'FAIL'}  {link['check']}{where}: {link['detail']}")
        for p in report["problems"]:
            click.echo(f"problem:   {p}")
        click.echo("verified" if report["verified"] else "NOT verified")
    raise click.exceptions.Exit(report["exit_code"])


@provenance.command("model-check")
@click.argument("output_ref", metavar="OUTPUT")
@click.option("--opening", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The run's model opening, from the developer "
                   "(<home>/provenance/RUN.model-opening.json).")
@json_option
@pass_app
def model_check_cmd(app: AppContext, output_ref: str, opening: Path, as_json: bool) -> None:
    """Auditors: check that OPENING (salt + model identity) opens the model commitment of
    OUTPUT (an out_ id or a file). Exit 1 when it does not."""
    from ..outputs.provenance_verify import check_model_opening

    out = check_model_opening(app.home, app.ledger, output_ref, opening)
    if as_json:
        emit_json(out)
        return
    i = out["identity"]
    click.echo(f"ok: output {out['output']} (log {out['log_index']}) was made by model "
               f"{i.get('model')} ({i.get('model_family')}) of run {out['run']}")


@provenance.command("publish")
@click.argument("output_id", metavar="OUTPUT")
@click.option("--to", "service", metavar="URL",
              help="The service to publish on (default: this home's server).")
@json_option
@pass_app
def publish_cmd(app: AppContext, output_id: str, service: str | None, as_json: bool) -> None:
    """Publish an output's soft binding and manifest on a service (signed by its developer),
    so anyone who finds the output stripped can recover its record there."""
    from ..client import Client
    from ..outputs.resolution import publication

    url = service or app.home.server
    if not url:
        raise BadInput("name the service: --to URL (this home follows no server)")
    env = publication(app.home, app.ledger.db, output_id)
    with Client(url) as client:
        out = client.publish_binding(output_id, env.to_json())
    if as_json:
        emit_json(out)
    else:
        click.echo(f"published {out['output']} ({', '.join(out['prints'])}; manifest "
                   f"{out['manifest_label']}) on {url}")


@provenance.command("resolve")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--service", "service", required=True, metavar="URL",
              help="A service that answers the C2PA Soft Binding API.")
@click.option("--by", type=click.Choice(["binding", "content"]), default="binding",
              show_default=True, help="binding: send only fingerprint values; content: upload "
                                      "the file (at most 20 MB and 60 s).")
@click.option("--alg", metavar="ALG", default=None,
              help="io.iscc.v0: match an image by its ISCC Image-Code (ISO 24138) instead of "
                   "the file's own fingerprint.")
@click.option("--max", "max_results", type=click.IntRange(1, 100), default=10, show_default=True)
@json_option
def resolve_cmd(file: Path, service: str, by: str, alg: str | None, max_results: int,
                as_json: bool) -> None:
    """Ask a service whose output FILE is (no home needed): every output that matches, best
    first (exit 1: none)."""
    from ..client import Client
    from ..outputs.resolution import resolve_remote

    with Client(service) as client:
        found = resolve_remote(client, file, by=by, max_results=max_results, alg=alg)
    if as_json:
        emit_json({"matches": found})
    elif not found:
        click.echo(f"no output on {service} matches {file}")
    for m in [] if as_json else found:
        share = f", {m['probe_share']:.0%} of probes" if "probe_share" in m else ""
        click.echo(f"{m['output']}  similarity {m['similarityScore']}{share}  (log "
                   f"{m['log_index']}, manifest {m['manifestId']})")
    raise click.exceptions.Exit(0 if found else 1)
