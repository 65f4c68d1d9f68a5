"""The desk's presentation rows: a visit as a line of the list (`Row`), as
shown with its open panel or refused form (`Item`), a tab, a page.

What the rows show comes from the domain: the visit's facts from `Visit`'s
methods, the buttons from `booking.allowed_moves`. The reads that choose the
visits are `VisitQuerySet`'s (`followup.models.worklist`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cached_property

from clinic.clock import local
from clinic.models import Patient, Surgeon
from clinic.roles import Staff
from followup.models import AWAITING_BOOKING_STATUSES, Visit, VisitStatus, worklist
from followup.models.worklist import CALL, TODAY, Bucket
from followup.services.booking import allowed_moves
from web.desk.forms import RowForm
from web.desk.slots import SlotAsk, SlotPanel

PAGE_SIZE = 50
# A list's CSV holds at most this many rows: the cap the tabs' counts use, so
# its link's "the first 1,000 visits" and a tab's "1,000+" say the same.
CSV_LIMIT = worklist.COUNT_CAP
# Patients a search lists by name above the visits, then says there are more.
PATIENTS_SHOWN = 10

BUCKET_LABELS = {
    Bucket.ALL: "All",
    Bucket.OPEN: "Window open",
    Bucket.CLOSING: f"Closing ≤ {worklist.CLOSING_DAYS} days",
    Bucket.OVERDUE: "Overdue",
    Bucket.NOT_OPEN: "Not yet open",
    Bucket.REBOOKING: "Needs rebooking",
}
CALL_LABEL = "Call list"


def count_text(count: int) -> str:
    """A count as a tab shows it: "1,000+" once past the cap."""
    cap = worklist.COUNT_CAP
    return f"{cap:,}+" if count > cap else str(count)


def csv_said(count: int) -> str:
    """What a list's CSV holds, as its link says it."""
    if count > CSV_LIMIT:
        return f"the first {CSV_LIMIT:,} visits"
    return f"{count} visit{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    count: int
    url: str
    current: bool

    @property
    def count_text(self) -> str:
        return count_text(self.count)


def tab_labels() -> dict[str, str]:
    # Today first: a list of its own, set apart from the buckets to book; the
    # call list last, the patients to phone rather than to book.
    labels: dict[str, str] = {TODAY: "Today"}
    labels.update({str(key): label for key, label in BUCKET_LABELS.items()})
    labels[CALL] = CALL_LABEL
    return labels


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
    def patient_label(self) -> str:
        patient = self.visit.patient
        return f"{patient.family_name}, {patient.given_name} · {patient.record_number}"

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
    def start_local(self) -> dt.datetime | None:
        return local(self.visit.start) if self.visit.start else None

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
class Page:
    """A page of a tab. `count` is exact up to `worklist.COUNT_CAP`; above
    it, it is exact only when a page past the cap was asked for (see `page_of`)."""

    number: int
    count: int
    size: int = PAGE_SIZE
    exact: bool = True

    @property
    def count_text(self) -> str:
        return str(self.count) if self.exact else count_text(self.count)

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_item(self) -> int:
        return self.offset + 1 if self.count else 0

    @property
    def last_item(self) -> int:
        return min(self.offset + self.size, self.count)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_of(number: int, count: int) -> Page:
    """The page asked for, within the pages there are; the count is the tab's,
    already known from `counts`, so paging costs no query of its own. A
    capped count (`COUNT_CAP + 1`) is replaced by the exact one beforehand
    only for a page past the cap (`needs_exact_count`)."""
    last = Page(1, count).pages
    return Page(min(max(number, 1), last), count, exact=count <= worklist.COUNT_CAP)


def exact_page_of(number: int, count: int) -> Page:
    return replace(page_of(number, count), exact=True)


def needs_exact_count(number: int, count: int) -> bool:
    """Whether page `number` lies past what a capped `count` vouches for."""
    cap = worklist.COUNT_CAP
    return count > cap and (number - 1) * PAGE_SIZE >= cap


def patients_found(staff: Staff, q: str) -> list[Patient]:
    """The patients a search finds, whatever their visits: the one who has
    nothing to book is opened from here. `PATIENTS_SHOWN` and one more, to
    tell that there are more."""
    found = Patient.objects.visible_to(staff).search(q)
    ordered = found.order_by("family_name", "given_name", "record_number")
    return list(ordered[: PATIENTS_SHOWN + 1])
