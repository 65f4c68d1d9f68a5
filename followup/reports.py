"""The clinic's follow-up figures: every figure defined once, here.

The API (`GET /api/reports/follow-up/`), its CSV and the `/reports/` page
all call `follow_up_report`; none computes a figure of its own.

**The cohort** is the visits whose window ends within [from, to] (both
included). Visits the system cancelled because their procedure was
cancelled or entered in error, because a correction re-planned them away,
or because the annual-review programme ended, never were follow-ups owed
to a patient: they are left out.

**A row** is one rule x one surgeon. The surgeon of a visit is the one it
is (or was last) booked with, else the one who operated: the person who
sees the patient answers for the visit, and a visit never booked belongs
to its operating surgeon.

**Rates** carry their 95 % Wilson interval (`followup.stats`): the API and
the CSV give `<rate>_ci_low` and `<rate>_ci_high` beside each.

**Other apps' figures** (the messages, the booking links) come through
`followup.report_figures`: each registered provider measures the same
cohort and adds named figures to the totals and to each row, after
follow-up's own; follow-up never imports those apps.

The cohort and the SQL that counts it are `followup.report_cohort`'s.

**Cost**: three queries whatever the data size (and each provider's own):
one grouped query of conditional counts (rule x surgeon), one `values_list`
of the booking
delays of the booked cohort visits (the medians are taken in Python from
it: portable across PostgreSQL and SQLite, and exact, where SQLite has no
`percentile_cont`), and one for the surgeons' names. Totals add up the
rows' counts (every count is additive) and take the median over all the
delays.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from clinic.models import Surgeon
from clinic.staff import Staff
from followup import report_figures
from followup.models import Visit, VisitQuerySet
from followup.report_cohort import booking_delays, cohort, grouped_counts
from followup.report_figures import FigureProvider, ReportScope, Value
from followup.stats import Rate

# The longest period a report may cover (the API answers 400 beyond it).
MAX_REPORT_DAYS = 5 * 366

FIGURES = (
    "due",
    "completed_in_window",
    "completed_late",
    "lost",
    "open",
    "pct_in_window",
    "median_days_window_open_to_booking",
    "pct_contacted_before_close",
    "pct_returned_within_15_days_of_first_call",
)
# The rates among FIGURES, each (part, whole) of `Figures`' counts.
RATES = {
    "pct_in_window": ("completed_in_window", "due"),
    "pct_contacted_before_close": ("contacted_before_close", "due"),
    "pct_returned_within_15_days_of_first_call": ("returned_within_15_days", "called"),
}
# Follow-up's own columns in the API and CSV: each rate's interval beside it.
COLUMNS = tuple(
    column
    for name in FIGURES
    for column in (
        (name, f"{name}_ci_low", f"{name}_ci_high") if name in RATES else (name,)
    )
)


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


@dataclass
class Figures:
    """The figures of one row (or of the totals); the counts behind them.

    - `due`: the cohort visits (of the row).
    - `completed_in_window`: completed, the start's clinic-local date inside
      the window (first to last day included).
    - `completed_late`: completed, the start's local date after the window's
      end.
    - `lost`: cancelled as declined, moved away or deceased, or cancelled by
      hand with no such cause (the visit will not happen either), or
      *unreachable*: still to book (or after a no-show) with
      `FOLLOWUP_MAX_FAILED_ATTEMPTS` unsuccessful attempts in a row.
    - `open`: neither completed nor lost: still to book, booked, checked in
      or after a no-show (and reachable). A visit completed before its
      window opened (only with a recorded override) is completed but
      neither in its window nor late, so due may exceed the sum of the
      other four by such visits.
    - `pct_in_window`: completed_in_window / due x 100, one decimal; null
      when due is 0.
    - `median_days_window_open_to_booking`: over the visits booked at least
      once, the days from the window's first day to the clinic-local date
      of the first booking (negative when booked before the window
      opened); null when none was booked.
    - `pct_contacted_before_close`: the visits with a contact attempt or a
      booking made on or before the window's last day (clinic-local), out
      of due; null when due is 0.
    - `pct_returned_within_15_days_of_first_call`: among the visits with at
      least one contact attempt, those booked or completed within 15 days
      (15 x 24 h) after the first attempt; null when none had an attempt.
    """

    due: int = 0
    completed_in_window: int = 0
    completed_late: int = 0
    lost: int = 0
    open: int = 0
    contacted_before_close: int = 0
    called: int = 0
    returned_within_15_days: int = 0
    booking_delays: list[int] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        for name in (
            "due",
            "completed_in_window",
            "completed_late",
            "lost",
            "open",
            "contacted_before_close",
            "called",
            "returned_within_15_days",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.booking_delays.extend(other.booking_delays)

    def rate(self, name: str) -> Rate:
        """One of `RATES`, with its interval."""
        part, whole = RATES[name]
        return Rate(getattr(self, part), getattr(self, whole))

    @property
    def pct_in_window(self) -> float | None:
        return self.rate("pct_in_window").pct

    @property
    def median_days_window_open_to_booking(self) -> float | None:
        return _median(self.booking_delays)

    @property
    def pct_contacted_before_close(self) -> float | None:
        return self.rate("pct_contacted_before_close").pct

    @property
    def pct_returned_within_15_days_of_first_call(self) -> float | None:
        return self.rate("pct_returned_within_15_days_of_first_call").pct

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in FIGURES:
            out[name] = getattr(self, name)
            if name in RATES:
                rate = self.rate(name)
                out[f"{name}_ci_low"], out[f"{name}_ci_high"] = (
                    rate.ci_low,
                    rate.ci_high,
                )
        return out


@dataclass
class Section:
    """A provider's figures (`followup.report_figures`): for the totals, or
    for one row."""

    provider: FigureProvider
    values: dict[str, Value]

    def as_dict(self) -> dict[str, Any]:
        return report_figures.flatten(self.provider.figures, self.values)


@dataclass
class Row:
    rule: str
    rule_name: str
    surgeon: int
    surgeon_name: str
    figures: Figures
    sections: list[Section] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "rule": self.rule,
            "rule_name": self.rule_name,
            "surgeon": self.surgeon,
            "surgeon_name": self.surgeon_name,
            **self.figures.as_dict(),
        }
        for section in self.sections:
            out.update(section.as_dict())
        return out


@dataclass
class Report:
    start: dt.date
    end: dt.date
    rows: list[Row]
    totals: Figures
    sections: list[Section] = field(default_factory=list)

    def by_rule(self) -> list[tuple[str, Figures]]:
        """(rule name, figures) per rule over the report's surgeons."""
        return _combined(self.rows, lambda row: (row.rule_name, row.rule))

    def by_surgeon(self) -> list[tuple[str, Figures]]:
        """(surgeon name, figures) per surgeon over the report's rules."""
        return _combined(self.rows, lambda row: (row.surgeon_name, str(row.surgeon)))

    def as_dict(self) -> dict[str, Any]:
        totals = self.totals.as_dict()
        for section in self.sections:
            totals.update(section.as_dict())
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "rows": [row.as_dict() for row in self.rows],
            "totals": totals,
        }


