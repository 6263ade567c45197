"""Importing revenue reports: CSV in, one signed ``revenue.reported`` statement out.

The CSV has the columns ``production, period, territory, currency, gross, deductions``. Each row
is checked (a bad one is named by file, line and column, and nothing is written), amounts are
parsed exactly in the currency's ISO 4217 minor unit and written back canonically, and the rows
are sorted. The SHA-256 of those canonical rows keys the report, so importing the same report
twice (even with its lines reordered, or "1000" written "1000.00") changes nothing. A corrected
report names the one it supersedes; both stay in the log, and statements show the difference.

Nothing is dropped silently: the same rows imported again with another exchange rate, rate
source, rate date or booking period, or rows for a (production, period, territory, currency)
that a current report already books, are refused with the differences named and a pointer to
``--supersedes``. Territories are ISO 3166-1 alpha-2 codes (``pycountry``) or ``WORLD``, checked
on import and again by the applier, so a report signed elsewhere cannot book ``ZZ``.

When the applier accepts a report it books every pool (production, period) of it: the lines of
:mod:`.allocation` and balanced double-entry postings (pool account -> payee accounts). For a
correction it also books the reversal of the superseded report's lines.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from ..core.canonical import canonical_bytes
from ..core.money import exponent, format_amount, parse_amount, parse_rate
from ..core.odrl.territory import parse_territory
from ..errors import BadInput, Conflict, InvalidStatement, NotFound, PolicyDenied, ReelrightsError
from ..home import Home
from ..ledger import Accepted, Ledger, applier, each_statement
from ..log.database_log import insert_rows
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.fund_tables import (
    fund_lines,
    fund_postings,
    productions,
    revenue_reports,
    revenue_rows,
)
from ..store.tables import parties
from .allocation import report_body, report_pools
from .productions import resolve_production
from .suspense import SUSPENSE
from .types import derived_id, parse_period, quarter_of

__all__ = ["canonical_rows", "import_report", "parse_report_csv", "rows_sha256"]

COLUMNS = ("production", "period", "territory", "currency", "gross", "deductions")

#: Rows in one report: one log entry is at most 65,535 bytes (the schema's limit too).
MAX_REPORT_ROWS = 400


def territory_problem(code: str) -> str | None:
    """Why ``code`` is not a report territory (ISO 3166-1 alpha-2, or WORLD), or None."""
    if code == "WORLD":
        return None
    try:
        t = parse_territory(code)
    except ValueError:
        return "not an ISO 3166-1 country code; write an alpha-2 code like US, or WORLD"
    if t.is_region or t.code != code:
        return f"write an ISO 3166-1 alpha-2 code like {'US' if t.is_region else t.code}, or WORLD"
    return None


def parse_report_csv(path: Path, conn: Connection) -> list[dict[str, str]]:
    """The report's canonical rows; a bad row raises BadInput naming file, line and column."""
    try:
        text = Path(path).read_text("utf-8-sig")
    except FileNotFoundError:
        raise NotFound(f"revenue report {path} does not exist") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text; save the report as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != list(COLUMNS):
        raise BadInput(f"{path}:1: the header must be exactly {','.join(COLUMNS)}")
    rows = []
    resolved: dict[str, str] = {}
    for line, raw in enumerate(reader, start=2):
        if not raw or all(not c.strip() for c in raw):
            continue
        if len(raw) != len(COLUMNS):
            raise BadInput(f"{path}:{line}: {len(raw)} columns, expected {len(COLUMNS)} "
                           f"({','.join(COLUMNS)})")
        cell = dict(zip(COLUMNS, (c.strip() for c in raw)))

        def bad(column: str, why: str, line: int = line, cell: dict[str, str] = cell) -> BadInput:
            return BadInput(f"{path}:{line}: column {column} ({cell[column]!r}): {why}")

        ref = cell["production"]
        if ref not in resolved:
            try:
                resolved[ref] = resolve_production(conn, ref).id
            except ReelrightsError as exc:
                raise bad("production", exc.message) from None
        try:
            parse_period(cell["period"])
        except ValueError:
            raise bad("period", "write a quarter like 2027-Q1 or a month like 2027-03") from None
        territory = cell["territory"].upper()
        if (why := territory_problem(territory)) is not None:
            raise bad("territory", why)
        currency = cell["currency"].upper()
        try:
            exponent(currency)
            gross = parse_amount(cell["gross"], currency, what="gross")
        except BadInput as exc:
            raise bad("gross" if "gross" in exc.message else "currency", exc.message) from None
        try:
            deductions = parse_amount(cell["deductions"], currency, what="deductions")
        except BadInput as exc:
            raise bad("deductions", exc.message) from None
        if gross < 0 or deductions < 0:
            raise bad("gross" if gross < 0 else "deductions",
                      "amounts are non-negative; report a correction with --supersedes instead")
        if abs(gross) >= 10**18 or abs(deductions) >= 10**18:
            raise bad("gross", "amount too large")
        rows.append({"production": resolved[ref], "period": cell["period"],
                     "territory": territory, "currency": currency,
                     "gross": format_amount(gross, currency),
                     "deductions": format_amount(deductions, currency)})
    if not rows:
        raise BadInput(f"{path}: the report has no rows")
    if len(rows) > MAX_REPORT_ROWS:
        raise BadInput(f"{path}: {len(rows)} rows, but a report holds at most {MAX_REPORT_ROWS} "
                       f"(one log entry is at most 65,535 bytes); split it into reports of at "
                       f"most {MAX_REPORT_ROWS} rows and import each")
    return canonical_rows(rows)


