"""`VisitReads`: the reads of the visits, mixed into `VisitQuerySet`.

`VisitQuerySet` (these and the worklist's `WorklistQueries`) is declared next to
the `Visit` model in `followup.models.visits`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.conf import settings
from django.db import connections, models
from django.db.models import (
    BooleanField,
    Case,
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
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.db.models.lookups import LessThanOrEqual

from clinic.clock import clinic_zone, start_of_day
from clinic.models import Procedure
from followup.models.events import PATIENT_REQUEST, VisitEvent
from followup.models.mri import MRI_FLAG_DAYS, MriStatus, MriStudy
from followup.models.outreach import (
    CALL_LIST_DAYS,
    UNSUCCESSFUL_OUTCOMES,
    ContactAttempt,
    count_of,
)
from followup.models.statuses import (
    AWAITING_BOOKING_STATUSES,
    LEFT_CARE_CAUSES,
    LOST_CAUSES,
    NOT_YET_SEEN_STATUSES,
    OPEN_STATUSES,
    SLOT_HOLDING_STATUSES,
    VisitStatus,
)
from followup.models.worklist import CALL_ORDER, WorklistQueries

if TYPE_CHECKING:
    from clinic.staff import Staff


# An MRI review's scan still to chase: none yet, or its report not back.
MRI_NOT_READY = (MriStatus.MISSING, MriStatus.REPORT_PENDING)


def mri_flag_days(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last clinic days whose booked reviews are flagged when
    their scan is not ready: today and the next `MRI_FLAG_DAYS` days."""
    return today, today + dt.timedelta(days=MRI_FLAG_DAYS)


def _upcoming_kinds(today: dt.date, days: int) -> tuple[Q, Q]:
    """`VisitQuerySet.upcoming`'s two kinds: booked in the period (today
    through today + `days`, clinic dates), and to book with a window
    overlapping it."""
    last = today + dt.timedelta(days=days)
    booked = Q(
        status__in=NOT_YET_SEEN_STATUSES,
        start__gte=start_of_day(today),
        start__lt=start_of_day(last + dt.timedelta(days=1)),
    )
    to_book = Q(
        status__in=AWAITING_BOOKING_STATUSES,
        window_start__lte=last,
        window_end__gte=today,
    )
    return booked, to_book


_M = TypeVar("_M", bound=models.Model)


