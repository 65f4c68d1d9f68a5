"""The visits a procedure's plan generates, their statuses and history.

Every change of a visit writes a `VisitEvent`. Reads live on `VisitQuerySet`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

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

from clinic.clock import clinic_zone, local_date, start_of_day
from clinic.models import Patient, Procedure
from followup import rules
from followup.models.events import PATIENT_REQUEST, VisitEvent
from followup.models.mri import MRI_FLAG_DAYS, MriStatus, MriStudy
from followup.models.outreach import (
    CALL_LIST_DAYS,
    UNSUCCESSFUL_OUTCOMES,
    ContactAttempt,
    count_of,
)
from followup.models.protocol import FollowUpRule
from followup.models.statuses import (
    AWAITING_BOOKING_STATUSES,
    FHIR_STATUS,
    NOT_YET_SEEN_STATUSES,
    OPEN_STATUSES,
    SLOT_HOLDING_STATUSES,
    VisitStatus,
)
from followup.models.worklist import WorklistQueries

if TYPE_CHECKING:
    from clinic.staff import Staff


def plan_input(procedure: Procedure) -> rules.Procedure:
    """A procedure as the pure planner reads it."""
    return rules.Procedure(
        surgery_date=procedure.surgery_date,
        kind=procedure.kind,
        annual_reviews_ended_on=procedure.annual_reviews_ended_on,
    )


class CancelReason(models.TextChoices):
    """Why a visit was cancelled by the system rather than by a person."""

    REPLANNED = "replanned", "No longer in the plan after a correction"
    PROCEDURE_CANCELLED = "procedure_cancelled", "Procedure cancelled"
    ENTERED_IN_ERROR = "entered_in_error", "Procedure entered in error"
    PROGRAMME_ENDED = "programme_ended", "Annual-review programme ended"
    # A contact attempt's outcome: the patient is lost to this follow-up.
    DECLINED = "declined", "Patient declined this follow-up"
    MOVED_AWAY = "moved_away", "Patient moved away"
    DECEASED = "deceased", "Patient deceased"
    OTHER = "other", "Other"


# A visit cancelled for one of these is lost to follow-up, not merely moved.
LOST_CAUSES = (CancelReason.DECLINED, CancelReason.MOVED_AWAY, CancelReason.DECEASED)
# ...and for these the patient has left the clinic's care: the pages mark them.
LEFT_CARE_CAUSES = (CancelReason.MOVED_AWAY, CancelReason.DECEASED)


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


class VisitQuerySet(WorklistQueries, models.QuerySet["Visit"]):
    def open(self) -> VisitQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today: dt.date) -> VisitQuerySet:
        return self.filter(status__in=AWAITING_BOOKING_STATUSES, window_end__lt=today)

    def left_care(self) -> VisitQuerySet:
        """Cancelled because the patient moved away or died, latest first."""
        return self.filter(
            status=VisitStatus.CANCELLED, cancelled_by__in=LEFT_CARE_CAUSES
        ).order_by("-updated_at", "-pk")

    def with_patient_left_care(self) -> VisitQuerySet:
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

    def waiting_to_complete(self) -> VisitQuerySet:
        """Checked in, on any day, and not completed yet: the surgeon's and
        the desk's *Waiting to be completed*, the longest waiting first."""
        return self.filter(status=VisitStatus.CHECKED_IN).order_by("start", "id")

    def upcoming(self, today: dt.date, days: int) -> VisitQuerySet:
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
    ) -> models.QuerySet[Visit, Any]:
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
    ) -> VisitQuerySet:
        """The slots a surgeon holds from `start` to before `end`, in time
        order: booked, checked-in and completed visits (a no-show or a
        cancellation frees its slot)."""
        return self.filter(
            surgeon_id=surgeon_id,
            status__in=SLOT_HOLDING_STATUSES,
            start__gte=start,
            start__lt=end,
        ).order_by("start", "id")

    def with_api_relations(self) -> VisitQuerySet:
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

    def with_mri_status(self) -> VisitQuerySet:
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

    def mri_flagged(self, today: dt.date) -> VisitQuerySet:
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

    def due_between(self, first: dt.date | None, last: dt.date | None) -> VisitQuerySet:
        """Visits due from `first` to `last`, both included; None leaves
        that end open."""
        due = Q()
        if first is not None:
            due &= Q(due_date__gte=first)
        if last is not None:
            due &= Q(due_date__lte=last)
        return self.filter(due)

    def with_last_contact(self) -> VisitQuerySet:
        """Annotate each visit's `attempt_count` and its last attempt's
        `last_attempt_outcome` and `last_attempt_at`, in the same query: what
        every worklist row shows of the tries to reach the patient."""
        last = ContactAttempt.objects.filter(visit_id=OuterRef("pk")).order_by("-id")
        return self.annotate(
            attempt_count=count_of(last),
            last_attempt_outcome=Subquery(last.values("outcome")[:1]),
            last_attempt_at=Subquery(last.values("at")[:1]),
        )

    def with_contact_summary(self) -> VisitQuerySet:
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

    def unreachable(self) -> VisitQuerySet:
        """Visits still to book that `FOLLOWUP_MAX_FAILED_ATTEMPTS` tries in a
        row failed to reach: lost to follow-up unless someone gets through."""
        # Q: the stubs cannot see annotations made by QuerySet methods.
        return self.with_contact_summary().filter(Q(unreachable=True))

    def lost_to_follow_up(self, since: dt.datetime) -> VisitQuerySet:
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

    def call_list(self, today: dt.date) -> VisitQuerySet:
        """The patients to call: visits still to book (or after a no-show)
        whose window has closed or closes within `CALL_LIST_DAYS` days,
        window closing soonest first, with their contact summary.

        A visit whose last attempt asked to be called back on a later date
        leaves the list until that date, and is back on it from that day.
        Booking a visit takes it off the list: the list is this query, so
        it moves in the booking's own transaction. A visit the patient gave
        up themselves (`PATIENT_REQUEST`, a reply X) is on it whatever its
        window: someone should find them another time.
        """
        gave_up = VisitEvent.objects.filter(
            visit_id=OuterRef("pk"),
            action="unbooked",
            details__reason=PATIENT_REQUEST,
        )
        return (
            self.filter(status__in=AWAITING_BOOKING_STATUSES)
            .filter(
                Q(window_end__lte=today + dt.timedelta(days=CALL_LIST_DAYS))
                | Exists(gave_up)
            )
            .with_contact_summary()
            .filter(Q(last_call_back_on=None) | Q(last_call_back_on__lte=today))
            .order_by("window_end", "due_date", "id")
        )

    def of_surgeon(self, surgeon_id: int) -> VisitQuerySet:
        """A surgeon's patients' visits: those of the procedures they operated,
        and the visits booked with them (a covering colleague sees the patient
        they will see). The one rule for the API, the pages and the feeds.

        The operated procedures are a subquery, not a join: an OR across a
        join is checked row by row after the join, while `procedure_id IN
        (…)` is a hashed set each visit is checked against in its own scan,
        so a list read in an index's order stops at its LIMIT."""
        operated = Procedure.objects.filter(surgeon_id=surgeon_id).values("pk")
        return self.filter(Q(procedure__in=operated) | Q(surgeon_id=surgeon_id))

    def visible_to(self, staff: Staff) -> VisitQuerySet:
        """Every visit for the front desk and admins; a surgeon's patients'."""
        if staff.sees_everything:
            return self
        if staff.surgeon_id is not None:
            return self.of_surgeon(staff.surgeon_id)
        return self.none()