def canonical_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(rows, key=lambda r: tuple(r[c] for c in COLUMNS))


def rows_sha256(rows: list[dict[str, str]]) -> str:
    return hashlib.sha256(canonical_bytes(rows)).hexdigest()


def parse_rates(specs: tuple[str, ...], source: str | None, date: str | None) -> list[dict]:
    """``EUR:USD=1.0842`` -> ``{"from": "EUR", "to": "USD", "rate": "1.0842", ...}``."""
    out = []
    for spec in specs:
        pair, sep, rate = spec.partition("=")
        src, colon, dst = pair.partition(":")
        if not sep or not colon:
            raise BadInput(f"--rate {spec!r} must look like EUR:USD=1.0842 (USD per EUR)")
        exponent(src)
        exponent(dst)
        parse_rate(rate, what=f"--rate {spec}")
        if not source or not date:
            raise BadInput("exchange rates need --rate-source (e.g. ECB) and --rate-date "
                           "(YYYY-MM-DD), recorded with the report")
        out.append({"from": src.upper(), "to": dst.upper(), "rate": rate.strip(),
                    "source": source, "date": date})
    return sorted(out, key=lambda r: (r["from"], r["to"]))


def import_report(home: Home, ledger: Ledger, path: Path, reporter: str, *,
                  period: str | None = None, rates: tuple[str, ...] = (),
                  rate_source: str | None = None, rate_date: str | None = None,
                  supersedes: str | None = None, sealed: bool = False) -> dict[str, Any]:
    """Import a revenue report; return its id and log index, and whether it was new.
    ``sealed``: seal its rows (one leaf per row), rates and hash; its id is then drawn at
    random (docs/sealed.md)."""
    with ledger.db.read() as conn:
        rep = resolve_party(conn, reporter)
        rows = parse_report_csv(path, conn)
        sha = rows_sha256(rows)
        booked = period or max(quarter_of(r["period"]) for r in rows)
        rate_list = parse_rates(rates, rate_source, rate_date)
        rid = derived_id("rev", rep.id, sha, supersedes or "",
                         *([secrets.token_hex(16)] if sealed else []))
        existing = conn.execute(select(revenue_reports).where(revenue_reports.c.id == rid)).first()
        if existing is not None:
            diffs = _differences(report_body(conn, existing.log_index), booked, rate_list)
            if diffs:
                raise Conflict(f"{path}: report {rid} (log index {existing.log_index}) is already "
                               f"booked with these rows, but {'; '.join(diffs)}; to change it, "
                               f"import the full corrected report with --supersedes {rid}")
            return {"id": rid, "log_index": existing.log_index, "rows_sha256": sha,
                    "new": False, "period": existing.period}
        if supersedes:
            old = conn.execute(select(revenue_reports).where(
                revenue_reports.c.id == supersedes)).first()
            if old is None:
                raise NotFound(f"--supersedes {supersedes}: no such report is imported")
            if old.superseded_by is not None:
                raise Conflict(f"report {old.id} is already superseded by {old.superseded_by}; "
                               "correct that one instead")
        same = conn.execute(select(revenue_reports.c.id, revenue_reports.c.log_index).where(
            revenue_reports.c.rows_sha256 == sha)).first()
        if same is not None and (same.id != supersedes or not _differences(
                report_body(conn, same.log_index), booked, rate_list)):
            raise Conflict(f"{path}: these rows are already imported as {same.id}; a correction "
                           "must change them (or its rates or booking period)")
        _refuse_rows_already_booked(conn, path, rows, supersedes)
    body: dict[str, Any] = {"id": rid, "reporter": rep.id, "period": booked,
                            "rows_sha256": sha, "rows": rows, "rates": rate_list,
                            "file": Path(path).name}
    if supersedes:
        body["supersedes"] = supersedes
    receipt = submit_as(home, ledger, "revenue.reported", rep.id, body, sealed=sealed)
    return {"id": rid, "log_index": receipt.index, "rows_sha256": sha, "new": True,
            "period": booked, **receipt.details}


