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
from decimal import Decimal
from typing import Any

from .earnings_chart import EarningsBar, earnings_svg, grouped_amount

__all__ = ["render", "rule_words", "wrapper"]


def wrapper(doc: dict[str, Any], statement_id: str, log_index: int,
            tlog_proof: str | None = None) -> dict[str, Any]:
    out = {"statement_id": statement_id, "log_index": log_index, "document": doc}
    if tlog_proof is not None:  # its offline proof (c2sp.org/tlog-proof text), docs/verify.md
        out["tlog_proof"] = tlog_proof
    return out


def render(doc: dict[str, Any], statement_id: str, log_index: int, fmt: str,
           tlog_proof: str | None = None) -> bytes:
    """The statement's file; ``tlog_proof`` (JSON only) embeds its offline proof."""
    if tlog_proof is not None and fmt != "json":
        raise ValueError("only the JSON rendering embeds a proof")
    if fmt == "json":
        return (json.dumps(wrapper(doc, statement_id, log_index, tlog_proof), indent=2,
                           sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
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


def _grouped(text: str) -> str:
    """``"1234567.50"`` -> ``"1,234,567.50"`` (thousands separators, the exact digits)."""
    return grouped_amount(Decimal(text)) if text not in ("", None) else ""


_RULES = (("R-CREDIT", "your credited share of the work"),
          ("R-GUILD", "less the guild fund's share under its agreement"),
          ("R-UNCREDITED", "the rights holder's uncredited part"),
          ("R-HOLDER", "the rights holder's part"), ("R-RETAIN", "kept by the producer"))


def rule_words(code: str) -> str:
    """A line's rule code in words (the code itself stays in the audit detail)."""
    out = []
    for part in code.split("+"):
        words = next((w for prefix, w in _RULES if part.startswith(prefix)), part)
        out.append(words)
    return "; ".join(out)


_KIND_WORDS = {"earning": "earned", "adjustment": "correction of an earlier period",
               "retained": "kept by the producer"}


def _chart(history: list[dict[str, Any]]) -> str:
    """Earnings per period and production, every currency in its own panel."""
    return earnings_svg([EarningsBar(h["period"], h["title"], h["currency"],
                                     Decimal(h["amount"])) for h in history],
                        label="Earnings")


def _table(fields: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(f, '')))}</td>" for f in fields)
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = ("body{font-family:system-ui,sans-serif;margin:0 auto;padding:1.5em;max-width:60em;"
          "color:#1a1a1a;line-height:1.5}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em}"
          ".cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #ccc;border-radius:6px;"
          "padding:.6em 1em;min-width:12em}.big{font-size:1.6em;font-weight:700}"
          ".wrap{overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.6em 0}"
          "td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top;"
          "overflow-wrap:break-word}td.n,th.n{text-align:right;white-space:nowrap;"
          "font-variant-numeric:tabular-nums}svg{max-width:100%;height:auto}"
          "details{margin:1em 0}summary{cursor:pointer;font-weight:600}small{color:#555}"
          "table.audit td,table.audit th{font-size:.8em}")


def _plain_lines(lines: list[dict[str, Any]]) -> str:
    e = html.escape
    rows = []
    for li in lines:
        rows.append(
            f"<tr><td>{e(li.get('title', ''))}</td><td>{e(li.get('revenue_period', ''))}</td>"
            f"<td>{e(_KIND_WORDS.get(li.get('kind', ''), li.get('kind', '')))}</td>"
            f"<td>{e(li.get('role', ''))}</td><td>{e(rule_words(li.get('rule', '')))}</td>"
            f"<td class=\"n\">{e(_grouped(li.get('amount', '')))} {e(li.get('currency', ''))}"
            "</td></tr>")
    return ("<div class=\"wrap\"><table><thead><tr><th>Production</th><th>Revenue period</th>"
            "<th>What</th><th>Your role</th><th>How it was worked out</th>"
            "<th class=\"n\">Amount</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></div>")


def _html(doc: dict[str, Any], statement_id: str, log_index: int) -> bytes:
    h = doc["header"]
    e = html.escape
    cards = "".join(
        f"<div class=\"card\"><div>Paid in {e(s['currency'])}</div>"
        f"<div class=\"big\">{e(_grouped(s['paid']))} {e(s['currency'])}</div>"
        f"<small>earned {e(_grouped(s['earned']))}, corrections {e(_grouped(s['adjustments']))}"
        f", carried forward {e(_grouped(s['carried_forward']))}</small></div>"
        for s in doc["summary"])
    productions = sorted({li.get("title", "") for li in doc["lines"]})
    out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
           f'<meta name="reelrights-statement" content="{e(statement_id)}">',
           f"<title>Royalty statement {e(h['period'])}: {e(h['party_name'])}</title>",
           f"<style>{STYLE}</style></head><body>",
           f"<h1>Your royalty statement, {e(h['party_name'])}: {e(h['period'])}</h1>",
           f"<h2>What you were paid</h2><div class=\"cards\">{cards or '<p>Nothing this period.</p>'}"
           "</div>",
           f"<p>For use from {e(h['usage_start'])} to {e(h['usage_end'])}, from the productions "
           f"{e(', '.join(p for p in productions if p)) or 'none'}. Amounts under "
           f"{e(h['threshold'])} are carried forward to the next statement.</p>",
           "<h2>Earnings by period and production</h2>", _chart(doc["history"]),
           "<h2>Where the money came from</h2>", _plain_lines(doc["lines"]),
           "<details><summary>Audit detail: rules, exact fractions, rounding, inputs</summary>",
           f"<p>Party {e(h['party'])} ({e(h['party_kind'])}); computed from the log below index "
           f"{h['as_of']}; issued by {e(h['fund'])} as {e(statement_id)} (log index "
           f"{log_index}). Anyone can recompute it: <code>reelrights fund verify</code>.</p>",
           "<h3>Summary</h3>", _table(_SUMMARY_FIELDS, doc["summary"]),
           "<h3>Lines</h3>", f"<div class=\"wrap\"><table class=\"audit\">"
           f"{_table(_LINE_FIELDS, doc['lines'])[7:]}</div>",
           "<h3>Rounding</h3>", _table(("currency", "exact_minor", "rounded_minor",
                                        "rounding_minor"), doc["rounding"]),
           "<h3>Control totals</h3>",
           _table(("currency", "sum_of_lines"), doc["footer"]["control_totals"]),
           f"<p>Lines {doc['footer']['number_of_lines']}, summary records "
           f"{doc['footer']['number_of_summary_records']}, productions "
           f"{doc['footer']['number_of_productions']}. Inputs SHA-256 "
           f"<code>{e(doc['inputs_sha256'])}</code>.</p></details>",
           "</body></html>\n"]
    return "\n".join(out).encode("utf-8")
