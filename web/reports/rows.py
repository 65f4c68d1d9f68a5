"""The report as a reader sees it: the table's columns, and the two charts'
bars drawn as SVG on the server (no script, no chart library; the table
beside each chart carries the same numbers). Presentation only: the figures
are `followup.reports`'.
"""

from __future__ import annotations

from dataclasses import dataclass

from followup import reports

# The stacked bar's parts, in order: (figure, label, CSS class).
OUTCOMES = (
    ("completed_in_window", "Seen in window", "seg--in"),
    ("completed_late", "Seen late", "seg--late"),
    ("lost", "Lost", "seg--lost"),
    ("open", "Open", "seg--open"),
)
CHART_WIDTH = 640
LABEL_WIDTH = 190
BAR_HEIGHT = 22
ROW_GAP = 14
# The table's headers after "Rule" and "Surgeon", one per figure, in the
# order the `figures` partial writes them.
FIGURE_HEADERS = (
    "Due",
    "Seen in window",
    "Seen late",
    "Lost",
    "Open",
    "% in window",
    "Median days, window open to booking",
    "% contacted before close",
    "% back within 15 days of first call",
)
TABLE_COLUMNS = 2 + len(FIGURE_HEADERS)


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    css: str
    label: str
    count: int


@dataclass(frozen=True)
class Bar:
    """A chart's row: its label, its top, and what a screen reader hears."""

    name: str
    y: int
    summary: str

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5


@dataclass(frozen=True)
class OutcomeBar(Bar):
    due: int
    segments: list[Segment]


@dataclass(frozen=True)
class PctBar(Bar):
    width: float
    value: float | None

    @property
    def value_x(self) -> float:
        return LABEL_WIDTH + self.width + 6


def _plot_width() -> int:
    return CHART_WIDTH - LABEL_WIDTH - 60


def outcome_bars(groups: list[tuple[str, reports.Figures]]) -> list[OutcomeBar]:
    """A bar per rule: seen in window, late, lost and open as parts of due."""
    bars = []
    plot = _plot_width()
    for index, (name, figures) in enumerate(groups):
        x = float(LABEL_WIDTH)
        segments = []
        for figure, label, css in OUTCOMES:
            count = getattr(figures, figure)
            width = plot * count / figures.due if figures.due else 0.0
            segments.append(Segment(round(x, 1), round(width, 1), css, label, count))
            x += width
        summary = ", ".join(f"{s.label.lower()} {s.count}" for s in segments)
        bars.append(
            OutcomeBar(
                name=name,
                y=index * (BAR_HEIGHT + ROW_GAP),
                due=figures.due,
                segments=segments,
                summary=f"{name}: {figures.due} due; {summary}.",
            )
        )
    return bars


def pct_bars(groups: list[tuple[str, reports.Figures]]) -> list[PctBar]:
    """A bar per surgeon: the share of visits seen in their window."""
    bars = []
    for index, (name, figures) in enumerate(groups):
        value = figures.pct_in_window
        shown = "no visit due" if value is None else f"{value}%"
        bars.append(
            PctBar(
                name=name,
                y=index * (BAR_HEIGHT + ROW_GAP),
                width=round(_plot_width() * (value or 0) / 100, 1),
                value=value,
                summary=f"{name}: {shown} seen in window.",
            )
        )
    return bars


def chart_height(count: int) -> int:
    return max(count, 1) * (BAR_HEIGHT + ROW_GAP)
