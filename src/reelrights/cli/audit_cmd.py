"""reelrights audit: challenge, respond, verify, withdraw, show, verify-cert."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..core.ids import ID_PATTERNS
from ..errors import BadInput, PolicyDenied
from ..evidence.audit_challenge import challenge_run, respond, witnessed_history, write_private
from ..evidence.audit_status import run_audits, withdraw_challenge
from ..evidence.certificates import certify, show_certificate, verify_certificate, write_certificate
from .context import AppContext, pass_app
from .output import created, emit_json, json_option


def register(cli: click.Group) -> None:
    cli.add_command(audit)


def _fresh(path: Path) -> None:
    """The -o file must be new, in an existing folder: checked before any work is done."""
    if path.exists():
        raise BadInput(f"{path} already exists; choose another -o file or remove it")
    if not path.parent.is_dir():
        raise BadInput(f"-o {path}: folder {path.parent} does not exist; create it first")


@click.group()
def audit() -> None:
    """Sampled audits of training runs that keep the dataset private, with signed certificates."""


@audit.command("challenge")
@click.argument("run")
@click.option("--samples", required=True, type=click.IntRange(min=1), metavar="K",
              help="How many items to sample; K >= the run's item count is a full audit.")
@click.option("--auditor", required=True, metavar="PARTY", help="The auditor (signs).")
@json_option
@pass_app
def audit_challenge(app: AppContext, run: str, samples: int, auditor: str, as_json: bool) -> None:
    """Log a challenge; its indices derive from its own log entry and the log's signature on
    the next checkpoint, so nobody can choose them. Prints the challenge's id."""
    out = challenge_run(app.home, app.ledger, run, samples, auditor)
    if out["seed"] is None:  # the log has witnesses: their cosignatures join the seed first
        created(as_json, out["challenge"], out, [
            f"challenge {out['challenge']} (log {out['log_index']}) of run {out['run']}: "
            f"{out['pending']}; `audit respond` and `audit certify` derive the indices then"])
        return
    cp, shown = out["checkpoint"], out["indices"][:20]
    created(as_json, out["challenge"], out, [
        f"challenge {out['challenge']} (log {out['log_index']}): {out['method']} audit of "
        f"run {out['run']}, {len(out['indices'])} item(s), seed from the log's signature "
        f"on checkpoint {cp['origin']} size {cp['size']}",
        f"indices: {', '.join(map(str, shown))}"
        + (f", … ({len(out['indices']) - 20} more)" if len(out["indices"]) > 20 else "")])


