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

__all__ = ["ID_PREFIXES", "LOADERS", "Loader", "id_pattern"]

Loader = Callable[["Database", "DatabaseLog", str], dict[str, Any]]

#: Each record kind's id prefix (``pty_…``); ids are the prefix, "_" and 16 of [a-z2-7].
ID_PREFIXES: dict[str, str] = {
    "party": "pty", "work": "wrk", "bundle": "bnd", "license": "lic", "run": "run",
    "certificate": "crt", "output": "out", "consent": "cns", "production": "prd",
    "dispute": "dsp", "revenue_report": "rev", "royalty_statement": "fst",
}


def id_pattern(kind: str) -> str:
    """The regular expression of a ``kind`` id."""
    return rf"{ID_PREFIXES[kind]}_[a-z2-7]{{16}}"


def _party(db: Database, log: DatabaseLog, ref: str) -> dict[str, Any]:
    from ..registry.parties import party_detail

    return party_detail(db, ref).to_json()


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


#: Record kind -> its loader. A kind here without a row in the matrix is refused by a test.
LOADERS: dict[str, Loader] = {
    "party": _party, "work": _work, "bundle": _bundle, "license": _license, "run": _run,
    "certificate": _certificate, "output": _output, "consent": _consent,
    "production": _production, "dispute": _dispute, "revenue_report": _revenue_report,
    "royalty_statement": _royalty_statement,
}