def _combined(
    rows: list[Row], key: Callable[[Row], tuple[str, str]]
) -> list[tuple[str, Figures]]:
    """Rows added up by (name, id), the names sorted."""
    combined: dict[tuple[str, str], Figures] = {}
    for row in rows:
        combined.setdefault(key(row), Figures()).add(row.figures)
    return [(name, figures) for (name, _), figures in sorted(combined.items())]


def follow_up_report(
    *,
    visits: VisitQuerySet,
    start: dt.date,
    end: dt.date,
    rule: str | None = None,
    surgeon_id: int | None = None,
    providers: Sequence[FigureProvider] | None = None,
) -> Report:
    """The figures of the cohort of `visits` (already scoped to the reader)
    whose window ends within [start, end], by rule x surgeon, and in total.

    `rule` (a code) and `surgeon_id` (the row's surgeon) narrow the cohort.
    `providers` add their figures (default: every registered one).
    """
    base = cohort(visits, start, end)
    if rule is not None:
        base = base.filter(rule__code=rule)
    if surgeon_id is not None:
        base = base.filter(Q(row_surgeon=surgeon_id))
    rows, totals = _rows(grouped_counts(base), booking_delays(base))
    rows.sort(key=lambda row: (row.rule_name, row.surgeon_name, row.surgeon))
    report = Report(start=start, end=end, rows=rows, totals=totals)
    if providers is None:
        providers = report_figures.registered()
    scope = ReportScope(cohort=base, start=start, end=end)
    for provider in providers:
        _add_section(report, provider, provider.measure(scope))
    return report


