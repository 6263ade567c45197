"""reelrights fund: import revenue reports, set fund terms, issue and verify statements."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import BadInput
from ..fund import productions as fund
from ..fund import revenue_import
from ..fund import royalty_statement_issue as statement_issue
from ..replica.home import public_log_vkey
from .context import AppContext, pass_app
from .output import created, created_receipt, emit_json, json_option


def register(cli: click.Group) -> None:
    cli.add_command(fund_group)


@click.group("fund")
def fund_group() -> None:
    """The creative fund: revenue in, exact statements out (docs/fund.md)."""


@fund_group.command("import")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "reporter", required=True, metavar="PARTY",
              help="The reporting studio (or the fund operator).")
@click.option("--period", metavar="QUARTER", help="Booking quarter (default: the rows' latest).")
@click.option("--rate", "rates", multiple=True, metavar="FROM:TO=RATE",
              help="Exact exchange rate, TO per FROM, e.g. EUR:USD=1.0842 (repeatable).")
@click.option("--rate-source", metavar="SOURCE", help="Where the rates come from, e.g. ECB.")
@click.option("--rate-date", metavar="YYYY-MM-DD", help="The rates' date.")
@click.option("--supersedes", metavar="REPORT", help="The report this one corrects.")
@click.option("--sealed", is_flag=True,
              help="Seal the private fields: the log gets their salted Merkle root, the "
                   "registry and this home keep the body (docs/sealed.md).")
@json_option
@pass_app
def import_cmd(app: AppContext, report: Path, reporter: str, period: str | None,
               rates: tuple[str, ...], rate_source: str | None, rate_date: str | None,
               supersedes: str | None, sealed: bool, as_json: bool) -> None:
    """Import a revenue REPORT (CSV: production,period,territory,currency,gross,deductions)."""
    out = revenue_import.import_report(app.home, app.ledger, report, reporter, period=period,
                                       rates=rates, rate_source=rate_source,
                                       rate_date=rate_date, supersedes=supersedes,
                                       sealed=sealed)
    created(as_json, out["id"], out, [
        f"  {'imported' if out['new'] else 'already imported'}, booked in "
        f"{out['period']}, log index {out['log_index']}"])


@fund_group.command("terms")
@click.argument("license_id", metavar="LICENSE")
@click.option("--basis", type=click.Choice(["units", "attribution"]))
@click.option("--unit", type=click.Choice(["items", "seconds", "frames", "tokens", "images"]))
@click.option("--contributors-share", metavar="PERCENT",
              help="Percent of the bundle's money that goes to credited contributors (default 50).")
@click.option("--sealed", is_flag=True,
              help="Keep basis, unit and share off the log: the log holds a root, the registry "
                   "the fields, shown to the fund and the license's payees (docs/sealed.md).")
@json_option
@pass_app
def terms(app: AppContext, license_id: str, basis: str | None, unit: str | None,
          contributors_share: str | None, sealed: bool, as_json: bool) -> None:
    """Set a license's fund terms (signed by its licensor). Prints the license's id."""
    r = fund.set_terms(app.home, app.ledger, license_id, basis, unit, contributors_share,
                       sealed=sealed)
    created_receipt(as_json, r, notes=[f"  fund terms set, log index {r.index}"])


@fund_group.command("statement")
@click.option("--party", required=True, metavar="P")
@click.option("--period", required=True, metavar="QUARTER", help="e.g. 2027-Q1")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json",
              show_default=True)
@click.option("--threshold", default="10", show_default=True, metavar="AMOUNT",
              help="Payout threshold in each currency's major unit; less carries forward.")
@click.option("--as", "fund_party", metavar="FUND", help="The fund operator who signs.")
@click.option("-o", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the statement here and print its id (default: print the statement).")
@click.option("--sealed", is_flag=True,
              help="Seal its figures: the log gets their salted root; the payee reads them "
                   "(docs/sealed.md).")
@click.option("--with-proof", is_flag=True,
              help="Embed its offline proof (c2sp.org/tlog-proof) in the JSON statement: "
                   "`reelrights verify FILE --log-key VKEY` then checks it anywhere.")
@json_option
@pass_app
def statement(app: AppContext, party: str, period: str, fmt: str, threshold: str,
              fund_party: str | None, output: Path | None, sealed: bool, with_proof: bool,
              as_json: bool) -> None:
    """Issue (sign and log) P's statement for a quarter and write it.

    With -o, prints the statement's id (the same id when it was already issued); without, the
    statement itself goes to standard output and its id to standard error."""
    if as_json and output is None:
        raise BadInput("--json prints the statement's id and where it was written: give "
                       "-o FILE for the statement itself")
    data, doc, sid, index, new = statement_issue.statement_file(
        app.home, app.ledger, party, period, fmt, threshold=threshold, fund=fund_party,
        sealed=sealed, with_proof=with_proof)
    note = f"{sid} ({'issued' if new else 'already issued'}, log index {index})"
    if output is None:
        sys.stdout.buffer.write(data)
        click.echo(note, err=True)
        return
    output.write_bytes(data)
    created(as_json, sid, {"log_index": index, "new": new, "party": doc["header"]["party"],
                           "period": period, "format": fmt, "file": str(output)},
            [f"{note} -> {output}"])


@fund_group.command("verify")
@click.argument("statement_file", metavar="STATEMENT",
                type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_app
def verify(app: AppContext, statement_file: Path, as_json: bool) -> None:
    """Recompute STATEMENT (JSON, CSV or HTML) from the log; exit 1 naming any difference."""
    out = statement_issue.verify_statement(app.ledger.db, statement_file,
                                           public_log_vkey(app.home))
    if as_json:
        emit_json(out)
    else:
        click.echo(f"ok: {out['statement_id']} ({out['format']}) matches the log "
                   f"(entry {out['log_index']}, sha256 {out['sha256']})")
