"""The review history as a picture: average scores of each check-in over time (matplotlib, Agg).

Drawn on a bare ``Figure`` with the Agg canvas (no pyplot), so it holds no global state and can run in
a worker thread while the bot keeps answering; returns PNG bytes ready for ``sendPhoto``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

#: A fixed colour for each question so charts are comparable from one month to the next.
COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


def render_chart(title: str, points: Sequence[tuple[date, Mapping[str, float]]],
                 labels: Mapping[str, str]) -> bytes:
    """A line per question (``labels``: key -> legend label) over the check-in dates; PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for index, (key, label) in enumerate(labels.items()):
        series = [(day, values[key]) for day, values in points if key in values]
        if not series:
            continue
        axes.plot([d for d, _ in series], [v for _, v in series], marker="o", linewidth=2, markersize=5,
                  color=COLOURS[index % len(COLOURS)], label=label)
    axes.set_ylim(0.8, 5.2)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.set_ylabel("Average score (1 = not at all, 5 = fully)")
    axes.axhspan(0.8, 2.5, color="#fbe3e3", zorder=0)
    locator = AutoDateLocator(minticks=2, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    if len(points) == 1:
        from datetime import timedelta

        only = points[0][0]
        axes.set_xlim(only - timedelta(days=15), only + timedelta(days=15))  # type: ignore[arg-type]
    axes.grid(True, alpha=0.3)
    axes.set_title(title[:80])
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
