"""The usage chart as inline SVG, drawn on the server: no JavaScript, readable on a phone, prints well.

Stacked bars, one a day: answered (green), "did you mean" (amber), declined (red), with a text
alternative for screen readers that says the totals in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.console.views import UsageDay

COLOURS = {"answer": "#1b7f3b", "suggest": "#c98a00", "decline": "#b3261e"}
LABELS = {"answer": "answered", "suggest": "did you mean", "decline": "declined"}


def usage_svg(days: Sequence[UsageDay], width: int = 640, height: int = 240) -> str:
    """A stacked bar chart of questions a day by outcome, as an ``<svg>`` element."""
    left, bottom, top = 36, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([day.total for day in days] + [1])
    step = plot_w / max(len(days), 1)
    bar = max(step * 0.7, 1.0)
    totals = {outcome: sum(day.counts.get(outcome, 0) for day in days) for outcome in COLOURS}
    summary = (f"Questions a day over {len(days)} days: {sum(totals.values())} in all, "
               + ", ".join(f"{totals[o]} {LABELS[o]}" for o in COLOURS) + ".")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'class="chart" aria-labelledby="chart-title"><title id="chart-title">{escape(summary)}</title>']
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for index, day in enumerate(days):
        x = left + index * step + (step - bar) / 2
        y = top + plot_h
        for outcome, colour in COLOURS.items():
            count = day.counts.get(outcome, 0)
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                         f'<title>{day.day:%d %b}: {count} {LABELS[outcome]}</title></rect>')
        if index % max(1, len(days) // 6) == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                         f'{day.day.day} {day.day:%b}</text>')
    parts.append("</svg>")
    return "".join(parts)
