"""The front desk's worklist reads, mixed into `VisitQuerySet`.

A visit to work is one still waiting for a slot (to book, or a no-show to
rebook) or a booked one that a re-plan flagged for rebooking. Its bucket
follows from its window and the clinic's date: the buckets are disjoint, so
their counts add up to the "All" tab. *Today* lists the day's bookings
(booked and checked in) in time order; the call list is
`VisitQuerySet.call_list`.

Every read here is a constant number of queries whatever the data size: the
counts come from one query, a page from one select with its relations. And
each reads about as many rows whatever the data size: a tab's count stops
past `COUNT_CAP` ("1,000+"), and a page is read in the list's own order
from the partial index `visit_to_work_by_window`, never sorted whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self, TypeVar

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import Count, Q, QuerySet, Value

from clinic.clock import start_of_day
from clinic.models import Patient, Procedure
from core.db import among, fast_path
from followup.models.statuses import (
    AWAITING_BOOKING_STATUSES,
    NOT_YET_SEEN_STATUSES,
    VisitStatus,
)

CLOSING_DAYS = 2
# A tab counts its visits up to here; past it, it says "1,000+". Counting
# every one of a quarter of a million open visits costs a scan of them all,
# and no clerk reads the difference between 1,200 and 220,000.
COUNT_CAP = 1000
# A search lists the visits of at most this many patients, the first by
# name: those the desk lists by name above them (`web.desk.rows`), so every
# visit shown is of a patient shown. "María García" may match hundreds at a
# big clinic; the page asks for a word more, a record number or a birth date.
# Listing the visits of five hundred of them, fifty rows of patients nobody
# sees named, made the search at 1M visits 1.7 times the same search at 10k
# (bench/pages.py), where it lists a handful.
SEARCH_IDS_CAP = 10


class Bucket(StrEnum):
    ALL = "all"
    OPEN = "open"
    CLOSING = "closing"
    OVERDUE = "overdue"
    NOT_OPEN = "not_open"
    REBOOKING = "rebooking"


TODAY = "today"
# The patients to phone (`VisitQuerySet.call_list`), a list apart like Today.
CALL = "call"
TABS: tuple[str, ...] = (*Bucket.__members__.values(), TODAY, CALL)

# Sort keys a header offers, and the order each means. The window's end first:
# the visit whose window closes soonest is the one to book first.
SORTS = {
    "window": ("window_end", "due_date", "id"),
    "-window": ("-window_end", "-due_date", "-id"),
    "patient": ("patient__family_name", "patient__given_name", "window_end", "id"),
    "-patient": ("-patient__family_name", "-patient__given_name", "window_end", "id"),
}
DEFAULT_SORT = "window"
# Today's bookings in time order; the call list by the window closing soonest.
TODAY_ORDER = ("start", "id")
CALL_ORDER = ("window_end", "due_date", "id")

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


def tab_order(tab: str, sort: str) -> tuple[str, ...]:
    """The order a tab lists its rows in: a bucket's as its header chose."""
    if tab == TODAY:
        return TODAY_ORDER
    if tab == CALL:
        return CALL_ORDER
    return SORTS.get(sort, SORTS[DEFAULT_SORT])


def matching_patients(q: str) -> list[int]:
    """The patients a search finds, read once for the whole page: the ids of
    the first `SEARCH_IDS_CAP` by name (the order the page lists them in),
    and one more when there are more, so that every tab's count, the page
    and its list of patients look them up by id instead of running the
    search again each (`of_patients`)."""
    found = Patient.objects.search(q).order_by(
        "family_name", "given_name", "record_number"
    )
    return list(found.values_list("pk", flat=True)[: SEARCH_IDS_CAP + 1])


_M = TypeVar("_M", bound=models.Model)


