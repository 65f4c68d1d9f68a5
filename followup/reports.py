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

**Cost**: three queries whatever the data size: one grouped query of
conditional counts (rule x surgeon), one `values_list` of the booking
delays of the booked cohort visits (the medians are taken in Python from
it: portable across PostgreSQL and SQLite, and exact, where SQLite has no
`percentile_cont`), and one for the surgeons' names. Totals add up the
rows' counts (every count is additive) and take the median over all the
delays.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from clinic.clock import clinic_zone, local_date
from clinic.models import Surgeon
from clinic.staff import Staff
from followup.models import (
    CancelReason,
    ContactAttempt,
    Visit,
    VisitEvent,
    VisitQuerySet,
    VisitStatus,
)

# System cancellations: not follow-ups owed to anyone, so not in the cohort.
EXCLUDED_CAUSES = (
    CancelReason.PROCEDURE_CANCELLED,
    CancelReason.ENTERED_IN_ERROR,
    CancelReason.REPLANNED,
    CancelReason.PROGRAMME_ENDED,
)
BOOKING_ACTIONS = ("booked", "rebooked")
RETURN_DAYS = 15
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


def _pct(part: int, whole: int) -> float | None:
    """part / whole x 100, one decimal, halves rounded up (81.25 -> 81.3)."""
    if whole == 0:
        return None
    exact = Decimal(part * 100) / Decimal(whole)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


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

    @property
    def pct_in_window(self) -> float | None:
        return _pct(self.completed_in_window, self.due)

    @property
    def median_days_window_open_to_booking(self) -> float | None:
        return _median(self.booking_delays)

    @property
    def pct_contacted_before_close(self) -> float | None:
        return _pct(self.contacted_before_close, self.due)

    @property
    def pct_returned_within_15_days_of_first_call(self) -> float | None:
        return _pct(self.returned_within_15_days, self.called)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIGURES}


@dataclass
class Row:
    rule: str
    rule_name: str
    surgeon: int
    surgeon_name: str
    figures: Figures

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "rule_name": self.rule_name,
            "surgeon": self.surgeon,
            "surgeon_name": self.surgeon_name,
            **self.figures.as_dict(),
        }


