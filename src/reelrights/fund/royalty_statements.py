"""Fund statements: one party, one quarter, recomputed from the log and signed by the fund.

The document is modelled on DDEX DSR: a header (HEAD: party, period, usage dates, the log size it
was computed at), summary records per currency (SY: earned, adjustments, carried in, paid,
carried forward, retained), one line per production, work, role and rule with its basis, the
adjustment lines of corrected reports (the difference, never a rewrite), a rounding line, a
footer of control totals (FOOT) and the SHA-256 of its inputs (the log entries it draws on).

It is a pure function of (party, period, as_of, threshold, fund) and the log: every report's
pools are recomputed from the report's signed rows and the facts recorded before it. So a rerun
is byte-identical, the fund's ``fund.statement`` applier re-derives the document before it
accepts the hash, and ``reelrights fund verify`` recomputes it and names any difference.
"""

from __future__ import annotations

import calendar
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, select

from ..core.canonical import canonical_bytes
from ..core.fund_rules import Line, fraction_text
from ..core.money import format_amount, parse_amount
from ..core.royalty import apply_threshold
from ..errors import BadInput
from ..store.fund_tables import productions, revenue_reports
from ..store.resolve import find_many
from ..store.tables import log_entries, parties
from .allocation import Pool, report_body, report_pools
from .records import REVENUE_REPORT, RevenueReport
from .suspense import SUSPENSE, released_claims
from .types import parse_period, quarter_of

__all__ = ["FORMAT", "build_document", "document_sha256"]

FORMAT = "reelrights-fund-statement/1"


def _quarter_key(q: str) -> tuple[int, int]:
    year, first, _ = parse_period(q)
    return year, first