def _differences(booked: dict[str, Any], period: str, rates: list[dict]) -> list[str]:
    """What the re-import says differently from the booked report (rates, period), in words."""
    out = []
    if booked["period"] != period:
        out.append(f"booking period {period} here, {booked['period']} booked")
    old = {(r["from"], r["to"]): r for r in booked["rates"]}
    new = {(r["from"], r["to"]): r for r in rates}
    for pair in sorted(old.keys() | new.keys()):
        name = f"{pair[0]}:{pair[1]}"
        if pair not in new:
            out.append(f"no {name} rate here, {old[pair]['rate']} booked")
        elif pair not in old:
            out.append(f"{name} rate {new[pair]['rate']} here, none booked")
        else:
            for field, label in (("rate", "rate"), ("source", "rate source"),
                                 ("date", "rate date")):
                if old[pair][field] != new[pair][field]:
                    out.append(f"{name} {label} {new[pair][field]} here, "
                               f"{old[pair][field]} booked")
    return out


def _refuse_rows_already_booked(conn: Connection, path: Path, rows: list[dict[str, str]],
                                supersedes: str | None) -> None:
    """A row whose (production, period, territory, currency) a current report already books is
    a re-submission of that report: refused, naming the differences, unless it supersedes it."""
    keys = {(r["production"], r["period"], r["territory"], r["currency"]): r for r in rows}
    query = (select(revenue_rows, revenue_reports.c.id.label("rid"))
             .join(revenue_reports, revenue_reports.c.id == revenue_rows.c.report_id)
             .where(revenue_rows.c.production_id.in_({k[0] for k in keys}),
                    revenue_reports.c.superseded_by.is_(None)))
    if supersedes:
        query = query.where(revenue_reports.c.id != supersedes)
    clashes: dict[str, list[str]] = defaultdict(list)
    for b in conn.execute(query.order_by(revenue_rows.c.report_id, revenue_rows.c.line)):
        new = keys.get((b.production_id, b.period, b.territory, b.currency))
        if new is None:
            continue
        old_gross = format_amount(int(b.gross), b.currency)
        old_ded = format_amount(int(b.deductions), b.currency)
        what = f"{b.production_id} {b.period} {b.territory} {b.currency}"
        if (old_gross, old_ded) == (new["gross"], new["deductions"]):
            clashes[b.rid].append(f"{what} (same amounts)")
        else:
            clashes[b.rid].append(f"{what} gross {new['gross']} here, {old_gross} booked, "
                                  f"deductions {new['deductions']} here, {old_ded} booked")
    if clashes:
        rid, lines = sorted(clashes.items())[0]
        more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
        raise Conflict(f"{path}: report {rid} already books {'; '.join(lines[:3])}{more}; to "
                       f"correct it, import the full corrected report with --supersedes {rid}")


# -- applier --------------------------------------------------------------------------------------
_LINE_COLUMNS = ("report_id", "production_id", "period", "payee_id", "role", "bundle_id",
                 "work_id", "rule", "currency", "amount", "log_index")
_POSTING_COLUMNS = ("journal", "seq", "account", "currency", "amount", "log_index")
_ROW_COLUMNS = ("report_id", "line", "production_id", "period", "territory", "currency", "gross",
                "deductions")


def _account(payee: str, role: str) -> str:
    if payee.startswith(SUSPENSE):  # held for an unmatched credit (fund/suspense.py)
        return payee
    return f"retained:{payee}" if role == "retained" else f"payee:{payee}"


