"""Rendering a fund statement as JSON, CSV (DSR-style records) or HTML with an inline SVG chart.

Every rendering is a deterministic function of the document and the statement's id and log
index, so ``fund verify`` re-renders and compares byte for byte. The HTML needs nothing from the
network: no scripts, no fonts, the chart is inline SVG.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

__all__ = ["render", "wrapper"]


def wrapper(doc: dict[str, Any], statement_id: str, log_index: int) -> dict[str, Any]:
    return {"statement_id": statement_id, "log_index": log_index, "document": doc}


def render(doc: dict[str, Any], statement_id: str, log_index: int, fmt: str) -> bytes:
    if fmt == "json":
        return (json.dumps(wrapper(doc, statement_id, log_index), indent=2, sort_keys=True,
                           ensure_ascii=False) + "\n").encode("utf-8")
    if fmt == "csv":
        return _csv(doc, statement_id, log_index)
    if fmt == "html":
        return _html(doc, statement_id, log_index)
    raise ValueError(fmt)


_LINE_FIELDS = ("kind", "report", "production", "title", "revenue_period", "currency",
                "pool_net", "basis", "bundle", "work", "role", "rule", "share", "exact_minor",
                "amount", "previous_amount", "supersedes")
_SUMMARY_FIELDS = ("currency", "earned", "adjustments", "retained", "carried_in", "paid",
                   "carried_forward")


def _csv(doc: dict[str, Any], statement_id: str, log_index: int) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    h = doc["header"]
    w.writerow(["HEAD", doc["format"], statement_id, log_index, h["party"], h["party_name"],
                h["fund"], h["period"], h["usage_start"], h["usage_end"], h["as_of"],
                h["threshold"], doc["inputs_sha256"]])
    w.writerow(["#SY", *_SUMMARY_FIELDS])
    for s in doc["summary"]:
        w.writerow(["SY", *(s[f] for f in _SUMMARY_FIELDS)])
    w.writerow(["#LI", *_LINE_FIELDS])
    for li in doc["lines"]:
        w.writerow(["LI", *(li.get(f, "") for f in _LINE_FIELDS)])
    for r in doc["rounding"]:
        w.writerow(["RO", r["currency"], r["exact_minor"], r["rounded_minor"], r["rounding_minor"]])
    f = doc["footer"]
    w.writerow(["FOOT", f["number_of_lines"], f["number_of_summary_records"],
                f["number_of_productions"], f["number_of_adjustments"],
                *(f"{c['currency']}={c['sum_of_lines']}" for c in f["control_totals"])])
    return buf.getvalue().encode("utf-8")


def _chart(history: list[dict[str, Any]]) -> str:
    """Grouped bars: earnings per quarter (groups) and production (bars), one currency each."""
    if not history:
        return "<p>No earnings yet.</p>"
    currency = sorted({h["currency"] for h in history})[0]
    rows = [h for h in history if h["currency"] == currency]
    periods = sorted({h["period"] for h in rows})
    prods = sorted({(h["production"], h["title"]) for h in rows})
    value: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for h in rows:
        value[(h["period"], h["production"])] += Decimal(h["amount"])
    top = max([abs(v) for v in value.values()] + [Decimal(1)])
    bar, gap, height = 18, 14, 160
    width = 60 + len(periods) * (len(prods) * bar + gap)
    colours = ["#3465a4", "#cc0000", "#73d216", "#f57900", "#75507b", "#c4a000"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 60}" '
             f'role="img" aria-label="Earnings by production and period ({currency})">']
    base = height + 10
    parts.append(f'<line x1="50" y1="{base}" x2="{width}" y2="{base}" stroke="#555"/>')
    parts.append(f'<text x="2" y="14" font-size="11">{html.escape(currency)} {top}</text>')
    for i, period in enumerate(periods):
        x0 = 60 + i * (len(prods) * bar + gap)
        for j, (pid, title) in enumerate(prods):
            v = value.get((period, pid), Decimal(0))
            bar_h = int(abs(v) / top * height)
            y = base - bar_h if v >= 0 else base
            parts.append(f'<rect x="{x0 + j * bar}" y="{y}" width="{bar - 2}" height="{bar_h}" '
                         f'fill="{colours[j % len(colours)]}"><title>{html.escape(title)} '
                         f'{period}: {v} {currency}</title></rect>')
        parts.append(f'<text x="{x0}" y="{base + 16}" font-size="11">{period}</text>')
    for j, (_pid, title) in enumerate(prods):
        parts.append(f'<rect x="{60 + j * 150}" y="{base + 28}" width="10" height="10" '
                     f'fill="{colours[j % len(colours)]}"/><text x="{74 + j * 150}" '
                     f'y="{base + 37}" font-size="11">{html.escape(title)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(fields: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(f, '')))}</td>" for f in fields)
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(doc: dict[str, Any], statement_id: str, log_index: int) -> bytes:
    h = doc["header"]
    e = html.escape
    out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f'<meta name="reelrights-statement" content="{e(statement_id)}">',
           f"<title>Creative fund statement {e(h['period'])}: {e(h['party_name'])}</title>",
           "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
           "margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}"
           "td{text-align:right}</style></head><body>",
           f"<h1>Creative fund statement, {e(h['period'])}</h1>",
           f"<p>Party <b>{e(h['party_name'])}</b> ({e(h['party'])}, {e(h['party_kind'])}); "
           f"usage {e(h['usage_start'])} to {e(h['usage_end'])}; computed from the log below "
           f"index {h['as_of']}; payout threshold {e(h['threshold'])}; issued by {e(h['fund'])} as "
           f"{e(statement_id)} (log index {log_index}).</p>",
           "<h2>Earnings by production and period</h2>", _chart(doc["history"]),
           "<h2>Summary</h2>", _table(_SUMMARY_FIELDS, doc["summary"]),
           "<h2>Lines</h2>", _table(_LINE_FIELDS, doc["lines"]),
           "<h2>Rounding</h2>", _table(("currency", "exact_minor", "rounded_minor",
                                        "rounding_minor"), doc["rounding"]),
           "<h2>Control totals</h2>",
           _table(("currency", "sum_of_lines"), doc["footer"]["control_totals"]),
           f"<p>Lines {doc['footer']['number_of_lines']}, summary records "
           f"{doc['footer']['number_of_summary_records']}, productions "
           f"{doc['footer']['number_of_productions']}. Inputs SHA-256 "
           f"<code>{e(doc['inputs_sha256'])}</code>.</p>",
           "</body></html>\n"]
    return "\n".join(out).encode("utf-8")