@dataclass
class Report:
    start: dt.date
    end: dt.date
    rows: list[Row]
    totals: Figures

    def by_rule(self) -> list[tuple[str, Figures]]:
        """(rule name, figures) per rule over the report's surgeons."""
        return _combined(self.rows, lambda row: (row.rule_name, row.rule))

    def by_surgeon(self) -> list[tuple[str, Figures]]:
        """(surgeon name, figures) per surgeon over the report's rules."""
        return _combined(self.rows, lambda row: (row.surgeon_name, str(row.surgeon)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "rows": [row.as_dict() for row in self.rows],
            "totals": self.totals.as_dict(),
        }


def _combined(
    rows: list[Row], key: Callable[[Row], tuple[str, str]]
) -> list[tuple[str, Figures]]:
    """Rows added up by (name, id), the names sorted."""
    combined: dict[tuple[str, str], Figures] = {}
    for row in rows:
        combined.setdefault(key(row), Figures()).add(row.figures)
    return [(name, figures) for (name, _), figures in sorted(combined.items())]


def cohort(visits: VisitQuerySet, start: dt.date, end: dt.date) -> VisitQuerySet:
    """The visits whose window ends within [start, end], system cancellations
    left out, each with `row_surgeon` (booked with, else operated by)."""
    return (
        visits.filter(window_end__gte=start, window_end__lte=end)
        .exclude(status=VisitStatus.CANCELLED, cancelled_by__in=EXCLUDED_CAUSES)
        .annotate(row_surgeon=Coalesce(F("surgeon_id"), F("procedure__surgeon_id")))
    )


def _flag(condition: Q) -> Case:
    return Case(
        When(condition, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _flags(visits: VisitQuerySet) -> VisitQuerySet:
    """Each visit's yes/no answers, in SQL, for the grouped counts."""
    zone = clinic_zone()
    seen_on = TruncDate("start", tzinfo=zone)
    attempts = ContactAttempt.objects.filter(visit_id=OuterRef("pk"))
    bookings = VisitEvent.objects.filter(
        visit_id=OuterRef("pk"), action__in=BOOKING_ACTIONS
    )
    first_attempt = Subquery(
        attempts.order_by("at", "id").values("at")[:1], output_field=DateTimeField()
    )
    returns = VisitEvent.objects.filter(
        Q(action__in=BOOKING_ACTIONS) | Q(to_status=VisitStatus.COMPLETED),
        visit_id=OuterRef("pk"),
        at__gte=OuterRef("first_attempt_at"),
        at__lte=OuterRef("return_deadline"),
    )
    completed = Q(status=VisitStatus.COMPLETED)
    # Unreachable as the call list reads it (`with_contact_summary`).
    lost = Q(status=VisitStatus.CANCELLED) | Q(unreachable=True)
    return (
        visits.with_contact_summary()
        .alias(
            seen_on=seen_on,
            first_attempt_at=first_attempt,
            return_deadline=ExpressionWrapper(
                F("first_attempt_at") + dt.timedelta(days=RETURN_DAYS),
                output_field=DateTimeField(),
            ),
            attempted_by_close=Exists(
                attempts.annotate(
                    day=TruncDate("at", tzinfo=zone, output_field=DateField())
                ).filter(day__lte=OuterRef("window_end"))
            ),
            booked_by_close=Exists(
                bookings.annotate(
                    day=TruncDate("at", tzinfo=zone, output_field=DateField())
                ).filter(day__lte=OuterRef("window_end"))
            ),
            returned=Exists(returns),
        )
        .alias(
            f_in_window=_flag(
                completed
                & Q(seen_on__gte=F("window_start"), seen_on__lte=F("window_end"))
            ),
            f_late=_flag(completed & Q(seen_on__gt=F("window_end"))),
            f_lost=_flag(lost),
            f_open=_flag(~completed & ~lost),
            f_contacted=_flag(Q(attempted_by_close=True) | Q(booked_by_close=True)),
            f_called=_flag(Q(attempt_count__gt=0)),
            f_returned=_flag(Q(attempt_count__gt=0) & Q(returned=True)),
        )
    )


# Field names held in tuples: the stubs cannot see annotations by name.
_GROUPED_BY = ("rule__code", "rule__name", "row_surgeon")
_DELAY_COLUMNS = ("rule__code", "row_surgeon", "window_start", "first_booked_at")


def _count(flag_name: str) -> Count:
    return Count("pk", filter=Q(**{flag_name: True}))


def _booking_delays(base: VisitQuerySet) -> dict[tuple[str, int], list[int]]:
    """Days from each booked visit's window start to its first booking, by
    rule x surgeon: one query, the medians are taken in Python."""
    first_booking = (
        VisitEvent.objects.filter(visit_id=OuterRef("pk"), action__in=BOOKING_ACTIONS)
        .order_by("at", "id")
        .values("at")[:1]
    )
    delays = (
        base.annotate(first_booked_at=Subquery(first_booking))
        .filter(first_booked_at__isnull=False)
        .order_by()
        .values_list(*_DELAY_COLUMNS)
    )
    by_row: dict[tuple[str, int], list[int]] = defaultdict(list)
    for code, surgeon, window_start, booked_at in delays:
        by_row[(code, surgeon)].append((local_date(booked_at) - window_start).days)
    return by_row


def follow_up_report(
    *,
    visits: VisitQuerySet,
    start: dt.date,
    end: dt.date,
    rule: str | None = None,
    surgeon_id: int | None = None,
) -> Report:
    """The figures of the cohort of `visits` (already scoped to the reader)
    whose window ends within [start, end], by rule x surgeon, and in total.

    `rule` (a code) and `surgeon_id` (the row's surgeon) narrow the cohort.
    """
    base = cohort(visits, start, end)
    if rule is not None:
        base = base.filter(rule__code=rule)
    if surgeon_id is not None:
        base = base.filter(Q(row_surgeon=surgeon_id))
    grouped = (
        _flags(base)
        .order_by()
        .values(*_GROUPED_BY)
        .annotate(
            due=Count("pk"),
            completed_in_window=_count("f_in_window"),
            completed_late=_count("f_late"),
            lost=_count("f_lost"),
            open=_count("f_open"),
            contacted_before_close=_count("f_contacted"),
            called=_count("f_called"),
            returned_within_15_days=_count("f_returned"),
        )
    )
    rows, totals = _rows(list(grouped), _booking_delays(base))
    rows.sort(key=lambda row: (row.rule_name, row.surgeon_name, row.surgeon))
    return Report(start=start, end=end, rows=rows, totals=totals)


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


# The order and headings of the CSV download.
CSV_HEADER = ["rule", "rule_name", "surgeon", "surgeon_name", *FIGURES]


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    """A report's `as_dict()` as CSV rows: the header, a row per rule x
    surgeon, the totals last. Write them with `core.csv_safety.writer`."""
    out: list[list[Any]] = [CSV_HEADER]
    for row in report["rows"]:
        out.append([_cell(row[name]) for name in CSV_HEADER])
    totals = report["totals"]
    total_row = ["total", "All rules", "", "All surgeons"]
    out.append(total_row + [_cell(totals[name]) for name in FIGURES])
    return out


def _cell(value: object) -> object:
    return "" if value is None else value
