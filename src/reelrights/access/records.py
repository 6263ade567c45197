"""The records the service reads by id: one loader per kind of the visibility matrix.

Each loader answers the JSON that ``reelrights <thing> show --json`` prints (the capability's
own ``*_detail``/``show`` function), or, for the fund's private records, the registry's record
with its rows. A loader never resolves a name and never opens a file: the service passes ids
only (:data:`ID_PREFIXES` gives each kind's id form). What a reader sees of a record is decided
by :func:`reelrights.access.visibility.read_visible`, never here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..store.fund_tables import revenue_rows

if TYPE_CHECKING:
    from ..log.database_log import DatabaseLog
    from ..store.db import Database

__all__ = ["ID_PREFIXES", "KEY_PATTERNS", "LOADERS", "MIN_PRODUCTIONS", "Loader", "id_example",
           "id_pattern"]

Loader = Callable[["Database", "DatabaseLog", str], dict[str, Any]]

#: Each record kind's id prefix (``pty_…``); ids are the prefix, "_" and 16 of [a-z2-7].
ID_PREFIXES: dict[str, str] = {
    "party": "pty", "work": "wrk", "bundle": "bnd", "license": "lic", "run": "run",
    "certificate": "crt", "output": "out", "consent": "cns", "production": "prd",
    "dispute": "dsp", "revenue_report": "rev", "royalty_statement": "fst",
}


#: Kinds keyed by something other than a registry id: fund totals by quarter (``2027-Q1``).
KEY_PATTERNS: dict[str, tuple[str, str]] = {"fund_totals": (r"[0-9]{4}-Q[1-4]", "2027-Q1")}
#: Fewest productions whose revenue makes a quarter's fund totals public (issue 13 point 5).
MIN_PRODUCTIONS = 3


def id_pattern(kind: str) -> str:
    """The regular expression of a ``kind`` id (or key)."""
    if kind in KEY_PATTERNS:
        return KEY_PATTERNS[kind][0]
    return rf"{ID_PREFIXES[kind]}_[a-z2-7]{{16}}"


def id_example(kind: str) -> str:
    return KEY_PATTERNS[kind][1] if kind in KEY_PATTERNS else f"{ID_PREFIXES[kind]}_k3vq7xw2m4a6c5de"


def _party(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..identity.display import party_shown

    return party_shown(db, ref)  # with its verified identity and look-alike names


def _work(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..registry.works import work_detail

    return work_detail(db, ref).to_json()


def _bundle(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..rights.bundles import bundle_detail

    return bundle_detail(db, ref).to_json()


def _license(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..rights.licensing import license_detail

    return license_detail(db, ref).to_json()


def _run(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..evidence.audit_status import run_show

    return run_show(db, log, ref)


def _certificate(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..evidence.certificates import show_certificate

    return show_certificate(db, ref).to_json()


def _output(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..outputs.records import output_detail

    return output_detail(db, ref).to_json()


def _consent(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..rights.consent import consent_detail

    return consent_detail(db, ref).to_json()


def _production(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..fund.productions import production_detail

    return production_detail(db, ref).to_json()


def _dispute(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..rights.disputes import dispute_detail

    return dispute_detail(db, ref).to_json()


def _revenue_report(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    """The report's record and its rows (production, period, territory, currency, gross and
    deductions in minor units), in line order."""
    from ..fund.records import REVENUE_REPORT
    from ..store.resolve import resolve_row

    with db.read() as conn:
        row = resolve_row(conn, REVENUE_REPORT, ref)
        out = REVENUE_REPORT.to_record(conn, row).to_json()
        out["rows"] = [
            {"line": r.line, "production": r.production_id, "period": r.period,
             "territory": r.territory, "currency": r.currency, "gross": int(r.gross),
             "deductions": int(r.deductions)}
            for r in conn.execute(select(revenue_rows).where(revenue_rows.c.report_id == row.id)
                                  .order_by(revenue_rows.c.line))]
    return out


def _royalty_statement(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    """The issued statement's record, its totals as signed, and its whole document (every
    line), rebuilt from the log as of the statement's ``as_of`` (its SHA-256 is the record's)."""
    from ..fund.records import ROYALTY_STATEMENT
    from ..fund.royalty_statements import build_document, totals
    from ..store.resolve import resolve_row

    with db.read() as conn:
        row = resolve_row(conn, ROYALTY_STATEMENT, ref)
        rec = ROYALTY_STATEMENT.to_record(conn, row)
        doc = build_document(conn, rec.party_id, rec.period, rec.as_of, rec.threshold,
                             rec.fund_id)
    return {**rec.to_json(), "totals": totals(doc), "document": doc}


def _fund_totals(db: Database, log: DatabaseLog, quarter: str) -> dict[str, Any]:
    """What the fund allocated from the revenue of one quarter: per currency, and per
    production, from the lines of every report still current (a corrected report counts as
    its correction). ``productions`` is how many productions contributed."""
    from ..core.money import format_amount
    from ..fund.types import quarter_of
    from ..store.fund_tables import fund_lines, revenue_reports

    totals: dict[str, int] = {}
    per: dict[tuple[str, str], int] = {}
    with db.read() as conn:
        rows = conn.execute(
            select(fund_lines.c.production_id, fund_lines.c.period, fund_lines.c.currency,
                   fund_lines.c.amount)
            .join(revenue_reports, revenue_reports.c.id == fund_lines.c.report_id)
            .where(revenue_reports.c.superseded_by.is_(None),
                   fund_lines.c.period.like(quarter[:4] + "%")))
        for r in rows:
            if quarter_of(r.period) != quarter:
                continue
            totals[r.currency] = totals.get(r.currency, 0) + int(r.amount)
            key = (r.production_id, r.currency)
            per[key] = per.get(key, 0) + int(r.amount)
    return {"period": quarter, "productions": len({p for p, _ in per}),
            "totals": [{"currency": c, "amount": format_amount(a, c)}
                       for c, a in sorted(totals.items())],
            "by_production": [{"production": p, "currency": c, "amount": format_amount(a, c)}
                              for (p, c), a in sorted(per.items())]}


#: Record kind -> its loader. A kind here without a row in the matrix is refused by a test.
LOADERS: dict[str, Loader] = {
    "party": _party, "work": _work, "bundle": _bundle, "license": _license, "run": _run,
    "certificate": _certificate, "output": _output, "consent": _consent,
    "production": _production, "dispute": _dispute, "revenue_report": _revenue_report,
    "royalty_statement": _royalty_statement, "fund_totals": _fund_totals,
}