class _Replay:
    """Each report's pools, recomputed once per document (as of the report's own log index)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cache: dict[str, list[Pool]] = {}

    def pools(self, report: RevenueReport) -> list[Pool]:
        if report.id not in self.cache:
            body = report_body(self.conn, report.log_index)
            self.cache[report.id] = report_pools(self.conn, body, report.log_index)
        return self.cache[report.id]


def _party_lines(pools: list[Pool], party: str, aliases: frozenset[str] = frozenset()
                 ) -> dict[tuple[str, str, Line], tuple[int, Fraction, Pool]]:
    """The party's lines of ``pools``; ``aliases``: suspense payees whose money was released to
    the party (the old side of a correction booked after the release)."""
    out = {}
    for p in pools:
        for k, amount in p.amounts.items():
            if k.payee == party or k.payee in aliases:
                out[(p.production, p.period, k)] = (amount, p.shares[k] * p.net, p)
    return out


def _line_json(kind: str, report: RevenueReport, key: tuple[str, str, Line], amount: int,
               exact: Fraction, pool: Pool, titles: dict[str, str],
               previous: int | None = None) -> dict[str, Any]:
    prod, period, k = key
    cur = pool.currency
    out = {"kind": kind, "report": report.id, "production": prod, "title": titles[prod],
           "revenue_period": period, "currency": cur, "pool_net": format_amount(pool.net, cur),
           "basis": pool.basis["basis"], "bundle": k.bundle, "work": k.work, "role": k.role,
           "rule": k.rule, "share": fraction_text(pool.shares.get(k, Fraction(0))),
           "exact_minor": fraction_text(exact), "amount": format_amount(amount, cur)}
    if report.supersedes_id is not None:
        out["supersedes"] = report.supersedes_id
        out["previous_amount"] = format_amount(previous or 0, cur)
    return out


def _released_entries(replay: _Replay, reports: list[RevenueReport], claim: str, index: int,
                      titles: dict[str, str]) -> list[tuple[dict[str, Any], int, Fraction]]:
    """The lines of the suspense account of ``claim`` released at log ``index``: every line
    of the reports booked before it that no report booked before it superseded (so exactly the
    account's balance at the release; tests/test_suspense.py checks them against the journal)."""
    before = [r for r in reports if r.log_index < index]
    replaced = {r.supersedes_id for r in before if r.supersedes_id is not None}
    out = []
    for r in sorted(before, key=lambda r: r.log_index):
        if r.id in replaced:
            continue
        lines = _party_lines(replay.pools(r), SUSPENSE + claim)
        for key in sorted(lines):
            amount, exact, pool = lines[key]
            if amount or exact:
                j = _line_json("earning", r, key, amount, exact, pool, titles)
                j["released_from_suspense"] = claim
                out.append((j, amount, exact))
    return out


def _quarter_entries(replay: _Replay, reports: list[RevenueReport], party: str,
                     titles: dict[str, str], released: Sequence[tuple[str, int]] = ()
                     ) -> list[tuple[dict[str, Any], int, Fraction]]:
    """(line json, amount, exact) of ``party`` for the reports booked in one quarter.
    ``released``: (claim, log index) of suspense released to the party before these reports'
    corrections, whose lines count as the party's on the old side of a correction."""
    by_id = {r.id: r for r in find_many(replay.conn, REVENUE_REPORT)}
    out = []
    for r in reports:
        new = _party_lines(replay.pools(r), party)
        if r.supersedes_id is None:
            for key in sorted(new):
                amount, exact, pool = new[key]
                if amount or exact:
                    kind = "retained" if key[2].role == "retained" else "earning"
                    out.append((_line_json(kind, r, key, amount, exact, pool, titles),
                                amount, exact))
            continue
        aliases = frozenset(SUSPENSE + c for c, idx in released if idx < r.log_index)
        old = _party_lines(replay.pools(by_id[r.supersedes_id]), party, aliases)
        for key in sorted(set(new) | set(old)):
            a_new, x_new, _ = new.get(key, (0, Fraction(0), None))
            a_old, x_old, _ = old.get(key, (0, Fraction(0), None))
            if a_new == a_old and x_new == x_old:
                continue
            pool = (new.get(key) or old[key])[2]
            kind = "retained" if key[2].role == "retained" else "adjustment"
            out.append((_line_json(kind, r, key, a_new - a_old, x_new - x_old, pool, titles,
                                   previous=a_old), a_new - a_old, x_new - x_old))
    return out


def build_document(conn: Connection, party: str, period: str, as_of: int, threshold: str,
                   fund: str) -> dict[str, Any]:
    """The statement document of ``party`` for quarter ``period`` from the log below ``as_of``."""
    try:
        year, first, last = parse_period(period)
    except ValueError as exc:
        raise BadInput(f"--period {period!r}: {exc}") from None
    if first == last:
        raise BadInput(f"--period {period!r}: statements are quarterly; write e.g. 2027-Q1")
    who = conn.execute(select(parties).where(parties.c.id == party)).first()
    if who is None:
        raise BadInput(f"party {party} is not registered")
    titles = dict(conn.execute(select(productions.c.id, productions.c.title)).all())
    reports = find_many(conn, REVENUE_REPORT, revenue_reports.c.log_index < as_of)
    target = _quarter_key(period)
    quarters: dict[str, list[RevenueReport]] = defaultdict(list)
    for r in reports:
        if _quarter_key(r.period) <= target:
            quarters[r.period].append(r)
    # Suspense released to the party (a confirmed claim, an expiry) is paid in the quarter of
    # the release's log time.
    released = [(c, idx) for c, idx, _ in released_claims(conn, party, as_of)]
    release_quarter: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for c, idx, t in released_claims(conn, party, as_of):
        q = quarter_of(t[:7])
        if _quarter_key(q) <= target:
            release_quarter[q].append((c, idx))
            quarters.setdefault(q, [])
    replay = _Replay(conn)
    carried: dict[str, int] = {}
    lines: list[tuple[dict[str, Any], int, Fraction]] = []
    history: dict[tuple[str, str, str], int] = defaultdict(int)
    summary: list[dict[str, Any]] = []
    for q in sorted(quarters, key=_quarter_key):
        entries = _quarter_entries(replay, quarters[q], party, titles, released)
        for c, idx in release_quarter.get(q, []):
            entries += _released_entries(replay, reports, c, idx, titles)
        balances: dict[str, int] = defaultdict(int)
        for j, amount, _ in entries:
            if j["kind"] != "retained":
                balances[j["currency"]] += amount
                history[(q, j["production"], j["currency"])] += amount
        thresholds = {c: parse_amount(threshold, c, what="--threshold")
                      for c in set(balances) | set(carried)}
        paid: dict[str, int] = {}
        forward: dict[str, int] = {}
        for c in sorted(thresholds):
            p, f = apply_threshold({c: balances.get(c, 0)}, thresholds[c],
                                   {c: carried.get(c, 0)} if c in carried else None)
            paid.update(p)
            forward.update(f)
        if q == period:
            lines = entries
            for c in sorted(set(balances) | set(carried) | {j["currency"] for j, _, _ in entries}):
                sel = [(j, a) for j, a, _ in entries if j["currency"] == c]
                summary.append({
                    "currency": c,
                    "earned": format_amount(sum(a for j, a in sel if j["kind"] == "earning"), c),
                    "adjustments": format_amount(sum(a for j, a in sel
                                                     if j["kind"] == "adjustment"), c),
                    "retained": format_amount(sum(a for j, a in sel if j["kind"] == "retained"), c),
                    "carried_in": format_amount(carried.get(c, 0), c),
                    "paid": format_amount(paid.get(c, 0), c),
                    "carried_forward": format_amount(forward.get(c, 0), c)})
        carried = forward
    if period not in quarters:
        for c in sorted(carried):
            summary.append({"currency": c, "earned": format_amount(0, c),
                            "adjustments": format_amount(0, c), "retained": format_amount(0, c),
                            "carried_in": format_amount(carried[c], c),
                            "paid": format_amount(0, c),
                            "carried_forward": format_amount(carried[c], c)})
    rounding = []
    for c in sorted({j["currency"] for j, _, _ in lines}):
        exact = sum((x for j, _, x in lines if j["currency"] == c), Fraction(0))
        paid_minor = sum(a for j, a, _ in lines if j["currency"] == c)
        rounding.append({"currency": c, "exact_minor": fraction_text(exact),
                         "rounded_minor": paid_minor,
                         "rounding_minor": fraction_text(paid_minor - exact)})
    used = [r for q in quarters for r in quarters[q]]
    inputs = {"as_of": as_of, "reports": [
        {"id": r.id, "log_index": r.log_index, "rows_sha256": r.rows_sha256,
         "leaf_hash": bytes(conn.execute(select(log_entries.c.leaf_hash)
                                         .where(log_entries.c.idx == r.log_index)).scalar_one()).hex()}
        for r in sorted(used, key=lambda r: r.log_index)]}
    body_lines = [j for j, _, _ in lines]
    doc = {
        "format": FORMAT,
        "header": {"party": party, "party_name": who.name, "party_kind": who.kind,
                   "fund": fund, "period": period,
                   "usage_start": f"{year}-{first:02d}-01",
                   "usage_end": f"{year}-{last:02d}-{calendar.monthrange(year, last)[1]:02d}",
                   "as_of": as_of, "threshold": threshold},
        "summary": summary,
        "lines": body_lines,
        "rounding": rounding,
        "history": [{"period": q, "production": p, "title": titles[p], "currency": c,
                     "amount": format_amount(a, c)}
                    for (q, p, c), a in sorted(history.items(),
                                               key=lambda kv: (_quarter_key(kv[0][0]), kv[0][1:]))],
        "footer": {"number_of_lines": len(body_lines),
                   "number_of_summary_records": len(summary),
                   "number_of_productions": len({j["production"] for j in body_lines}),
                   "number_of_adjustments": sum(1 for j in body_lines if j["kind"] == "adjustment"),
                   "control_totals": [{"currency": r["currency"],
                                       "sum_of_lines": format_amount(r["rounded_minor"],
                                                                     r["currency"])}
                                      for r in rounding]},
        "inputs": inputs,
        "inputs_sha256": hashlib.sha256(canonical_bytes(inputs)).hexdigest(),
    }
    return doc


def document_sha256(doc: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(doc)).hexdigest()


def totals(doc: dict[str, Any]) -> list[dict[str, str]]:
    """The summary fields the ``fund.statement`` body carries."""
    return [{k: s[k] for k in ("currency", "earned", "adjustments", "carried_in", "paid",
                               "carried_forward")} for s in doc["summary"]]