class Visit(models.Model):
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="visits"
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="visits",
        help_text="The procedure's patient, copied here so that the database "
        "itself can refuse a patient's overlapping bookings.",
    )
    rule = models.ForeignKey(FollowUpRule, on_delete=models.PROTECT, related_name="+")
    occurrence = models.PositiveIntegerField(default=1)
    due_date = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    duration_minutes = models.PositiveIntegerField()
    requires_mri = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=VisitStatus.choices, default=VisitStatus.TO_BOOK
    )
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    surgeon = models.ForeignKey(
        "clinic.Surgeon",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="booked_visits",
        help_text="Who sees the patient at this visit; set when booked.",
    )
    needs_rebooking = models.BooleanField(
        default=False,
        help_text="The booked slot lies outside the window after a correction.",
    )
    sequence = models.PositiveIntegerField(
        default=0, help_text="iCalendar SEQUENCE: rises on every reschedule."
    )
    late_by_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Booked this many days after its window closed: seen late.",
    )
    confirmed = models.BooleanField(
        default=False,
        help_text="The patient confirmed this booking (a reply to its reminder); "
        "cleared when the visit is moved, unbooked or cancelled.",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    cancelled_by = models.CharField(
        max_length=24, choices=CancelReason.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["window_end", "due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "rule", "occurrence"],
                name="visit_one_per_rule_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(window_start__lte=F("due_date"))
                & Q(due_date__lte=F("window_end")),
                name="visit_window_holds_due_date",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VisitStatus.values), name="visit_status_known"
            ),
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__lt=F("end")),
                name="visit_slot_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=SLOT_HOLDING_STATUSES)
                | Q(start__isnull=False, surgeon__isnull=False),
                name="visit_booked_has_slot",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "window_end"]),
            models.Index(fields=["surgeon", "start"]),
            # The front desk's worklist ("All": to book, no-shows, and booked
            # visits to rebook) in its own order, so that a page and a tab's
            # capped count read only the rows they show. `window_start` rides
            # along for the buckets' conditions, checked in the index.
            models.Index(
                fields=["window_end", "due_date", "id", "window_start"],
                condition=Q(status__in=AWAITING_BOOKING_STATUSES)
                | Q(status=VisitStatus.BOOKED, needs_rebooking=True),
                name="visit_to_work_by_window",
            ),
            # A surgeon's upcoming visits to book, by due date (`upcoming`).
            models.Index(
                fields=["due_date", "window_end", "window_start"],
                condition=Q(status__in=AWAITING_BOOKING_STATUSES, start=None),
                name="visit_awaiting_by_due_date",
            ),
            # A no-show still to rebook keeps the slot it missed (`upcoming`).
            models.Index(
                fields=["start"],
                condition=Q(status__in=AWAITING_BOOKING_STATUSES, start__isnull=False),
                name="visit_awaiting_with_slot",
            ),
            # "Not yet open": the visits to book by the day their window opens.
            models.Index(
                fields=["window_start"],
                condition=Q(status__in=AWAITING_BOOKING_STATUSES),
                name="visit_awaiting_by_opening",
            ),
            # Visits cancelled as lost, by when (`lost_to_follow_up`).
            models.Index(
                fields=["updated_at"],
                condition=Q(status=VisitStatus.CANCELLED, cancelled_by__in=LOST_CAUSES),
                name="visit_lost_by_update",
            ),
            # Booked, not seen yet, by time: the desk's Today tab, a surgeon's
            # upcoming bookings, the MRI chase list.
            models.Index(
                fields=["start"],
                condition=Q(status__in=NOT_YET_SEEN_STATUSES),
                name="visit_not_yet_seen_by_start",
            ),
        ]
        permissions = [
            ("override_booking_window", "Can book a visit outside its window"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label()} due {self.due_date}"

    def kind_label(self) -> str:
        """The visit as the clinic names it: its rule, and which one of a
        recurring series after the first ("Annual MRI review #2")."""
        suffix = f" #{self.occurrence}" if self.occurrence > 1 else ""
        return f"{self.rule.name}{suffix}"

    def is_overdue(self, today: dt.date) -> bool:
        """Its window closed before `today` while it still waits for a slot
        (`VisitQuerySet.overdue`)."""
        return self.status in AWAITING_BOOKING_STATUSES and self.window_end < today

    def mri_not_ready(self) -> MriStatus | None:
        """`missing` or `report_pending` for a review whose scan is not ready,
        else None. Reads `mri_status` (`VisitQuerySet.with_mri_status`); a
        visit read without it is never flagged."""
        status = getattr(self, "mri_status", None)
        if not self.requires_mri or status not in MRI_NOT_READY:
            return None
        return MriStatus(status)

    def mri_flag(self, today: dt.date) -> MriStatus | None:
        """The scan to chase before this visit, if it is a booked (or checked-in)
        review in the next `MRI_FLAG_DAYS` days whose scan is not ready; the
        one rule behind `VisitQuerySet.mri_flagged`, the banner and every row."""
        if self.status not in NOT_YET_SEEN_STATUSES or self.start is None:
            return None
        first, last = mri_flag_days(today)
        if not first <= local_date(self.start) <= last:
            return None
        return self.mri_not_ready()

    @property
    def fhir_status(self) -> str:
        return FHIR_STATUS[VisitStatus(self.status)]

    def slot_local_date(self) -> dt.date | None:
        if self.start is None:
            return None
        return local_date(self.start)

    def as_plan_input(self) -> rules.ExistingVisit:
        return rules.ExistingVisit(
            id=self.pk,
            rule_code=self.rule.code,
            occurrence=self.occurrence,
            status=self.status,
            due_date=self.due_date,
            window_start=self.window_start,
            window_end=self.window_end,
            slot_date=self.slot_local_date(),
            needs_rebooking=self.needs_rebooking,
            cancelled_by_plan=self.cancelled_by == CancelReason.REPLANNED,
        )
