"""The worklist's reads: which visits the front desk works, in which bucket.

A visit to work is one still waiting for a slot (to book, or a no-show to
rebook) or a booked one that a re-plan flagged for rebooking. Its bucket
follows from its window and the clinic's date: the buckets are disjoint, so
their counts add up to the "All" tab. *Today* lists the day's bookings
(booked and checked in) in time order.

Every read here is a constant number of queries whatever the data size: the
counts come from one query, a page from one select with its relations. And
each reads about as many rows whatever the data size: a tab's count stops
past `COUNT_CAP` ("1,000+"), and a page is read in the list's own order
from the partial index `visit_to_work_by_window`, never sorted whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet

from clinic.clock import local, start_of_day
from clinic.models import Patient, Procedure, Surgeon
from followup.models import (
    AWAITING_BOOKING_STATUSES,
    NOT_YET_SEEN_STATUSES,
    Visit,
    VisitQuerySet,
    VisitStatus,
)
from followup.services.booking import allowed_moves

PAGE_SIZE = 50
CLOSING_DAYS = 2
# A tab counts its visits up to here; past it, it says "1,000+". Counting
# every one of a quarter of a million open visits costs a scan of them all,
# and no clerk reads the difference between 1,200 and 220,000.
COUNT_CAP = 1000


# A search finding at most this many patients is looked up by their ids.
SEARCH_IDS_CAP = 500


class Bucket(StrEnum):
    ALL = "all"
    OPEN = "open"
    CLOSING = "closing"
    OVERDUE = "overdue"
    NOT_OPEN = "not_open"
    REBOOKING = "rebooking"


BUCKET_LABELS = {
    Bucket.ALL: "All",
    Bucket.OPEN: "Window open",
    Bucket.CLOSING: f"Closing ≤ {CLOSING_DAYS} days",
    Bucket.OVERDUE: "Overdue",
    Bucket.NOT_OPEN: "Not yet open",
    Bucket.REBOOKING: "Needs rebooking",
}
TODAY = "today"
# The patients to phone (`VisitQuerySet.call_list`), a list apart like Today.
CALL = "call"
CALL_LABEL = "Call list"

# Sort keys a header offers, and the order each means. The window's end first:
# the visit whose window closes soonest is the one to book first.
SORTS = {
    "window": ("window_end", "due_date", "id"),
    "-window": ("-window_end", "-due_date", "-id"),
    "patient": ("patient__family_name", "patient__given_name", "window_end", "id"),
    "-patient": ("-patient__family_name", "-patient__given_name", "window_end", "id"),
}
DEFAULT_SORT = "window"


def bucket_filters(today: dt.date) -> dict[Bucket, Q]:
    awaiting = Q(status__in=AWAITING_BOOKING_STATUSES)
    closing_by = today + dt.timedelta(days=CLOSING_DAYS)
    rebooking = Q(status=VisitStatus.BOOKED, needs_rebooking=True)
    return {
        Bucket.ALL: awaiting | rebooking,
        Bucket.OPEN: awaiting & Q(window_start__lte=today, window_end__gt=closing_by),
        Bucket.CLOSING: awaiting
        & Q(window_start__lte=today, window_end__gte=today, window_end__lte=closing_by),
        Bucket.OVERDUE: awaiting & Q(window_end__lt=today),
        Bucket.NOT_OPEN: awaiting & Q(window_start__gt=today),
        Bucket.REBOOKING: rebooking,
    }


def today_filter(today: dt.date) -> Q:
    """Booked and checked-in visits whose slot starts on the clinic's day."""
    return Q(
        status__in=NOT_YET_SEEN_STATUSES,
        start__gte=start_of_day(today),
        start__lt=start_of_day(today + dt.timedelta(days=1)),
    )


def matching_patients(q: str) -> list[int] | QuerySet[Patient, Any]:
    """The patients a search finds, read once for the whole page: their ids
    when there are at most `SEARCH_IDS_CAP` (a record number, a full name),
    so that every tab's count and the page look their visits up by patient
    instead of running the search again each. A broader search (a common
    first name) stays a subquery: the same visits, without a long id list."""
    found = Patient.objects.search(q).order_by().values_list("pk", flat=True)
    ids = list(found[: SEARCH_IDS_CAP + 1])
    return ids if len(ids) <= SEARCH_IDS_CAP else found


@dataclass(frozen=True)
class Filters:
    q: str = ""
    surgeon: int | None = None
    rule: int | None = None

    def apply(self, visits: VisitQuerySet) -> VisitQuerySet:
        if self.q:
            visits = visits.filter(patient__in=matching_patients(self.q))
        if self.surgeon is not None:
            # A booked visit's surgeon is who sees the patient; before that,
            # the surgeon who operated. The operated procedures as a subquery,
            # not a join (see `VisitQuerySet.of_surgeon`): an OR across a join
            # is checked row by row after it.
            operated = Procedure.objects.filter(surgeon_id=self.surgeon)
            visits = visits.filter(
                Q(surgeon_id=self.surgeon)
                | Q(surgeon__isnull=True, procedure__in=operated.values("pk"))
            )
        if self.rule is not None:
            visits = visits.filter(rule_id=self.rule)
        return visits