class WorklistQueries(models.QuerySet[_M]):
    """The worklist's filters, tabs and counts; `VisitQuerySet` mixes it in."""

    def of_patients_matching(self, q: str) -> Self:
        return self.of_patients(matching_patients(q))

    def of_patients(self, ids: list[int]) -> Self:
        """The visits of the patients a search found (`matching_patients`):
        of the first `SEARCH_IDS_CAP` of them."""
        return self.filter(among("patient_id", ids[:SEARCH_IDS_CAP]))

    def seen_by(self, surgeon_id: int) -> Self:
        """A booked visit's surgeon is who sees the patient; before that, the
        surgeon who operated. The operated procedures as a subquery, not a
        join (see `VisitQuerySet.of_surgeon`): an OR across a join is checked
        row by row after it."""
        operated = Procedure.objects.filter(surgeon_id=surgeon_id)
        return self.filter(
            Q(surgeon_id=surgeon_id)
            | Q(surgeon__isnull=True, procedure__in=operated.values("pk"))
        )

    def with_row_relations(self) -> Self:
        return self.select_related(
            "patient", "rule", "surgeon", "procedure", "procedure__surgeon"
        )

    def in_tab(self, tab: str, today: dt.date) -> Self:
        """A tab's visits, unordered: a bucket, Today, or the call list."""
        if tab == CALL:
            return self.call_list(today).order_by()  # type: ignore[attr-defined,no-any-return]
        if tab == TODAY:
            return self.filter(today_filter(today))
        return self.filter(bucket_filters(today)[Bucket(tab)])

    def in_bucket(self, bucket: Bucket, *, today: dt.date, sort: str) -> Self:
        """A bucket's rows, in the order a header chose."""
        order = tab_order(bucket, sort)
        return self.in_tab(bucket, today).with_row_relations().order_by(*order)

    def booked_on(self, today: dt.date) -> Self:
        """*Today*'s rows: the day's bookings in time order."""
        return self.in_tab(TODAY, today).with_row_relations().order_by(*TODAY_ORDER)

    def appointments(self, day: dt.date, *, onwards: bool = False) -> Self:
        """The appointments view's rows: bookings still to be seen (booked,
        checked in) whose slot starts on the clinic's `day`, or on any day
        from it with `onwards`, in time order. Read from the partial index
        `visit_not_yet_seen_by_start`, a page at a time."""
        slots = Q(status__in=NOT_YET_SEEN_STATUSES, start__gte=start_of_day(day))
        if not onwards:
            slots &= Q(start__lt=start_of_day(day + dt.timedelta(days=1)))
        return self.filter(slots).with_row_relations().order_by("start", "id")

    def tab_counts(self, today: dt.date) -> dict[str, int]:
        """Every tab's count in one query, each exact up to `COUNT_CAP`; a count
        above it (`COUNT_CAP + 1`) means "more than `COUNT_CAP`".

        Each tab is `SELECT COUNT(*) FROM (… LIMIT COUNT_CAP + 1)`, read in
        the order of the partial index its condition bounds (`COUNT_ORDER`),
        so that it stops once past the cap, instead of one aggregate over
        every open visit. The call list too: its rows' contact summary is read
        row by row, so an uncapped count read every overdue visit's attempts.
        A search's few visits are counted by `counted_together` instead.
        """
        parts: list[str] = []
        params: list[Any] = []
        for tab in TABS:
            capped = self.in_tab(tab, today).order_by(COUNT_ORDER[tab]).values("pk")
            try:
                sql, tab_params = capped[: COUNT_CAP + 1].query.sql_with_params()
            except EmptyResultSet:
                parts.append("0")
                continue
            # The tab names are this module's own constants, never input.
            parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS {tab}_tab)")  # noqa: S608
            params.extend(tab_params)
        with connections[self.db].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = cursor.fetchone()
        return dict(zip(TABS, row, strict=True))

    def tab_conditions(self, today: dt.date) -> dict[str, Q]:
        """Each tab's condition (`in_tab` without its order), by tab."""
        conditions: dict[str, Q] = {
            str(bucket): condition
            for bucket, condition in bucket_filters(today).items()
        }
        conditions[TODAY] = today_filter(today)
        conditions[CALL] = self.to_call(today)  # type: ignore[attr-defined]
        return conditions

    def counted_together(
        self, today: dt.date, *, shown: str, order: tuple[str, ...]
    ) -> SearchedTabs:
        """A search's tabs (`of_patients`: the visits of at most
        `SEARCH_IDS_CAP` patients, a few thousand at most): every tab's count
        in one pass over the patients' visits, each tab's condition an
        aggregate's filter, and the ids of the visits of tab `shown` in its
        `order` (`tab_order`), for its page to read fifty by id.

        Counting each tab apart, PostgreSQL crossed the patients' few visits
        with a bitmap of every open visit's status (a quarter of a million
        at 1M visits) once per tab; and the page, read along the window's
        index in its order, walked tens of thousands of entries to find the
        patients' fifty, reading every one's contact summary before sorting
        them. Here the scan is the patients' visits alone, read by patient,
        and the page is fifty ids.
        """
        conditions = self.tab_conditions(today)
        counted = _counted_with_ids(self.order_by(), conditions, shown, order)
        counts = {tab: min(counted[tab], COUNT_CAP + 1) for tab in TABS}
        return SearchedTabs(counts=counts, shown_ids=counted["shown_ids"])


@dataclass(frozen=True)
class SearchedTabs:
    """`counted_together`'s answer: each tab's count (capped as
    `tab_counts`'), and the ids of the shown tab's visits, in its order."""

    counts: dict[str, int]
    shown_ids: list[int]


def _counts(conditions: dict[str, Q]) -> dict[str, Count]:
    return {tab: Count("pk", filter=condition) for tab, condition in conditions.items()}


def _counted_then_listed(
    visits: QuerySet[Any], conditions: dict[str, Q], shown: str, order: tuple[str, ...]
) -> dict[str, Any]:
    counted = visits.aggregate(**_counts(conditions))
    ids = visits.filter(conditions[shown]).order_by(*order).values_list("pk", flat=True)
    return {**counted, "shown_ids": list(ids)}


@fast_path(_counted_then_listed)
def _counted_with_ids(
    visits: QuerySet[Any], conditions: dict[str, Q], shown: str, order: tuple[str, ...]
) -> dict[str, Any]:
    """The counts and the shown tab's ids in the same pass (`ArrayAgg`)."""
    ids = ArrayAgg("pk", filter=conditions[shown], order_by=order, default=Value([]))
    return visits.aggregate(**_counts(conditions), shown_ids=ids)
