"""The patient page's rows: each procedure's timeline of visits, recovery
milestones and today, read in three prefetched queries whatever the number
of visits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch

from booking_links.models import may_have_link
from booking_links.states import LinkState, states_of
from clinic.clock import local
from clinic.models import Patient, Procedure
from followup import rules
from followup.access import Staff
from followup.models import (
    ContactAttempt,
    RecoveryMilestone,
    Visit,
    VisitEvent,
    plan_input,
)
from messaging import schedule
from messaging.models import Message
from offers.models import Offer, OfferStatus
from web.offer_marks import MARK_WORDS, state_at


@dataclass(frozen=True)
class Entry:
    """One line of a procedure's timeline: a visit, a milestone, or today."""

    date: dt.date
    visit: Visit | None = None
    milestone: str = ""
    is_today: bool = False
    is_past: bool = False
    is_overdue: bool = False

    @property
    def title(self) -> str:
        if self.visit is None:
            return self.milestone
        return visit_title(self.visit)


def visit_title(visit: Visit) -> str:
    """A visit as the patient page names it."""
    rule = visit.rule
    if rule.recurring:
        return f"{rule.name}, year {visit.occurrence}"
    return rule.name


@dataclass
class ProcedurePlan:
    procedure: Procedure
    entries: list[Entry] = field(default_factory=list)


def timeline(
    procedure: Procedure,
    visits: list[Visit],
    milestones: list[rules.MilestoneSpec],
    *,
    today: dt.date,
) -> list[Entry]:
    """Visits (by their booked day, else their due date), the recovery
    milestones, and a marker for today, in date order."""
    entries = [
        Entry(
            date=visit.slot_local_date() or visit.due_date,
            visit=visit,
            is_past=(visit.slot_local_date() or visit.due_date) < today,
            is_overdue=visit.is_overdue(today),
        )
        for visit in visits
    ]
    entries += [
        Entry(date=day, milestone=spec.title, is_past=day < today)
        for spec, day in rules.milestones(plan_input(procedure), milestones)
    ]
    entries.sort(key=lambda entry: (entry.date, entry.visit is None))
    if entries:
        where = next(
            (i for i, entry in enumerate(entries) if entry.date >= today), len(entries)
        )
        entries.insert(where, Entry(date=today, is_today=True))
    return entries


def procedure_plans(
    patient: Patient, staff: Staff, *, today: dt.date
) -> list[ProcedurePlan]:
    """The patient's procedures this person sees, newest first, each with
    its timeline."""
    events = VisitEvent.objects.select_related("actor").order_by("id")
    attempts = ContactAttempt.objects.select_related("actor").order_by("id")
    visits = (
        Visit.objects.visible_to(staff)
        .select_related("rule", "surgeon")
        .with_mri_status()
        .with_contact_summary()
        .prefetch_related(
            Prefetch("events", queryset=events),
            Prefetch("contact_attempts", queryset=attempts),
        )
        .order_by("due_date", "id")
    )
    procedures = (
        Procedure.objects.visible_to(staff)
        .filter(patient=patient)
        .select_related("surgeon")
        .prefetch_related(Prefetch("visits", queryset=visits))
        .order_by("-surgery_date", "-id")
    )
    specs = RecoveryMilestone.objects.specs()
    return [
        ProcedurePlan(
            procedure=procedure,
            entries=timeline(
                procedure, list(procedure.visits.all()), specs, today=today
            ),
        )
        for procedure in procedures
    ]


@dataclass(frozen=True)
class LinkRow:
    """A visit that may have a booking link, and its link's state."""

    visit: Visit
    title: str
    state: LinkState


def link_rows(plans: list[ProcedurePlan], *, today: dt.date) -> list[LinkRow]:
    """The booking links of the plans' visits that may have one, in the
    plans' order: one query whatever the number of visits."""
    visits = [
        entry.visit
        for plan in plans
        for entry in plan.entries
        if entry.visit is not None and may_have_link(entry.visit, today)
    ]
    states = states_of(visits, today=today)
    return [LinkRow(visit, visit_title(visit), states[visit.pk]) for visit in visits]


# The patient page lists this many of the patient's latest messages.
MESSAGES_SHOWN = 30


@dataclass(frozen=True)
class MessageRow:
    message: Message
    visit_title: str
    # Queued: when the sender will send it, if not when it is due (held by
    # the quiet hours, or a retry's wait); None otherwise.
    goes_at: dt.datetime | None = None
    quiet: bool = False  # goes_at is the end of the quiet hours

    @property
    def when(self) -> dt.datetime | None:
        """Sent: when; otherwise when it is (or was) due."""
        return self.message.sent_at or self.message.scheduled_for


def message_row(message: Message, *, now: dt.datetime) -> MessageRow:
    """A message as the patient page lists it: a queued one says when it
    really goes, as the sender reckons it (`schedule.ready_at`, then
    `schedule.sending_time`)."""
    title = visit_title(message.visit) if message.visit else ""
    ready = schedule.ready_at(message, now)
    if ready is None:
        return MessageRow(message, title)
    goes = schedule.sending_time(ready)
    quiet = goes != ready
    if not quiet and ready in (now, message.scheduled_for):
        return MessageRow(message, title)  # it goes when due, or at the next run
    return MessageRow(message, title, goes_at=goes, quiet=quiet)


def message_rows(
    patient: Patient, staff: Staff, *, now: dt.datetime
) -> list[MessageRow]:
    """The patient's latest messages about the visits `staff` may see."""
    visits = Visit.objects.visible_to(staff)
    latest = Message.objects.of_patient(patient.pk, visits)[:MESSAGES_SHOWN]
    return [message_row(m, now=now) for m in latest]


# The patient page lists this many of the patient's latest offers.
OFFERS_SHOWN = 20


@dataclass(frozen=True)
class OfferRow:
    """An offer of a freed slot as the patient page lists it."""

    offer: Offer
    visit_title: str
    state: str  # as of now: pending past its end reads expired

    @property
    def words(self) -> str:
        return MARK_WORDS[OfferStatus(self.state)]

    @property
    def start(self) -> dt.datetime:
        return local(self.offer.freed_slot.start)


def offer_rows(patient: Patient, staff: Staff, *, now: dt.datetime) -> list[OfferRow]:
    """The patient's latest offers of freed slots, for visits `staff` sees."""
    offers = (
        Offer.objects.filter(
            patient_id=patient.pk, visit__in=Visit.objects.visible_to(staff)
        )
        .select_related("visit__rule", "freed_slot__surgeon")
        .order_by("-created_at", "-pk")[:OFFERS_SHOWN]
    )
    return [
        OfferRow(o, visit_title(o.visit), state_at(o.status, o.expires_at, now))
        for o in offers
    ]
