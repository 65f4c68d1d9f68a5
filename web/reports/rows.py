"""The report as a reader sees it: the tables' cells, and the two charts'
bars drawn as SVG on the server (no script, no chart library; the table
beside each chart carries the same numbers). Presentation only: the figures
are `followup.reports`' and, for each section other apps add, theirs
(`followup.report_figures`).

A rate's cell says its percentage and, under it, its 95 % interval in
words ("likely 10.8 to 60.3 %" with an en dash); nothing to measure is a
dash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from followup import reports
from followup.report_figures import FigureDefinition, Value
from followup.stats import Rate

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


# --- the tables' cells ---------------------------------------------------------

NOTHING = "\u2013"  # an en dash: nothing to measure
HEADER_OF = dict(zip(reports.FIGURES, FIGURE_HEADERS, strict=True))


@dataclass(frozen=True)
class Cell:
    text: str
    interval: str = ""
    # A figure shown beside it for comparison, in words.
    beside: str = ""


def rate_cell(rate: Rate) -> Cell:
    if rate.interval is None:
        return Cell(NOTHING)
    low, high = rate.interval
    return Cell(f"{rate.pct}%", interval=f"likely {low}\u2013{high}%")


def value_cell(value: Value) -> Cell:
    if isinstance(value, Rate):
        return rate_cell(value)
    return Cell(NOTHING if value is None else str(value))


def _core_value(figures: reports.Figures, name: str) -> Value:
    if name in reports.RATES:
        return figures.rate(name)
    value: Value = getattr(figures, name)
    return value


def core_cells(figures: reports.Figures) -> list[Cell]:
    """Follow-up's own figures, in the table's order."""
    return [value_cell(_core_value(figures, name)) for name in reports.FIGURES]


@dataclass(frozen=True)
class SectionRow:
    rule_name: str
    surgeon_name: str
    cells: list[Cell]


@dataclass
class SectionTable:
    """A provider's figures as a table: a row per rule x surgeon, totals
    last, and each figure's meaning."""

    key: str
    title: str
    figures: tuple[FigureDefinition, ...]
    rows: list[SectionRow] = field(default_factory=list)
    totals: list[Cell] = field(default_factory=list)


def _cells(
    figures: tuple[FigureDefinition, ...],
    values: dict[str, Value],
    core: reports.Figures,
) -> list[Cell]:
    out = []
    for figure in figures:
        cell = value_cell(values.get(figure.name))
        if figure.beside in HEADER_OF:
            twin = value_cell(_core_value(core, figure.beside))
            words = f"{HEADER_OF[figure.beside]}: {twin.text}"
            if twin.interval:
                words += f" ({twin.interval})"
            cell = Cell(cell.text, cell.interval, beside=words)
        out.append(cell)
    return out


def section_tables(report: reports.Report) -> list[SectionTable]:
    """Each provider's section of `report`, in registration order."""
    tables = []
    for index, section in enumerate(report.sections):
        provider = section.provider
        table = SectionTable(provider.key, provider.title, provider.figures)
        for row in report.rows:
            values = row.sections[index].values
            table.rows.append(
                SectionRow(
                    row.rule_name,
                    row.surgeon_name,
                    _cells(provider.figures, values, row.figures),
                )
            )
        table.totals = _cells(provider.figures, section.values, report.totals)
        tables.append(table)
    return tables