@audit.command("respond")
@click.argument("challenge")
@click.option("--manifest", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The run's manifest (JSONL or Parquet).")
@click.option("--opening", type=click.Path(dir_okay=False, path_type=Path),
              help="The opening file with the salts (default MANIFEST.opening).")
@click.option("--media", "media_dir", type=click.Path(file_okay=False, exists=True,
                                                      path_type=Path),
              help="A folder holding the training media; sampled items are found by SHA-256.")
@click.option("--full", is_flag=True, help="Answer a full audit: the whole manifest and salts.")
@click.option("-o", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the response here (0600); give it to the auditor only.")
@click.option("--log", "log_it", is_flag=True,
              help="Also log it, sealed (audit.opened): the log holds a root, the run's "
                   "developer, its auditor and the operator read the items (docs/sealed.md).")
@pass_app
def audit_respond(app: AppContext, challenge: str, manifest: Path, opening: Path | None,
                  media_dir: Path | None, full: bool, output: Path, log_it: bool) -> None:
    """Developer: open the challenged items (item, salt, inclusion proof). Nothing is logged
    unless --log (then sealed)."""
    _fresh(output)
    doc = respond(app.ledger, challenge, manifest, opening, media_dir, full,
                  witnessed=witnessed_history(app.home.path, app.home.log_vkey()))
    if log_it:
        from ..evidence.audit_opened import log_response

        receipt = log_response(app.home, app.ledger, doc)
        click.echo(f"logged sealed as {receipt.statement_id} (log index {receipt.index})",
                   err=True)
    write_private(output, doc)
    media = sum(1 for i in doc["items"] if "media" in i)
    click.echo(f"wrote {output}: {len(doc['items'])} item(s) of run {doc['run']} for challenge "
               f"{doc['challenge']} ({doc['method']}, {media} with media); send it to the "
               "auditor only")


@audit.command("verify")
@click.argument("response", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--auditor", required=True, metavar="PARTY", help="The auditor (signs).")
@click.option("--valid-days", default=365, show_default=True, type=click.IntRange(1, 3660))
@click.option("--max-unlicensed-share", metavar="SHARE",
              help="Pass when the 95% upper bound is at most SHARE (default: zero findings).")
@click.option("--territory", metavar="CC",
              help="Where the run trained (ISO 3166 code), for licenses limited to territories.")
@click.option("--no-scan", is_flag=True, help="Check media hashes but do not fingerprint-scan.")
@click.option("--media", "media_root", type=click.Path(file_okay=False, path_type=Path),
              help="Your copy of the developer's media folder (default: the response's).")
@click.option("-o", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Certificate file (default CERT_ID.intoto.json).")
@json_option
@pass_app
def audit_verify(app: AppContext, response: Path, auditor: str, valid_days: int,
                 max_unlicensed_share: str | None, territory: str | None, no_scan: bool,
                 media_root: Path | None, output: Path | None, as_json: bool) -> None:
    """Auditor: check every proof and item, bound the unlicensed share, sign and log the
    certificate (exit 3 when it fails, 1 when a proof fails and nothing is certified).
    Prints the certificate's id, also when it fails."""
    if output is not None:
        _fresh(output)  # before anything is signed or logged
    out = certify(app.home, app.ledger, response, auditor, valid_days=valid_days,
                  max_unlicensed_share=max_unlicensed_share, territory=territory,
                  scan=not no_scan, media_root=media_root)
    path = output or Path(f"{out['certificate']}.intoto.json")
    from ..proofs import issue_proof

    write_certificate(path, out["envelope"], issue_proof(app.ledger, out["log_index"]).format())
    out["file"] = str(path)
    b = out["bound"]
    notes = [f"{out['result'].upper()}  certificate {out['certificate']} (log "
             f"{out['log_index']}) written to {path}",
             f"  {b['sample_size']} item(s), {b['failures']} failing; upper bound on the "
             f"failing share {b['upper']} ({b['method']})"]
    for f in out["findings"]:
        if f["verdict"] != "licensed":
            why = [m for c, m in zip(f["codes"], f["reasons"], strict=True)
                   if c == f["verdict"]] or f["reasons"][-2:]
            notes.append(f"  - item {f['index']} {f['sha256'][:16]}…: {f['verdict']}: "
                         f"{'; '.join(why)}")
    created(as_json, out["certificate"], out, notes)
    if out["result"] != "pass":  # a policy finding, as with `scan` (a failed proof exits 1)
        raise click.exceptions.Exit(PolicyDenied.exit_code)


@audit.command("withdraw")
@click.argument("challenge")
@click.option("--reason", required=True, metavar="TEXT", help="Why (logged, public).")
@json_option
@pass_app
def audit_withdraw(app: AppContext, challenge: str, reason: str, as_json: bool) -> None:
    """Auditor: close an open challenge without a certificate. Logged as a FAILED audit."""
    out = withdraw_challenge(app.home, app.ledger, challenge, reason)
    created(as_json, out["id"], out, [
        f"challenge {out['id']} of run {out['run']} withdrawn (log {out['log_index']}): "
        "counts as a failed audit"])


def _show_run(app: AppContext, ref: str, as_json: bool) -> None:
    with app.ledger.db.read() as conn:
        out = run_audits(conn, app.ledger.log, ref)
    if as_json:
        emit_json(out)
        return
    click.echo(f"run {out['run']}: {out['passed']} passed, {out['failed']} failed, "
               f"{out['open']} open audit(s)")
    for a in out["audits"]:
        how = {"open": "open", "certified": f"{(a['result'] or '').upper()} by "
               f"{a.get('certificate')}", "withdrawn": f"WITHDRAWN (failed audit): "
               f"{a.get('reason')}"}[a["status"]]
        click.echo(f"  challenge {a['challenge']} (log {a['log_index']}) by {a['auditor']}, "
                   f"{a['samples']} sample(s): {how}")


@audit.command("show")
@click.argument("cert")
@json_option
@pass_app
def audit_show(app: AppContext, cert: str, as_json: bool) -> None:
    """Print a certificate (id or file): scope, method, findings, bound, validity; or, for a
    run (run_…), every audit of it and how it ended."""
    if re.fullmatch(ID_PATTERNS["run"], cert):
        _show_run(app, cert, as_json)
        return
    out = show_certificate(app.ledger.db, cert).to_json()
    if as_json:
        emit_json(out)
        return
    p = out["statement"]["predicate"]
    s = p["scope"]
    click.echo(f"certificate {p['id']} by {p['auditor']}: {p['result'].upper()}"
               f" (log {out['log_index']})")
    click.echo(f"  run {p['run']['id']} ({s['developer']}, {s['model_family']} / {s['model']}),"
               f" root {p['run']['root'][:16]}…, {p['run']['count']} items")
    counts = ", ".join(f"{n} {v}" for v, n in p["findings"]["counts"].items() if n) or "none"
    click.echo(f"  {p['method']} audit of {p['sample_size']}: {counts}")
    for item in p["findings"].get("inconclusive", []):
        click.echo(f"  inconclusive item {item['index']}: {item['reason']}")
    click.echo(f"  upper bound {p['bound']['upper']} ({p['bound']['method']}); criteria "
               f"{p['criteria']['id']} v{p['criteria']['version']}")
    click.echo(f"  valid {p['validity']['notBefore']} to {p['validity']['notAfter']} (shown, not "
               "verified: `reelrights audit verify-cert` checks it)")


@audit.command("verify-cert")
@click.argument("cert")
@click.option("--log-key", metavar="VKEY",
              help="The log's note verifier key (default: the home's).")
@json_option
@pass_app
def audit_verify_cert(app: AppContext, cert: str, log_key: str | None, as_json: bool) -> None:
    """Anyone: signature, log inclusion, subject, validity; exit 1 naming what fails."""
    out = verify_certificate(app.home, app.ledger, cert, log_vkey=log_key)
    if as_json:
        emit_json(out)
        return
    click.echo(f"ok: certificate {out['certificate']} for run {out['run']} is valid (signed "
               f"result {out['result']}, valid {out['not_before']} to {out['not_after']})")
    for c in out["checks"]:
        click.echo(f"  - {c}")
    if out.get("affected_by"):
        click.echo(f"  affected by {len(out['affected_by'])} fact(s) logged after the "
                   "certificate; the signed verdict stands as logged:")
        for m in out["affected_by"]:
            click.echo(f"    {m['statement_type']} at log index {m['log_index']}: {m['reason']}")
