"""The royalty statement a performer reads (fund/royalty_statement_render.py): what she was paid
comes first, per currency, with thousands separators; every currency and production is in the
chart; plain-language columns; the audit detail folded below; nothing wider than the page."""

from __future__ import annotations

import re
from decimal import Decimal

from reelrights.fund.earnings_chart import EarningsBar, earnings_svg, grouped_amount
from reelrights.fund.royalty_statement_render import render, rule_words


def _doc() -> dict:
    lines, history, summary = [], [], []
    for cur, amount, title in (("EUR", "1234.50", "Harbour Lights: Return"),
                               ("JPY", "1500000", "Tokyo Nights"),
                               ("USD", "987654.32", "A Production With A Very Long Title That "
                                                    "Would Not Fit A Legend Of Fixed Width")):
        for period in ("2027-Q1", "2027-Q2"):
            history.append({"period": period, "production": "prd_x", "title": title,
                            "currency": cur, "amount": amount})
        lines.append({"kind": "earning", "report": "rev_" + "a" * 16, "production": "prd_x",
                      "title": title, "revenue_period": "2027-Q2", "currency": cur,
                      "pool_net": amount, "basis": "units:items", "bundle": "bnd_x",
                      "work": "wrk_x", "role": "performer",
                      "rule": "R-CREDIT@10+R-GUILD:agr_x@17", "share": "1/3",
                      "exact_minor": "1", "amount": amount})
        summary.append({"currency": cur, "earned": amount, "adjustments": "0", "retained": "0",
                        "carried_in": "0", "paid": amount, "carried_forward": "0"})
    return {"format": "x", "header": {"party": "pty_x", "party_name": "Ada Okafor",
                                      "party_kind": "performer", "fund": "pty_f",
                                      "period": "2027-Q2", "usage_start": "2027-04-01",
                                      "usage_end": "2027-06-30", "as_of": 40, "threshold": "10"},
            "summary": summary, "lines": lines, "history": history, "rounding": [],
            "footer": {"number_of_lines": 3, "number_of_summary_records": 3,
                       "number_of_productions": 3, "control_totals": []},
            "inputs_sha256": "0" * 64}


def test_the_statement_leads_with_what_she_was_paid_in_every_currency() -> None:
    html = render(_doc(), "fst_" + "a" * 16, 41, "html").decode()
    paid = html.index("What you were paid")
    assert paid < html.index("<svg") < html.index("<details>")
    for text in ("1,234.50 EUR", "1,500,000 JPY", "987,654.32 USD"):
        assert text in html[paid:html.index("<svg")], text


def test_the_chart_shows_every_currency_and_production() -> None:
    html = render(_doc(), "fst_" + "a" * 16, 41, "html").decode()
    svg = html[html.index("<svg"):html.index("</svg>")]
    for cur in ("EUR", "JPY", "USD"):
        assert f">{cur}: " in svg, cur
    assert "Harbour Lights: Return" in svg and "Tokyo Nights" in svg
    assert svg.count("<rect") == 6  # 3 currencies x 2 periods
    # labels fit: long titles are shortened in the picture (the full title in its tooltip)
    for label in re.findall(r">([^<>]+)</text>", svg):
        assert len(label) <= 60, label
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    assert width <= 800 and "max-width:100%" in html.replace(" ", "")


def test_plain_columns_titles_not_ids_and_rules_in_words() -> None:
    html = render(_doc(), "fst_" + "a" * 16, 41, "html").decode()
    plain = html[html.index("Where the money came from"):html.index("<details>")]
    assert "Your role" in plain and "Amount" in plain and "exact_minor" not in plain
    assert "prd_x" not in plain and "Tokyo Nights" in plain
    assert "R-CREDIT" not in plain and "your credited share of the work" in plain
    audit = html[html.index("<details>"):]
    assert "R-CREDIT@10" in audit and "exact_minor" in audit and "0" * 64 in audit
    assert "overflow-x:auto" in html and ".wrap" in html


def test_grouped_amounts_keep_their_digits() -> None:
    assert grouped_amount(Decimal("1234567.50")) == "1,234,567.50"
    assert grouped_amount(Decimal("1500000")) == "1,500,000"
    assert grouped_amount(Decimal("-0.05")) == "-0.05"
    assert rule_words("R-RETAIN") == "kept by the producer"
    assert rule_words("X-NEW") == "X-NEW"  # an unknown rule is shown, not dropped


def test_the_chart_is_a_sentence_when_there_is_nothing() -> None:
    assert earnings_svg([]) == "<p>No earnings yet.</p>"
    svg = earnings_svg([EarningsBar("2027-Q1", "<b>", "USD", Decimal("-5.00"))])
    assert "<b>" not in svg and "&lt;b&gt;" in svg