def _add_section(
    report: Report, provider: FigureProvider, measured: report_figures.ProvidedFigures
) -> None:
    report.sections.append(Section(provider, measured.totals))
    for row in report.rows:
        values = measured.rows.get((row.rule, row.surgeon), {})
        row.sections.append(Section(provider, values))


def _rows(
    counted: list[dict[str, Any]], by_row: dict[tuple[str, int], list[int]]
) -> tuple[list[Row], Figures]:
    """A row of figures per rule x surgeon, and their totals."""
    names = {
        surgeon.pk: str(surgeon)
        for surgeon in Surgeon.objects.filter(
            pk__in={entry["row_surgeon"] for entry in counted}
        )
    }
    rows: list[Row] = []
    totals = Figures()
    for entry in counted:
        key = (entry["rule__code"], entry["row_surgeon"])
        figures = Figures(
            due=entry["due"],
            completed_in_window=entry["completed_in_window"],
            completed_late=entry["completed_late"],
            lost=entry["lost"],
            open=entry["open"],
            contacted_before_close=entry["contacted_before_close"],
            called=entry["called"],
            returned_within_15_days=entry["returned_within_15_days"],
            booking_delays=by_row.get(key, []),
        )
        totals.add(figures)
        rows.append(
            Row(
                rule=key[0],
                rule_name=entry["rule__name"],
                surgeon=key[1],
                surgeon_name=names.get(key[1], ""),
                figures=figures,
            )
        )
    return rows, totals


def report_for(
    staff: Staff,
    *,
    start: dt.date,
    end: dt.date,
    rule: str | None = None,
    surgeon_id: int | None = None,
) -> Report:
    """The report as `staff` may read it: the front desk and admins every
    row; a surgeon their own row only (the visits booked with them, and
    those of their operations never booked with anyone), so a surgeon
    asking for another surgeon gets no row."""
    visits = Visit.objects.visible_to(staff)
    if not staff.sees_everything and staff.surgeon_id is not None:
        own = staff.surgeon_id
        visits = visits.filter(
            Q(surgeon_id=own) | Q(surgeon__isnull=True, procedure__surgeon_id=own)
        )
    return follow_up_report(
        visits=visits, start=start, end=end, rule=rule, surgeon_id=surgeon_id
    )


# The CSV download's first columns; the figures follow in the API's order.
CSV_HEADER = ["rule", "rule_name", "surgeon", "surgeon_name", *COLUMNS]


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    """A report's `as_dict()` as CSV rows: the header, a row per rule x
    surgeon, the totals last. Write them with `core.csv_safety.writer`."""
    figures = list(report["totals"])  # follow-up's, then each provider's
    header = [*CSV_HEADER[:4], *figures]
    out: list[list[Any]] = [header]
    for row in report["rows"]:
        out.append([_cell(row.get(name)) for name in header])
    totals = report["totals"]
    total_row = ["total", "All rules", "", "All surgeons"]
    out.append(total_row + [_cell(totals[name]) for name in figures])
    return out


def _cell(value: object) -> object:
    return "" if value is None else value
