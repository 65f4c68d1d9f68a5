"""Load the demo clinic once: staff logins, two surgeons, ~50 patients.

Idempotent: a second run finds the demo admin and changes nothing. Patients
are spread over every stage of follow-up (just operated, one month, annual
reviews due, overdue, completed), so a newcomer sees a realistic worklist.
Each surgeon gets weekly consultation sessions, and the booking services,
called with the moment each step would have happened, leave visits in every
state: booked from tomorrow on, checked in, completed, no-show, cancelled,
still to book, and overdue. Then the desk's follow-up of the lost ones:
phone calls (three unanswered in a row: unreachable; a call back later; a
patient who will book; one who declined) and the annual reviews' MRIs
(booked in the next two weeks: one without a study, one with its report
pending, one done). The patients have every consent to reminders: by SMS,
by email, none with a phone, none with nothing known (`demo_contact`).
Apps built on follow-up add their own history last (`followup.demo`: the
messages sent, delivered or failed, and the patients' replies).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clinic.clock import clinic_zone, local_date
from clinic.models import Procedure, ProcedureKind, Reminders, Surgeon
from clinic.search import fold
from followup import demo, services
from followup.models import (
    AWAITING_BOOKING_STATUSES,
    PATIENT_REQUEST,
    ConsultationSession,
    ContactChannel,
    ContactOutcome,
    Visit,
    VisitStatus,
)
from followup.models.authorship import PATIENT_LINK

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - printed for the demo on purpose
STAFF = [
    # username, first, last, group, is superuser
    ("admin", "Ana", "Admin", "clinic_admin", True),
    ("desk", "Dani", "Desk", "front_desk", False),
    ("surgeon1", "Lucia", "Moreno", "surgeon", False),
    ("surgeon2", "Javier", "Ortega", "surgeon", False),
]
GIVEN = ["Maria", "Jose", "Carmen", "Antonio", "Lucia", "Manuel", "Elena", "Pablo"]
FAMILY = ["Garcia", "Lopez", "Martin", "Sanchez", "Perez", "Gomez", "Ruiz", "Diaz"]
PATIENTS = 50
# Days before today for each demo surgery: every stage of the protocol.
SURGERY_AGES = [2, 5, 9, 12, 20, 28, 33, 45, 70, 120, 200, 340, 365, 400, 700, 740]
# Weekly sessions (weekday with Monday 0, from, to), 10-minute slots.
SESSIONS = {
    "surgeon1": [(0, 9, 14), (2, 9, 14), (4, 9, 14), (1, 16, 19)],
    "surgeon2": [(1, 9, 14), (3, 9, 14), (0, 16, 19), (2, 16, 19)],
}
# What becomes of a visit whose window has closed, in turn (to_book: overdue;
# late: booked after its window closed, then seen, or still ahead).
LATE_COMPLETED, LATE_BOOKED = "completed late", "booked late"
PAST_FATES = ["completed", "completed", "no_show", "completed", "to_book"]
PAST_FATES += ["cancelled", "completed", LATE_COMPLETED, "completed", LATE_BOOKED]
# Visits with an open window booked today, for the desk's "Today" list.
TODAY_BOOKINGS = 3


def demo_contact(number: int, name: str) -> services.Contact:
    """Every consent among the demo's patients: reminders by SMS to a
    mobile, by email, none with a landline, none and nothing known."""
    mobile, landline = f"+34 6{number:08d}", f"+34 91{number:07d}"
    email = f"{fold(name).replace(' ', '.')}@example.com"
    match number % 4:
        case 0:
            return services.Contact.parse(phone=mobile, reminders=Reminders.SMS)
        case 1:
            return services.Contact.parse(
                phone=mobile, email=email, reminders=Reminders.EMAIL
            )
        case 2:
            return services.Contact.parse(phone=landline)
    return services.Contact()


class Command(BaseCommand):
    help = "Load the demo clinic (idempotent) and print its logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # It would create a superuser with the password printed above
            # and in the README, who could then enrol their own TOTP device.
            raise CommandError(
                "seed_demo is for the demo only: it creates logins with a "
                "published password, and refuses to run with "
                "DJANGO_PRODUCTION=true."
            )
        if User.objects.filter(username="admin").exists():
            self.stdout.write("Demo clinic already loaded.")
        else:
            self._load(today=timezone.localdate())
            self.stdout.write(self.style.SUCCESS("Demo clinic loaded."))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, first, last, group, _ in STAFF:
            self.stdout.write(f"  {username:<9} {group:<13} {first} {last}")
        self.stdout.write("Open http://127.0.0.1:8000/ and log in.")

    @transaction.atomic
    def _load(self, *, today: dt.date) -> None:
        rng = random.Random(2026)  # noqa: S311 - the same demo every time, not a secret
        surgeons = []
        desk = None
        for username, first, last, group, superuser in STAFF:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_superuser=superuser,
            )
            user.groups.add(Group.objects.get(name=group))
            if group == "front_desk":
                desk = user
            if group == "surgeon":
                surgeon = Surgeon.objects.create(
                    user=user, given_name=first, family_name=last
                )
                surgeons.append(surgeon)
                ConsultationSession.objects.bulk_create(
                    ConsultationSession(
                        surgeon=surgeon,
                        weekday=weekday,
                        start_time=dt.time(start),
                        end_time=dt.time(end),
                        slot_minutes=10,
                    )
                    for weekday, start, end in SESSIONS[username]
                )
        for number in range(1, PATIENTS + 1):
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            patient = services.create_patient(
                record_number=f"MRN{number:05d}",
                given_name=given,
                family_name=family,
                birth_date=dt.date(rng.randint(1945, 2000), rng.randint(1, 12), 15),
                today=today,
                contact=demo_contact(number, f"{given} {family}"),
            )
            age = SURGERY_AGES[number % len(SURGERY_AGES)]
            services.create_procedure(
                patient=patient,
                surgeon=surgeons[number % len(surgeons)],
                kind=(
                    ProcedureKind.ENDOSCOPIC_STEM_CELL
                    if number % 3 == 0
                    else ProcedureKind.ENDOSCOPIC
                ),
                surgery_date=today - dt.timedelta(days=age),
                today=today,
            )
        assert Procedure.objects.count() == PATIENTS  # noqa: S101
        self._bring_visits_to_every_state(today=today, desk=desk)
        self._call_the_lost(today=today, desk=desk)
        self._prepare_mri_reviews(today=today, desk=desk)
        for step in demo.steps():
            step(today=today, desk=desk)
        self._give_a_time_back(now=timezone.now())

    def _bring_visits_to_every_state(
        self, *, today: dt.date, desk: User | None
    ) -> None:
        """Book, check in, complete... as the front desk would have, back then.

        Every step goes through the services with the moment it would have
        happened as `now`, so the demo obeys every control: no held slot
        overlaps another, check-ins happen on the visit's day, no-shows after
        the start, late bookings only once a window has closed.
        """
        zone = clinic_zone()
        morning = dt.datetime.combine(today, dt.time(7), zone)
        tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone)
        past = future = 0
        checked_in_today = False
        visits = list(
            Visit.objects.filter(status=VisitStatus.TO_BOOK).order_by(
                "window_start", "pk"
            )
        )
        # On a day without consultations (a weekend) nobody is checked in
        # today; the latest past visit is then left checked in, not completed.
        closed = [v for v in visits if v.window_end < today]
        still_in = None
        if not ConsultationSession.objects.filter(weekday=today.weekday()).exists():
            still_in = max(closed, key=lambda v: (v.window_end, v.pk), default=None)
        for visit in visits:
            if visit.window_end < today:
                fate = PAST_FATES[past % len(PAST_FATES)]
                if visit == still_in:
                    fate = VisitStatus.CHECKED_IN
                if fate == LATE_BOOKED and (today - visit.window_end).days > 60:
                    fate = VisitStatus.TO_BOOK  # long lost: still overdue
                past += 1
                self._live_through(visit, fate=fate, today=today, desk=desk)
            elif visit.window_start <= today and future < TODAY_BOOKINGS:
                # Today's list at the desk: booked this morning, the first
                # patient already checked in.
                future += 1
                slot = self._book_first(visit, now=morning, desk=desk)
                on_the_day = slot is not None and local_date(slot.start) == today
                if slot is not None and on_the_day and not checked_in_today:
                    services.check_in_visit(
                        visit_id=visit.pk, actor=desk, now=slot.start
                    )
                    checked_in_today = True
            elif future % 3 == 0:
                future += 1
                self._book_first(visit, now=morning, desk=desk, after=tomorrow)
            else:
                future += 1

    def _book_first(
        self,
        visit: Visit,
        *,
        now: dt.datetime,
        desk: User | None,
        after: dt.datetime | None = None,
    ) -> services.Slot | None:
        """Book the first proposed slot (a late one for an overdue visit)."""
        slots = services.free_slots(visit=visit, now=now, after=after, limit=1)
        if not slots:
            return None
        services.book_visit(
            visit_id=visit.pk,
            start=slots[0].start,
            surgeon_id=slots[0].surgeon_id,
            actor=desk,
            now=now,
        )
        return slots[0]

    def _live_through(
        self, visit: Visit, *, fate: str, today: dt.date, desk: User | None
    ) -> None:
        zone = clinic_zone()
        if fate == VisitStatus.TO_BOOK:
            return  # overdue: nobody booked it
        # The desk booked it the morning its window opened, or, for a late
        # one, the morning after its window closed.
        late = fate in (LATE_COMPLETED, LATE_BOOKED)
        opened = visit.window_end + dt.timedelta(days=1) if late else visit.window_start
        if fate == LATE_BOOKED:
            opened = today
        then = dt.datetime.combine(opened, dt.time(7), zone)
        if fate == VisitStatus.CANCELLED:
            services.cancel_visit(
                visit_id=visit.pk,
                reason="Patient chose follow-up nearer home",
                actor=desk,
                now=then,
            )
            return
        slot = self._book_first(visit, now=then, desk=desk)
        if slot is None or fate == LATE_BOOKED or local_date(slot.start) >= today:
            return  # still ahead: stays booked
        if fate == VisitStatus.NO_SHOW:
            services.mark_no_show(visit_id=visit.pk, actor=desk, now=slot.end)
            return
        services.check_in_visit(visit_id=visit.pk, actor=desk, now=slot.start)
        if fate == VisitStatus.CHECKED_IN:
            return
        surgeon_user = User.objects.filter(surgeon__pk=slot.surgeon_id).first()
        services.complete_visit(visit_id=visit.pk, actor=surgeon_user, now=slot.end)

    def _call_the_lost(self, *, today: dt.date, desk: User | None) -> None:
        """The desk's calls about the call list, each on the day it was made.

        In window order: two patients never answered three times (unreachable),
        one asked to be called back in three days (off the list until then),
        one will book, one declined (the visit is cancelled), and one closing
        soon got a message.
        """
        zone = clinic_zone()
        waiting = Visit.objects.filter(status__in=AWAITING_BOOKING_STATUSES)
        overdue = list(waiting.filter(window_end__lt=today).order_by("window_end"))
        soon = today + dt.timedelta(days=7)
        closing = list(
            waiting.filter(window_end__gte=today, window_end__lte=soon).order_by(
                "window_end", "pk"
            )
        )

        def call(visit: Visit, days_ago: int, outcome: str, **extra: Any) -> None:
            day = today - dt.timedelta(days=days_ago)
            services.record_contact_attempt(
                visit_id=visit.pk,
                channel=ContactChannel(extra.pop("channel", "phone")),
                outcome=ContactOutcome(outcome),
                actor=desk,
                now=dt.datetime.combine(day, dt.time(10, 30), zone),
                **extra,
            )

        plans: list[list[tuple[int, str, dict[str, Any]]]] = [
            [(12, "no_answer", {}), (8, "no_answer", {}), (3, "no_answer", {})],
            [
                (9, "left_message", {"note": "Voicemail, asked to ring the clinic"}),
                (5, "wrong_number", {"channel": "sms"}),
                (1, "no_answer", {}),
            ],
            [
                (4, "no_answer", {}),
                (
                    1,
                    "call_back_later",
                    {
                        "call_back_on": today + dt.timedelta(days=3),
                        "note": "Daughter answered: back from holiday on Friday",
                    },
                ),
            ],
            [(2, "will_book", {"note": "Will phone back with a date that suits"})],
            [(6, "declined", {"note": "Prefers follow-up with his GP"})],
        ]
        for visit, plan in zip(overdue, plans, strict=False):
            for days_ago, outcome, extra in plan:
                call(visit, days_ago, outcome, **extra)
        for visit in closing[:1]:
            call(visit, 1, "left_message", note="Message with the booking line")

    def _prepare_mri_reviews(self, *, today: dt.date, desk: User | None) -> None:
        """The annual reviews booked in the next two weeks (at least three,
        booking more if needed): the first without a study (MRI missing),
        the second with its report pending, the third with its report (done);
        any others stay missing."""
        zone = clinic_zone()
        morning = dt.datetime.combine(today, dt.time(7), zone)
        tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone)
        fortnight = today + dt.timedelta(days=14)
        to_book = Visit.objects.filter(
            requires_mri=True,
            status=VisitStatus.TO_BOOK,
            window_start__lte=fortnight,
            window_end__gt=today,
        ).order_by("window_end", "pk")
        for visit in to_book:
            if Visit.objects.mri_flagged(today).count() >= 3:
                break
            slots = services.free_slots(
                visit=visit, now=morning, after=tomorrow, limit=1
            )
            if not slots or local_date(slots[0].start) > fortnight:
                continue
            services.book_visit(
                visit_id=visit.pk,
                start=slots[0].start,
                surgeon_id=slots[0].surgeon_id,
                actor=desk,
                now=morning,
            )
        flagged = list(Visit.objects.mri_flagged(today))
        for number, visit in enumerate(flagged[1:3], start=1):
            services.record_mri_study(
                patient_id=visit.patient_id,
                performed_on=today - dt.timedelta(days=10 * number),
                reference=f"PACS-{visit.patient_id:05d}-{number}",
                report_received_on=(
                    today - dt.timedelta(days=5) if number == 2 else None
                ),
                actor=desk,
                today=today,
            )

    def _give_a_time_back(self, *, now: dt.datetime) -> None:
        """A patient gives a time two days or more ahead back through their
        link ("I can't come"), now: the freed slot is offered in the same
        transaction (`offers`, listening to `followup.changes`) to the
        patients whose window holds it, so the worklist and their patient
        pages show pending offers, and their offer texts are in the outbox."""
        # Not one the patient has just confirmed by text (messaging's demo
        # step): which visit that is depends on the hour the demo runs.
        booked = Visit.objects.filter(
            status=VisitStatus.BOOKED,
            start__gte=now + dt.timedelta(days=2),
            confirmed=False,
        ).order_by("start", "pk")
        for visit in booked:
            # A booked visit has a slot and a surgeon.
            assert visit.start is not None and visit.surgeon_id is not None  # noqa: S101
            day = local_date(visit.start)
            wanted = (
                Visit.objects.filter(
                    status__in=AWAITING_BOOKING_STATUSES,
                    window_start__lte=day,
                    window_end__gte=day,
                    procedure__surgeon_id=visit.surgeon_id,
                )
                .exclude(patient_id=visit.patient_id)
                .exclude(patient__reminders=Reminders.NONE)
            )
            if wanted.exists():
                services.unbook_visit(
                    visit_id=visit.pk,
                    actor=PATIENT_LINK,
                    now=now,
                    reason=PATIENT_REQUEST,
                    patient_request=True,
                )
                return
