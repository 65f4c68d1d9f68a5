"""The surgeon's page as rows: a review as a surgeon reads it, and the days
of the week. Presentation only: the facts come from the visit
(`kind_label`, `mri_flag`) and the buttons from `allowed_moves`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from clinic.clock import local_date
from clinic.models import ProcedureKind
from followup import services
from followup.models import Visit, VisitStatus
from web.surgeon.forms import CompleteForm, EndProgrammeForm, RowForm

WORKING_DAYS = 5


@dataclass
class Row:
    """One review as a surgeon reads it."""

    visit: Visit
    surgeon_id: int
    now: dt.datetime
    # A refused completion of this visit, its message beside the button.
    complete_form: CompleteForm | None = None
    end_form: EndProgrammeForm | None = None

    @property
    def error(self) -> str:
        return self.complete_form.message if self.complete_form else ""

    @property
    def kind(self) -> str:
        return self.visit.kind_label()

    @property
    def is_booked(self) -> bool:
        return self.visit.start is not None and self.visit.status in (
            VisitStatus.BOOKED,
            VisitStatus.CHECKED_IN,
            VisitStatus.COMPLETED,
        )

    @property
    def mri_flag(self) -> str:
        flag = self.visit.mri_flag(self.today)
        return flag.flag_text if flag else ""

    @cached_property
    def today(self) -> dt.date:
        return local_date(self.now)

    @cached_property
    def moves(self) -> frozenset[str]:
        return services.allowed_moves(self.visit, self.now)

    @property
    def can_complete(self) -> bool:
        return "complete" in self.moves

    @property
    def days_overdue(self) -> int:
        return (self.today - self.visit.window_end).days

    @property
    def is_today(self) -> bool:
        return self.visit.start is not None and local_date(self.visit.start) == (
            self.today
        )

    @property
    def whose(self) -> str:
        """Whose patient or whose slot, when it is not simply this surgeon's."""
        visit = self.visit
        operated_by = visit.procedure.surgeon
        if visit.surgeon_id is not None and visit.surgeon_id != self.surgeon_id:
            return f"Booked with {visit.surgeon}"
        if operated_by.pk != self.surgeon_id:
            return f"Covering for {operated_by}"
        return ""

    @property
    def programme_ends_here(self) -> bool:
        """An annual review of a running programme this surgeon operated."""
        procedure = self.visit.procedure
        return (
            self.visit.requires_mri
            and procedure.surgeon_id == self.surgeon_id
            and procedure.kind == ProcedureKind.ENDOSCOPIC_STEM_CELL
            and procedure.is_active()
            and procedure.annual_reviews_ended_on is None
        )


def review_rows(
    visits: Iterable[Visit],
    *,
    surgeon_id: int,
    now: dt.datetime,
    refused: RowForm | None = None,
    overdue: bool = False,
) -> list[Row]:
    """A row per visit, each with its actions' forms; the `refused` form, as
    it was typed, goes back to the row it acted on. Ending a programme from
    an `overdue` review ends that review too, unless the surgeon unticks it."""
    rows = []
    for visit in visits:
        row = Row(visit=visit, surgeon_id=surgeon_id, now=now)
        if isinstance(refused, CompleteForm) and refused.visit_id == visit.pk:
            row.complete_form = refused
        if row.programme_ends_here:
            if (
                isinstance(refused, EndProgrammeForm)
                and refused.procedure_id == visit.procedure_id
            ):
                row.end_form = refused
            else:
                row.end_form = EndProgrammeForm(
                    initial={"date": row.today.isoformat(), "end_overdue": overdue},
                    procedure_id=visit.procedure_id,
                )
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Day:
    date: dt.date
    is_today: bool
    visits: list[Visit]


def week_days(booked: Iterable[Visit], monday: dt.date, today: dt.date) -> list[Day]:
    """Monday to Friday, and the weekend when something is booked on it."""
    by_day: dict[dt.date, list[Visit]] = {}
    for visit in booked:
        if visit.start is not None:  # always, for a held slot
            by_day.setdefault(local_date(visit.start), []).append(visit)
    days = []
    for offset in range(7):
        date = monday + dt.timedelta(days=offset)
        if offset >= WORKING_DAYS and date not in by_day:
            continue
        days.append(Day(date=date, is_today=date == today, visits=by_day.get(date, [])))
    return days