class VisitReads(WorklistQueries[_M]):
    """Every read of the visits, the worklist's mixed in; typed by `VisitQuerySet`."""

    def open(self) -> Self:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today: dt.date) -> Self:
        return self.filter(status__in=AWAITING_BOOKING_STATUSES, window_end__lt=today)

    def left_care(self) -> Self:
        """Cancelled because the patient moved away or died, latest first."""
        return self.filter(
            status=VisitStatus.CANCELLED, cancelled_by__in=LEFT_CARE_CAUSES
        ).order_by("-updated_at", "-pk")

    def with_patient_left_care(self) -> Self:
        """Each visit's `patient_left_care`: "moved_away" or "deceased" while
        a visit of its patient stays cancelled for it (the latest), else None.
        One subquery in the rows' own select."""
        cause = (
            self.model._default_manager.all()
            .left_care()  # type: ignore[attr-defined]
            .filter(patient_id=OuterRef("patient_id"))
            .values("cancelled_by")[:1]
        )
        return self.annotate(patient_left_care=Subquery(cause))

    def waiting_to_complete(self) -> Self:
        """Checked in, on any day, and not completed yet: the surgeon's and
        the desk's *Waiting to be completed*, the longest waiting first."""
        return self.filter(status=VisitStatus.CHECKED_IN).order_by("start", "id")

    def upcoming(self, today: dt.date, days: int) -> Self:
        """Booked visits in the next `days` days, and visits to book whose window
        overlaps them, soonest first.

        The period is today through today + `days` (clinic dates). A visit still
        to book sorts by its due date, a booked one by the day of its slot.
        """
        booked, to_book = _upcoming_kinds(today, days)
        zone = clinic_zone()
        return (
            self.filter(booked | to_book)
            .annotate(
                soonest=Coalesce(
                    TruncDate("start", tzinfo=zone),
                    F("due_date"),
                    output_field=DateField(),
                )
            )
            .order_by("soonest", F("start").asc(nulls_last=True), "window_end", "id")
        )

    def upcoming_first(
        self, today: dt.date, days: int, first: int
    ) -> models.QuerySet[_M, Any]:
        """The ids among which `upcoming(today, days)`'s first `first` are:
        for `Visit.objects.filter(pk__in=…).upcoming(today, days)[:first]`.

        On PostgreSQL, the first `first` of each kind (booked; to book; a
        no-show, which keeps the slot it missed), each read in its own
        index's order and stopped there, instead of gathering every open
        window of the clinic to sort them. Within a kind the list's order is
        the order below (a slot's local day follows its start), so the list's
        first `first` are among them. Elsewhere (SQLite cannot slice the
        parts of a UNION), every upcoming id.
        """
        booked, to_book = _upcoming_kinds(today, days)
        if not connections[self.db].features.supports_slicing_ordering_in_compound:
            return self.filter(booked | to_book).order_by().values("pk")
        kinds = [
            self.filter(booked).order_by("start", "window_end", "id"),
            self.filter(to_book, start=None).order_by("due_date", "window_end", "id"),
            self.filter(to_book, start__isnull=False).order_by(
                "start", "window_end", "id"
            ),
        ]
        firsts = [kind.values("pk")[:first] for kind in kinds]
        return firsts[0].union(*firsts[1:], all=True)

    def booked_with(
        self, surgeon_id: int, start: dt.datetime, end: dt.datetime
    ) -> Self:
        """The slots a surgeon holds from `start` to before `end`, in time
        order: booked, checked-in and completed visits (a no-show or a
        cancellation frees its slot)."""
        return self.filter(
            surgeon_id=surgeon_id,
            status__in=SLOT_HOLDING_STATUSES,
            start__gte=start,
            start__lt=end,
        ).order_by("start", "id")

    def with_api_relations(self) -> Self:
        """What a visit's JSON reads, in the one query: its rule, patient,
        MRI status and the export state the calendars keep (by relation
        name: `feeds` sits above this app)."""
        return (
            self.select_related("rule", "procedure__patient")
            .annotate(
                export_state_value=Coalesce(
                    F("calendar_entry__export_state"), Value("pending")
                )
            )
            .with_mri_status()
        )

    def with_mri_status(self) -> Self:
        """Annotate `mri_status` (`MriStatus`), in SQL, in the same query.

        A visit that requires an MRI is `done` when the patient has a study
        with its report performed at most `MRI_VALID_DAYS` before the visit
        and not after it; `report_pending` when such a study has no report
        yet; `missing` otherwise. "The visit" is the local date of its slot
        while it holds one, else its window's end (the latest day it can
        still be booked in its window). Other visits are `not_needed`.
        """
        if "mri_status" in self.query.annotations:
            return self
        reference = Case(
            When(
                status__in=SLOT_HOLDING_STATUSES,
                then=TruncDate("start", tzinfo=clinic_zone()),
            ),
            default=F("window_end"),
            output_field=DateField(),
        )
        earliest = Cast(
            ExpressionWrapper(
                F("mri_reference") - dt.timedelta(days=settings.MRI_VALID_DAYS),
                output_field=DateTimeField(),
            ),
            output_field=DateField(),
        )
        studies = MriStudy.objects.filter(
            patient_id=OuterRef("patient_id"),
            performed_on__lte=OuterRef("mri_reference"),
            performed_on__gte=OuterRef("mri_earliest"),
        )
        return self.alias(mri_reference=reference, mri_earliest=earliest).annotate(
            mri_status=Case(
                When(requires_mri=False, then=Value(MriStatus.NOT_NEEDED.value)),
                When(
                    Exists(studies.filter(report_received_on__isnull=False)),
                    then=Value(MriStatus.DONE.value),
                ),
                When(
                    Exists(studies.filter(report_received_on__isnull=True)),
                    then=Value(MriStatus.REPORT_PENDING.value),
                ),
                default=Value(MriStatus.MISSING.value),
                output_field=models.CharField(),
            )
        )

    def mri_flagged(self, today: dt.date) -> Self:
        """The visits `Visit.mri_flag(today)` flags, in SQL: booked or checked-in
        reviews in the next `MRI_FLAG_DAYS` days (today included) whose MRI is
        missing or its report pending. Someone must chase the scan."""
        first, last = mri_flag_days(today)
        return (
            self.filter(
                requires_mri=True,
                status__in=NOT_YET_SEEN_STATUSES,
                start__gte=start_of_day(first),
                start__lt=start_of_day(last + dt.timedelta(days=1)),
            )
            .with_mri_status()
            .filter(Q(mri_status__in=MRI_NOT_READY))
            .order_by("start", "id")
        )

    def due_between(self, first: dt.date | None, last: dt.date | None) -> Self:
        """Visits due from `first` to `last`, both included; None leaves
        that end open."""
        due = Q()
        if first is not None:
            due &= Q(due_date__gte=first)
        if last is not None:
            due &= Q(due_date__lte=last)
        return self.filter(due)

    def with_last_contact(self) -> Self:
        """Annotate each visit's `attempt_count` and its last attempt's
        `last_attempt_outcome` and `last_attempt_at`, in the same query: what
        every worklist row shows of the tries to reach the patient."""
        last = ContactAttempt.objects.filter(visit_id=OuterRef("pk")).order_by("-id")
        return self.annotate(
            attempt_count=count_of(last),
            last_attempt_outcome=Subquery(last.values("outcome")[:1]),
            last_attempt_at=Subquery(last.values("at")[:1]),
        )

    def with_contact_summary(self) -> Self:
        """Annotate each visit's contact attempts, in the same query: those of
        `with_last_contact`, the last attempt's `last_call_back_on`,
        `failed_in_row` and `unreachable`.

        `failed_in_row` counts the unsuccessful attempts (no answer, message
        left, wrong number) since the last attempt that reached someone and
        since the visit was last booked: a patient who booked was reachable.
        A visit still to book (or after a no-show) with at least
        `FOLLOWUP_MAX_FAILED_ATTEMPTS` of them is `unreachable`.
        """
        attempts = ContactAttempt.objects.filter(visit_id=OuterRef("pk"))
        last = attempts.order_by("-id")
        reached = last.exclude(outcome__in=UNSUCCESSFUL_OUTCOMES).values("id")[:1]
        booked = (
            VisitEvent.objects.filter(
                visit_id=OuterRef("pk"), action__in=("booked", "rebooked")
            )
            .order_by("-id")
            .values("at")[:1]
        )
        failed = attempts.filter(
            outcome__in=UNSUCCESSFUL_OUTCOMES,
            id__gt=OuterRef("last_reached_id"),
            at__gt=OuterRef("last_booked_at"),
        )
        threshold = settings.FOLLOWUP_MAX_FAILED_ATTEMPTS
        return (
            self.with_last_contact()
            .alias(
                last_reached_id=Coalesce(Subquery(reached), Value(0)),
                last_booked_at=Coalesce(
                    Subquery(booked), Value(dt.datetime.min.replace(tzinfo=dt.UTC))
                ),
            )
            .annotate(
                last_call_back_on=Subquery(last.values("call_back_on")[:1]),
                failed_in_row=count_of(failed),
                unreachable=Case(
                    When(
                        status__in=AWAITING_BOOKING_STATUSES,
                        failed_in_row__gte=threshold,
                        then=Value(True),
                    ),
                    default=Value(False),
                    output_field=BooleanField(),
                ),
            )
        )

    def unreachable(self) -> Self:
        """Visits still to book that `FOLLOWUP_MAX_FAILED_ATTEMPTS` tries in a
        row failed to reach: lost to follow-up unless someone gets through."""
        # Q: the stubs cannot see annotations made by QuerySet methods.
        return self.with_contact_summary().filter(Q(unreachable=True))

    def lost_to_follow_up(self, since: dt.datetime) -> Self:
        """Visits lost to follow-up: the `unreachable` ones, and those cancelled
        as lost (`LOST_CAUSES`) since `since`; with their contact summary, the
        unreachable first, each kind longest overdue first.

        The candidates are read first: the visits still to book that someone
        tried to reach, and the partial index `visit_lost_by_update`. Filtering
        on the summary alone would compute it for every visit in the clinic."""
        recently_lost = Q(
            status=VisitStatus.CANCELLED,
            cancelled_by__in=LOST_CAUSES,
            updated_at__gte=since,
        )
        tried = (
            ContactAttempt.objects.filter(visit__status__in=AWAITING_BOOKING_STATUSES)
            .order_by()
            .values("visit_id")
        )
        cancelled = (
            self.model._default_manager.filter(recently_lost).order_by().values("pk")
        )
        return (
            self.filter(pk__in=tried.union(cancelled, all=True))
            .with_contact_summary()
            .filter(Q(unreachable=True) | recently_lost)
            .order_by("-unreachable", "window_end", "id")
        )

    def call_list(self, today: dt.date) -> Self:
        """The patients to call (`to_call`), window closing soonest first,
        with their contact summary. Booking a visit takes it off the list:
        the list is this query, so it moves in the booking's own transaction.
        """
        return (
            self.filter(self.to_call(today))
            .with_contact_summary()
            .order_by(*CALL_ORDER)
        )

    def to_call(self, today: dt.date) -> Q:
        """Whether a visit is on the call list: still to book (or after a
        no-show), its window closed or closing within `CALL_LIST_DAYS` days.

        A visit whose last attempt asked to be called back on a later date
        leaves the list until that date, and is back on it from that day. A
        visit the patient gave up themselves (`PATIENT_REQUEST`, a reply X)
        is on it whatever its window: someone should find them another time.

        One condition, its subqueries inline (no annotation), so that a
        count can take it as an aggregate's filter (`counted_together`).
        """
        gave_up = VisitEvent.objects.filter(
            visit_id=OuterRef("pk"),
            action="unbooked",
            details__reason=PATIENT_REQUEST,
        )
        call_back_on = (
            ContactAttempt.objects.filter(visit_id=OuterRef("pk"))
            .order_by("-id")
            .values("call_back_on")[:1]
        )
        due_again = Coalesce(Subquery(call_back_on), Value(today))
        return (
            Q(status__in=AWAITING_BOOKING_STATUSES)
            & (
                Q(window_end__lte=today + dt.timedelta(days=CALL_LIST_DAYS))
                | Q(Exists(gave_up))
            )
            & Q(LessThanOrEqual(due_again, today))
        )

    def of_surgeon(self, surgeon_id: int) -> Self:
        """A surgeon's patients' visits: those of the procedures they operated,
        and the visits booked with them (a covering colleague sees the patient
        they will see). The one rule for the API, the pages and the feeds.
        Booked means holding a slot with them (or having held it, once seen
        or missed): a booking given back keeps its surgeon, but no longer
        shows the patient to them.

        The operated procedures are a subquery, not a join: an OR across a
        join is checked row by row after the join, while `procedure_id IN
        (…)` is a hashed set each visit is checked against in its own scan,
        so a list read in an index's order stops at its LIMIT."""
        operated = Procedure.objects.filter(surgeon_id=surgeon_id).values("pk")
        return self.filter(
            Q(procedure__in=operated) | Q(surgeon_id=surgeon_id, start__isnull=False)
        )

    def visible_to(self, staff: Staff) -> Self:
        """Every visit for the front desk and admins; a surgeon's patients'."""
        if staff.sees_everything:
            return self
        if staff.surgeon_id is not None:
            return self.of_surgeon(staff.surgeon_id)
        return self.none()
