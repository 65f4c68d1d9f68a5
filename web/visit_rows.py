"""A visit as a line of a list (`Row`), and as shown with its open panel,
refused form or saved message (`Item`): the desk's worklist, the
appointments and a visit's own page show the same row, under their columns'
headers (`ColumnHeader`).

What a row shows comes from the domain: the visit's facts from `Visit`'s
methods, the buttons from `moves.allowed_moves`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from clinic.clock import local
from clinic.models import Surgeon
from followup.models import AWAITING_BOOKING_STATUSES, Visit, VisitStatus, worklist
from followup.services.moves import allowed_moves
from web.dates import written
from web.offer_marks import OfferMark, offer_mark
from web.reversing import reversed_url
from web.slots import SlotAsk, SlotPanel
from web.visit_forms import RowForm


@dataclass(frozen=True)
class Row:
    """One visit as a line of the worklist, with what the desk may do to it.

    Each figure is worked out once (`cached_property`): a row's template reads
    most of them several times, fifty rows a page.
    """

    visit: Visit
    today: dt.date
    now: dt.datetime

    @cached_property
    def patient_name(self) -> str:
        patient = self.visit.patient
        return f"{patient.family_name}, {patient.given_name}"

    @cached_property
    def patient_label(self) -> str:
        patient = self.visit.patient
        return f"{patient.family_name}, {patient.given_name} · {patient.record_number}"

    # The row's links (`web.reversing`): the visit's own URL, which its
    # panels and actions hang off, its patient's page, the call list's form.
    @cached_property
    def visit_url(self) -> str:
        return reversed_url("desk-visit", self.visit.pk)

    @cached_property
    def patient_url(self) -> str:
        return reversed_url("patient-page", self.visit.patient_id)

    @cached_property
    def contact_url(self) -> str:
        return reversed_url("desk-contact", self.visit.pk)

    @cached_property
    def surgeon(self) -> Surgeon:
        return self.visit.surgeon or self.visit.procedure.surgeon

    @cached_property
    def kind(self) -> str:
        return self.visit.kind_label()

    @cached_property
    def days_left(self) -> int:
        """Days until the window closes (0: closes today); negative once closed."""
        return (self.visit.window_end - self.today).days

    @cached_property
    def days_to_open(self) -> int:
        return (self.visit.window_start - self.today).days

    @cached_property
    def days_text(self) -> str:
        """The days left as the desk reads them."""
        if self.days_to_open > 0:
            return f"opens in {_days(self.days_to_open)}"
        if self.days_left < 0:
            return f"closed {_days(-self.days_left)} ago"
        if self.days_left == 0:
            return "closes today"
        return f"{_days(self.days_left)} left"

    @cached_property
    def awaiting(self) -> bool:
        return self.visit.status in AWAITING_BOOKING_STATUSES

    @cached_property
    def booked(self) -> bool:
        return self.visit.status == VisitStatus.BOOKED

    @cached_property
    def overdue(self) -> bool:
        return self.visit.is_overdue(self.today)

    @cached_property
    def closing(self) -> bool:
        return (
            self.awaiting
            and self.days_to_open <= 0 <= self.days_left <= worklist.CLOSING_DAYS
        )

    @cached_property
    def mri_flag(self) -> str:
        flag = self.visit.mri_flag(self.today)
        return flag.flag_text if flag else ""

    @cached_property
    def offer(self) -> OfferMark | None:
        """The visit's latest offer of a freed slot, when its list read it."""
        return offer_mark(self.visit, self.now)

    @cached_property
    def start_local(self) -> dt.datetime | None:
        return local(self.visit.start) if self.visit.start else None

    # What the row writes of its dates (`web.dates`): the window, the slot
    # (its day and time, or its time alone on Today), the last contact.
    @cached_property
    def window_start_text(self) -> str:
        return written(self.visit.window_start, "SHORT_DATE_FORMAT")

    @cached_property
    def window_end_text(self) -> str:
        return written(self.visit.window_end, "SHORT_DATE_FORMAT")

    @cached_property
    def slot_text(self) -> str:
        return written(self.start_local, "D j M, H:i")

    @cached_property
    def time_text(self) -> str:
        return written(self.start_local, "TIME_FORMAT")

    @cached_property
    def last_attempt_text(self) -> str:
        """When the last contact attempt was (`with_last_contact`)."""
        at = getattr(self.visit, "last_attempt_at", None)
        return written(local(at) if at else None, "D j M, H:i")

    @cached_property
    def unreachable(self) -> bool:
        """Tries failed enough in a row (`with_contact_summary`, the call
        list's); False where the rows were read without it."""
        return bool(getattr(self.visit, "unreachable", False))

    @cached_property
    def status_label(self) -> str:
        return str(VisitStatus(self.visit.status).label)

    @cached_property
    def moves(self) -> frozenset[str]:
        return allowed_moves(self.visit, self.now)

    @cached_property
    def may_check_in(self) -> bool:
        return "check_in" in self.moves

    @cached_property
    def may_mark_no_show(self) -> bool:
        return "no_show" in self.moves

    @cached_property
    def may_book(self) -> bool:
        return bool({"book", "reschedule"} & self.moves)

    @cached_property
    def may_act(self) -> bool:
        """Whether the row offers any button (booking opens unbook and cancel)."""
        return self.may_book or self.may_check_in or self.may_mark_no_show


@dataclass
class Item:
    """A row as shown: the visit, and any open panel, refused form or
    confirmation."""

    row: Row
    panel: str = ""  # "slots", "change" or "contact"
    # The slot picker: what it was asked for (from the URL, or the refused
    # booking form), and what it shows.
    slot_ask: SlotAsk = field(default_factory=SlotAsk)
    slots: SlotPanel | None = None
    # A refused action's form: its message, and what was typed.
    form: RowForm | None = None
    saved: str = ""

    @property
    def pk(self) -> int:
        return self.row.visit.pk

    @property
    def open(self) -> bool:
        """Whether the row shows a line below it: a panel, a refusal, "Saved"."""
        return bool(self.panel or self.error or self.saved)

    @property
    def error(self) -> str:
        return self.form.message if self.form is not None else ""

    @property
    def chosen_surgeon(self) -> int:
        """Whose slots are proposed: the one asked for, else the row's."""
        return self.slot_ask.surgeon or self.row.surgeon.pk


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def rows(visits: list[Visit], *, now: dt.datetime) -> list[Row]:
    today = local(now).date()
    return [Row(visit=visit, today=today, now=now) for visit in visits]


@dataclass(frozen=True)
class ColumnHeader:
    """A column's header: a link when the column sorts the list, and
    `aria-sort` only when it is the order shown."""

    label: str
    url: str = ""
    aria_sort: str = ""
