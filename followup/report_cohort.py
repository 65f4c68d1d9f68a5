"""The follow-up report's SQL: the cohort, each visit's yes/no answers, and
the grouped counts they make (`followup.reports` defines the figures).

**The cohort** is the visits whose window ends within [from, to]; system
cancellations (a procedure cancelled or entered in error, a re-plan, an
annual programme ended) are left out: they never were follow-ups owed to a
patient. Each visit carries `row_surgeon`: the surgeon it is (or was last)
booked with, else the one who operated.

Each visit's answers are computed in SQL (`_flags`) and counted per rule x
surgeon in one grouped query; the booking delays are read in one more
(`booking_delays`), their medians taken in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
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
from followup.models import (
    CancelReason,
    ContactAttempt,
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


def booking_delays(base: VisitQuerySet) -> dict[tuple[str, int], list[int]]:
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


def grouped_counts(base: VisitQuerySet) -> list[dict[str, Any]]:
    """Per rule x surgeon of the cohort `base`: its code, name and surgeon,
    and the counts behind the figures (one grouped query)."""
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
    return list(grouped)