@applier("revenue.reported")
@each_statement
def _apply_one(conn: Connection, a: Accepted) -> dict[str, Any]:
    b, actor = a.statement.body, a.statement.actor
    if "rows" not in b:  # sealed, replayed without its body: the report, not its money
        return _report_without_rows(conn, a)
    if rows_sha256(canonical_rows(b["rows"])) != b["rows_sha256"] or \
            canonical_rows(b["rows"]) != b["rows"]:
        raise BadInput("rows_sha256 is not the SHA-256 of the report's sorted canonical rows")
    # A sealed report's id is drawn at random: one derived from its rows' hash would let anyone
    # test guessed rows against it. (Same rows twice are still refused below, by the hash.)
    if a.statement.sealed is None and \
            b["id"] != derived_id("rev", b["reporter"], b["rows_sha256"], b.get("supersedes", "")):
        raise BadInput(f"report id {b['id']} is not derived from its reporter and rows")
    for i, r in enumerate(b["rows"]):
        if (why := territory_problem(r["territory"])) is not None:
            raise InvalidStatement(f"{r['territory']!r}: {why}",
                                   f"/statement/body/rows/{i}/territory")
    same_rows = (revenue_reports.c.rows_sha256 == b["rows_sha256"]) \
        & revenue_reports.c.superseded_by.is_(None)
    if "supersedes" in b:  # a correction of the rates or the booking period keeps the rows
        same_rows &= revenue_reports.c.id != b["supersedes"]
    if conn.execute(select(revenue_reports.c.id).where(
            (revenue_reports.c.id == b["id"]) | same_rows)).first():
        raise Conflict(f"report {b['id']} (or one with the same rows) is already imported")
    kind = conn.scalar(select(parties.c.kind).where(parties.c.id == actor))
    studios = dict(conn.execute(select(productions.c.id, productions.c.studio_id).where(
        productions.c.id.in_({r["production"] for r in b["rows"]}))).all())
    for r in b["rows"]:
        if r["production"] not in studios:
            raise NotFound(f"production {r['production']} is not registered")
        if kind != "fund" and studios[r["production"]] != actor:
            raise PolicyDenied(f"{actor} is not the studio of {r['production']}; only its studio "
                               "or the fund operator reports its revenue")
    old = None
    if "supersedes" in b:
        old = conn.execute(select(revenue_reports).where(
            revenue_reports.c.id == b["supersedes"])).first()
        if old is None:
            raise NotFound(f"report {b['supersedes']} (superseded) is not imported")
        if old.superseded_by is not None:
            raise Conflict(f"report {old.id} is already superseded by {old.superseded_by}; "
                           "correct that one instead")
        if old.reporter_id != actor:
            raise PolicyDenied(f"only {old.reporter_id}, who reported {old.id}, may correct it")
    pools = report_pools(conn, b, a.index)
    conn.execute(revenue_reports.insert().values(
        id=b["id"], reporter_id=actor, period=b["period"], rows_sha256=b["rows_sha256"],
        supersedes_id=b.get("supersedes"), file=b.get("file"), log_index=a.index,
        reported_at=a.time))
    insert_rows(conn, revenue_rows, _ROW_COLUMNS, [
        (b["id"], i + 1, r["production"], r["period"], r["territory"], r["currency"],
         parse_amount(r["gross"], r["currency"]), parse_amount(r["deductions"], r["currency"]))
        for i, r in enumerate(b["rows"])])
    lines, postings = [], []
    for p in pools:
        journal = f"pool:{b['id']}:{p.production}:{p.period}"
        postings.append((journal, 0, journal, p.currency, -p.net, a.index))
        for seq, (k, amount) in enumerate(sorted(p.amounts.items()), start=1):
            if amount and not k.payee.startswith(SUSPENSE):  # suspense: journal only
                lines.append((b["id"], p.production, p.period, k.payee, k.role, k.bundle,
                              k.work, k.rule, p.currency, amount, a.index))
            postings.append((journal, seq, _account(k.payee, k.role), p.currency, amount,
                             a.index))
    if old is not None:
        postings += _reversal(conn, old.id, b["id"], a.index)
        conn.execute(update(revenue_reports).where(revenue_reports.c.id == old.id)
                     .values(superseded_by=b["id"]))
    insert_rows(conn, fund_lines, _LINE_COLUMNS, lines)
    insert_rows(conn, fund_postings, _POSTING_COLUMNS, postings)
    return {"id": b["id"], "pools": [{"production": p.production, "period": p.period,
                                      "currency": p.currency,
                                      "net": format_amount(p.net, p.currency)} for p in pools]}


def _report_without_rows(conn: Connection, a: Accepted) -> dict[str, Any]:
    """A sealed report replayed without its body (a rebuild from tiles, a replica): who reported
    for which quarter stands; its rows, pools and postings read "body unavailable"."""
    b = a.statement.body
    conn.execute(revenue_reports.insert().values(
        id=b["id"], reporter_id=a.statement.actor, period=b["period"], rows_sha256="",
        supersedes_id=b.get("supersedes"), log_index=a.index, reported_at=a.time))
    if "supersedes" in b:
        conn.execute(update(revenue_reports).where(revenue_reports.c.id == b["supersedes"])
                     .values(superseded_by=b["id"]))
    return {"id": b["id"], "pools": []}


def _reversal(conn: Connection, old_id: str, new_id: str, index: int) -> list[tuple]:
    """Journals reversing the superseded report's pools (history stays; the net is the diff)."""
    by_pool: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for r in conn.execute(select(fund_postings).where(
            fund_postings.c.journal.like(f"pool:{old_id}:%")).order_by(
            fund_postings.c.journal, fund_postings.c.seq)):
        by_pool[(r.journal, r.account, r.currency)].append(r)
    out = []
    seqs: dict[str, int] = defaultdict(int)
    for (journal, account, currency), rs in sorted(by_pool.items()):
        rev = f"reverse:{new_id}:{journal[len('pool:'):]}"[:120]
        out.append((rev, seqs[rev], account, currency, -sum(int(r.amount) for r in rs), index))
        seqs[rev] += 1
    return out