# The order each tab is counted in: that of the partial index its condition
# bounds, so that the count reads at most `COUNT_CAP + 1` index entries
# rather than sampling the table in the hope that matches come early.
COUNT_ORDER = {
    Bucket.ALL: "window_end",
    Bucket.OPEN: "window_end",
    Bucket.CLOSING: "window_end",
    Bucket.OVERDUE: "window_end",
    Bucket.NOT_OPEN: "window_start",
    Bucket.REBOOKING: "window_end",
    TODAY: "start",
    CALL: "window_end",
}


def tab_filter(tab: str, today: dt.date) -> Q:
    return today_filter(today) if tab == TODAY else bucket_filters(today)[Bucket(tab)]


def tab_visits(visits: VisitQuerySet, tab: str, today: dt.date) -> VisitQuerySet:
    """A tab's visits, unordered: a bucket, Today, or the call list."""
    if tab == CALL:
        return visits.call_list(today).order_by()
    return visits.filter(tab_filter(tab, today))


def counts(visits: VisitQuerySet, *, today: dt.date) -> dict[str, int]:
    """Every tab's count in one query, each exact up to `COUNT_CAP`; a count
    above it (`COUNT_CAP + 1`) means "more than `COUNT_CAP`".

    Each tab is `SELECT COUNT(*) FROM (… LIMIT COUNT_CAP + 1)`, so that it
    stops once past the cap, instead of one aggregate over every open visit.
    The call list too: its rows' contact summary is read row by row, so an
    uncapped count read every overdue visit's attempts.
    """
    tabs = [str(bucket) for bucket in Bucket] + [TODAY, CALL]
    parts: list[str] = []
    params: list[Any] = []
    for tab in tabs:
        capped = tab_visits(visits, tab, today).order_by(COUNT_ORDER[tab]).values("pk")
        try:
            sql, tab_params = capped[: COUNT_CAP + 1].query.sql_with_params()
        except EmptyResultSet:  # a search that found no patient
            parts.append("0")
            continue
        # The tab names are this module's own constants, never input.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS {tab}_tab)")  # noqa: S608
        params.extend(tab_params)
    with connections[visits.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(tabs, row, strict=True))


def exact_count(visits: VisitQuerySet, *, tab: str, today: dt.date) -> int:
    """A tab's count past the cap: only for a page beyond it."""
    return tab_visits(visits, tab, today).count()


def count_text(count: int) -> str:
    """A count as a tab shows it: "1,000+" once past the cap."""
    return f"{COUNT_CAP:,}+" if count > COUNT_CAP else str(count)


def with_row_relations(visits: VisitQuerySet) -> VisitQuerySet:
    return visits.select_related(
        "patient", "rule", "surgeon", "procedure", "procedure__surgeon"
    )


def worklist(
    visits: VisitQuerySet, *, bucket: Bucket, today: dt.date, sort: str
) -> VisitQuerySet:
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])
    return with_row_relations(visits.filter(bucket_filters(today)[bucket])).order_by(
        *order
    )


def call_list(visits: VisitQuerySet, *, today: dt.date) -> VisitQuerySet:
    """The call list's rows, with their contact summary, in the same select."""
    return with_row_relations(visits.call_list(today))


def mri_flagged(visits: VisitQuerySet, *, today: dt.date) -> VisitQuerySet:
    return visits.mri_flagged(today).select_related("patient", "rule", "surgeon")


def todays_bookings(visits: VisitQuerySet, *, today: dt.date) -> VisitQuerySet:
    return with_row_relations(visits.filter(today_filter(today))).order_by(
        "start", "id"
    )


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
        return self.awaiting and self.days_to_open <= 0 <= self.days_left <= 2

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


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def rows(visits: list[Visit], *, now: dt.datetime) -> list[Row]:
    today = local(now).date()
    return [Row(visit=visit, today=today, now=now) for visit in visits]


@dataclass(frozen=True)
class Page:
    """A page of a tab. `count` is exact up to `COUNT_CAP`; above it, it is
    exact only when a page past the cap was asked for (see `page_of`)."""

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
    return Page(min(max(number, 1), last), count, exact=count <= COUNT_CAP)


def exact_page_of(number: int, count: int) -> Page:
    return replace(page_of(number, count), exact=True)


def needs_exact_count(number: int, count: int) -> bool:
    """Whether page `number` lies past what a capped `count` vouches for."""
    return count > COUNT_CAP and (number - 1) * PAGE_SIZE >= COUNT_CAP
