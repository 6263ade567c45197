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
_BAR, _GAP, _PLOT_H, _LEFT, _LABEL_CHARS = 22, 26, 150, 96, 44


@dataclass(frozen=True)
class EarningsBar:
    """One amount: what a production earned in a period, in one currency (major units)."""

    period: str
    production: str
    currency: str
    amount: Decimal


def grouped_amount(value: Decimal) -> str:
    """``1234567.5`` -> ``1,234,567.50`` (two decimals at least; the exact digits kept)."""
    text = f"{value:,f}"
    whole, _, frac = text.partition(".")
    return f"{whole}.{(frac + '00')[:max(2, len(frac))]}"


def _fit(text: str, chars: int = _LABEL_CHARS) -> str:
    return text if len(text) <= chars else text[:chars - 1] + "…"


def _panel(currency: str, bars: list[EarningsBar], productions: list[str], y0: int,
           width: int) -> tuple[list[str], int]:
    e = html.escape
    periods = sorted({b.period for b in bars})
    value: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for b in bars:
        value[(b.period, b.production)] += b.amount
    top = max([abs(v) for v in value.values()] + [Decimal("0.01")])
    total = sum(value.values(), Decimal(0))
    out = [f'<text x="0" y="{y0 + 16}" font-size="15" font-weight="bold" fill="#1a1a1a">'
           f'{e(currency)}: {e(grouped_amount(total))} in all</text>']
    base = y0 + 32 + _PLOT_H
    out.append(f'<text x="{_LEFT - 8}" y="{y0 + 40}" font-size="12" text-anchor="end" '
               f'fill="#333">{e(grouped_amount(top))}</text>')
    out.append(f'<text x="{_LEFT - 8}" y="{base}" font-size="12" text-anchor="end" '
               f'fill="#333">0</text>')
    out.append(f'<line x1="{_LEFT}" y1="{y0 + 36}" x2="{width}" y2="{y0 + 36}" '
               f'stroke="#d0d0d0"/>')
    group = len(productions) * _BAR + _GAP
    for i, period in enumerate(periods):
        x0 = _LEFT + 10 + i * group
        for j, title in enumerate(productions):
            v = value.get((period, title))
            if v is None:
                continue
            h = max(1, int(abs(v) / top * _PLOT_H))
            y = base - h if v >= 0 else base
            out.append(f'<rect x="{x0 + j * _BAR}" y="{y}" width="{_BAR - 4}" height="{h}" '
                       f'fill="{COLOURS[j % len(COLOURS)]}"><title>{e(title)}, {e(period)}: '
                       f'{e(grouped_amount(v))} {e(currency)}</title></rect>')
        out.append(f'<text x="{x0 + (len(productions) * _BAR - 4) / 2}" y="{base + 18}" '
                   f'font-size="12" text-anchor="middle" fill="#1a1a1a">{e(period)}</text>')
    out.append(f'<line x1="{_LEFT}" y1="{base}" x2="{width}" y2="{base}" stroke="#555"/>')
    return out, base + 30 - y0


def earnings_svg(bars: list[EarningsBar], *, label: str = "Earnings") -> str:
    """The chart, or a sentence when there is nothing to draw."""
    if not bars:
        return "<p>No earnings yet.</p>"
    e = html.escape
    currencies = sorted({b.currency for b in bars})
    productions = sorted({b.production for b in bars})
    groups = max(len({b.period for b in bars if b.currency == c}) for c in currencies)
    width = max(_LEFT + 10 + groups * (len(productions) * _BAR + _GAP), 420)
    parts: list[str] = []
    y = 0
    for c in currencies:
        panel, h = _panel(c, [b for b in bars if b.currency == c], productions, y, width)
        parts += panel
        y += h + 10
    for j, title in enumerate(productions):  # the legend: one line per production
        parts.append(f'<rect x="0" y="{y + j * 20}" width="14" height="14" '
                     f'fill="{COLOURS[j % len(COLOURS)]}"/><text x="20" y="{y + j * 20 + 12}" '
                     f'font-size="13" fill="#1a1a1a">{e(_fit(title))}</text>')
    y += len(productions) * 20 + 4
    summary = ", ".join(currencies)
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {y}" '
            f'role="img" aria-label="{e(label)} by period and production, in {e(summary)}" '
            f'font-family="system-ui, sans-serif">' + "".join(parts) + "</svg>")
