"""Earnings as an inline SVG bar chart: one panel per currency, a group of bars per period and a
bar per production, every label inside the picture.

Currencies are never added together (no rate is implied), so each currency gets its own panel
and scale. The chart is a deterministic function of its input (the royalty statement's HTML is
re-rendered byte for byte by ``fund verify``), needs no script and no style sheet (presentation
attributes only, so a Content-Security-Policy without inline styles allows it), and scales with
its container (``viewBox``; the page gives it ``width: 100%``).
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["EarningsBar", "earnings_svg", "grouped_amount"]

#: Distinguishable colours with at least 3:1 contrast on white (WCAG 1.4.11 for graphics).
COLOURS = ("#1f5fa8", "#b3261e", "#2e7d32", "#8a4f00", "#6a3d9a", "#00697a", "#8c1d5c",
           "#4d5a00")
#: Layout (SVG user units): the period column, the production label, the bar (longest bar
#: _BAR_W), room for the amount after it; one row per bar.
_LABEL_X, _BAR_X, _BAR_W, _WIDTH, _ROW, _LABEL_CHARS = 80, 320, 300, 800, 24, 60


@dataclass(frozen=True)
class EarningsBar:
    """One amount: what a production earned in a period, in one currency (major units)."""

    period: str
    production: str
    currency: str
    amount: Decimal


def grouped_amount(value: Decimal) -> str:
    """``Decimal("1234567.50")`` -> ``1,234,567.50``: thousands separators, the exact digits
    (a JPY amount has none after the point, a USD amount two)."""
    return f"{value:,f}"


def _fit(text: str, chars: int = _LABEL_CHARS) -> str:
    return text if len(text) <= chars else text[:chars - 1] + "…"


def _panel(currency: str, bars: list[EarningsBar], productions: list[str],
           y0: int) -> tuple[list[str], int]:
    """One currency: a horizontal bar per (period, production), its label on the left and its
    amount on the right, so every label fits whatever the titles and amounts."""
    e = html.escape
    value: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for b in bars:
        value[(b.period, b.production)] += b.amount
    top = max([abs(v) for v in value.values()] + [Decimal("0.01")])
    total = sum(value.values(), Decimal(0))
    out = [f'<text x="0" y="{y0 + 18}" font-size="16" font-weight="bold" fill="#1a1a1a">'
           f'{e(currency)}: {e(grouped_amount(total))} in all</text>']
    y = y0 + 30
    for period in sorted({p for p, _ in value}):
        out.append(f'<text x="0" y="{y + 15}" font-size="13" font-weight="bold" '
                   f'fill="#1a1a1a">{e(period)}</text>')
        for j, title in enumerate(productions):
            v = value.get((period, title))
            if v is None:
                continue
            w = max(2, int(abs(v) / top * _BAR_W))
            amount = f"{grouped_amount(v)} {currency}"
            out.append(f'<text x="{_LABEL_X}" y="{y + 15}" font-size="13" fill="#1a1a1a">'
                       f'{e(_fit(title, 30))}</text>')
            out.append(f'<rect x="{_BAR_X}" y="{y + 3}" width="{w}" height="{_ROW - 8}" '
                       f'fill="{COLOURS[j % len(COLOURS)]}"><title>{e(title)}, {e(period)}: '
                       f'{e(amount)}</title></rect>')
            out.append(f'<text x="{_BAR_X + w + 6}" y="{y + 15}" font-size="13" '
                       f'fill="#1a1a1a">{e(amount)}</text>')
            y += _ROW
        y += 6
    return out, y - y0


def earnings_svg(bars: list[EarningsBar], *, label: str = "Earnings") -> str:
    """The chart, or a sentence when there is nothing to draw."""
    if not bars:
        return "<p>No earnings yet.</p>"
    e = html.escape
    currencies = sorted({b.currency for b in bars})
    productions = sorted({b.production for b in bars})
    parts: list[str] = []
    y = 0
    for c in currencies:
        panel, h = _panel(c, [b for b in bars if b.currency == c], productions, y)
        parts += panel
        y += h + 14
    summary = ", ".join(currencies)
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" '
            f'height="{y}" viewBox="0 0 {_WIDTH} {y}" role="img" '
            f'aria-label="{e(label)} by period and production, in {e(summary)}" '
            f'font-family="system-ui, sans-serif">' + "".join(parts) + "</svg>")
