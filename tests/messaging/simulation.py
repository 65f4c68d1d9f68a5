"""A clinic's 90 days, for the messaging simulation (test_simulation.py).

The world: 5,000 endoscopic procedures imported at once (the CSV import's
bulk path), each with its post-operative and one-month controls: 10,000
visits whose windows fall in the 90 days from Monday 15 February 2027, in
Madrid, across the change to summer time on Sunday 28 March. Patients
agree to SMS (30 %), email (20 %) or nothing; a few SMS patients share a
family phone. Twenty surgeons consult on weekdays 09:00-14:00 and
16:00-21:00, so a reminder two days before an evening visit falls in the
quiet hours (20:00-09:00).

`Clinic` plays the front desk and the patients, from a seeded random
generator, through the real services: it books a quarter of the visits of
the patients who agreed to messages (the others stay to book, and get
their invitations and overdue messages), and then reschedules, unbooks,
cancels, checks in and marks no-shows (`followup.services`), corrects
consent (`correct_patient`), and texts back C, X, R, STOP, START and
nonsense (`messaging.replies.receive_sms`). A few changes bypass the
services, as a data fix or a restored backup would (a visit moved or
cancelled, consent withdrawn, by a bare UPDATE): the outbox never hears of
them, so only the sender's re-read at send time stands between them and a
wrong message.

`Truth` is what the simulation itself saw: each visit's state (as the
service that changed it returned it, or read from the database after any
other change), each patient's consent and each number's STOP, with the
time. Changes happen 17 seconds past a
minute and sends on the minute, so "the state at send time" is never
ambiguous.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import heapq
import io
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from clinic.models import Patient, Reminders, Surgeon
from followup import services
from followup.exceptions import DomainError
from followup.models import Visit, VisitStatus
from followup.services.import_file import COLUMNS, OPTIONAL_COLUMNS
from messaging import replies
from tests.followup.world import MADRID, madrid
from tests.messaging.conftest import Clock

START = madrid(2027, 2, 15, 0)
END = madrid(2027, 5, 16, 0)  # 90 days on
DST_CHANGE = dt.date(2027, 3, 28)
PROCEDURES = 5_000
SURGEONS = 20
HOURS = [
    (day, dt.time(begins), dt.time(ends), 10)
    for day in range(5)
    for begins, ends in ((9, 14), (16, 21))
]
CONSENTS = {Reminders.SMS: 0.3, Reminders.EMAIL: 0.2, Reminders.NONE: 0.5}
# Of the visits of patients who agreed to messages, booked by the desk at
# some time before their window closes (the others stay to book: their
# invitations and overdue messages go).
BOOKED = 0.25
FAMILY_PHONES = 0.04  # of SMS patients, sharing their number with the next
REPLY_WORDS = {"C": 0.35, "sí": 0.1, "x": 0.12, "R": 0.08, "STOP": 0.2, "what?": 0.15}
STOP_WORDS = {"STOP"}
START_WORDS = {"START", "Unstop"}
S = VisitStatus
# What an action acts on: a visit's or a patient's id, or (number, text).
Target = int | tuple[str, str]


class VisitState(NamedTuple):
    status: str
    start: dt.datetime | None
    sequence: int


@dataclass
class Timeline:
    """Values with the moment each began, in time order."""

    times: list[dt.datetime] = field(default_factory=list)
    values: list[object] = field(default_factory=list)

    def add(self, at: dt.datetime, value: object) -> None:
        if not self.values or self.values[-1] != value:
            self.times.append(at)
            self.values.append(value)

    def at(self, moment: dt.datetime) -> object:
        """The value that held just before `moment`."""
        index = bisect.bisect_left(self.times, moment) - 1
        return self.values[index] if index >= 0 else None


@dataclass
class Truth:
    visits: dict[int, Timeline] = field(default_factory=lambda: defaultdict(Timeline))
    consent: dict[int, Timeline] = field(default_factory=lambda: defaultdict(Timeline))
    stopped: dict[str, Timeline] = field(default_factory=lambda: defaultdict(Timeline))

    def observe_visits(self, ids: Iterable[int], at: dt.datetime) -> None:
        rows = Visit.objects.filter(pk__in=list(ids)).values_list(
            "pk", "status", "start", "sequence"
        )
        for pk, status, start, sequence in rows:
            self.visits[pk].add(at, VisitState(status, start, sequence))

    def saw(self, visit: Visit, at: dt.datetime) -> None:
        """A visit as the service that changed it returned it."""
        self.visits[visit.pk].add(
            at, VisitState(visit.status, visit.start, visit.sequence)
        )

    def observe_patients(self, ids: Iterable[int], at: dt.datetime) -> None:
        rows = Patient.objects.filter(pk__in=list(ids)).values_list(
            "pk", "reminders", "phone", "email"
        )
        for pk, reminders, phone, email in rows:
            address = {"sms": phone, "email": email}.get(reminders, "")
            self.consent[pk].add(at, (reminders, address))


def import_clinic(rng: random.Random, clock: Clock) -> None:
    """The surgeons, and the procedures through the CSV import."""
    surgeons = Surgeon.objects.bulk_create(
        Surgeon(given_name="Ana", family_name=f"Cirujana {n}") for n in range(SURGEONS)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, *OPTIONAL_COLUMNS])
    consents = rng.choices(
        list(CONSENTS), weights=list(CONSENTS.values()), k=PROCEDURES
    )
    family = ""  # the last SMS patient's number, which the next may share
    for n, consent in enumerate(consents):
        phone = f"+3462{n:07d}"
        if consent == Reminders.SMS:
            if family and rng.random() < FAMILY_PHONES:
                phone = family
            family = phone
        surgery = START.date() + dt.timedelta(days=rng.randrange(-40, 75))
        writer.writerow(
            [
                f"S{n:06d}",
                rng.choice(["Lucía", "José", "Carmen", "Íñigo"]),
                "García",
                "1960-03-01",
                surgeons[n % SURGEONS].pk,
                "endoscopic",
                surgery.isoformat(),
                phone,
                f"patient{n}@example.org",
                consent if consent != Reminders.NONE else "",
            ]
        )
    clock.moment = START - dt.timedelta(hours=1)
    services.import_procedures_csv(
        data=out.getvalue().encode(), actor=None, today=clock.moment.date()
    )
    # As the clinic's autovacuum would have by the next morning: the planner
    # would otherwise take the new tables for empty ones.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def at_17(moment: dt.datetime) -> dt.datetime:
    """A change's moment: 17 seconds past its minute, never a send's."""
    return moment.replace(second=17, microsecond=0)


def between(rng: random.Random, first: dt.datetime, last: dt.datetime) -> dt.datetime:
    seconds = max(0.0, (last - first).total_seconds())
    return at_17(first + dt.timedelta(seconds=rng.uniform(0, seconds)))


def day_start(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), MADRID)


@dataclass
class Clinic:
    """The front desk and the patients, acting at random on the clock."""

    rng: random.Random
    clock: Clock
    desk: User
    truth: Truth = field(default_factory=Truth)
    stats: Counter[str] = field(default_factory=Counter)
    _events: list[tuple[dt.datetime, int, str, Target]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- the plan ---------------------------------------------------------

    def plan(self, at: dt.datetime, action: str, target: Target) -> None:
        if START <= at < END:
            heapq.heappush(self._events, (at_17(at), next(self._order), action, target))

    def next_at(self) -> dt.datetime | None:
        return self._events[0][0] if self._events else None

    def run_next(self) -> None:
        at, _, action, target = heapq.heappop(self._events)
        self.clock.moment = at
        handler: Callable[[Any, dt.datetime], None] = getattr(self, f"_{action}")
        try:
            handler(target, at)
        except DomainError:
            self.stats[f"{action}_refused"] += 1
        else:
            self.stats[action] += 1

    def begin(self) -> None:
        """Each visit's first step, and the patients' consent changes."""
        at = self.clock.moment
        visits = list(Visit.objects.select_related("patient").order_by("pk"))
        self.truth.observe_visits([v.pk for v in visits], at)
        self.truth.observe_patients({v.patient_id for v in visits}, at)
        for visit in visits:
            opens = max(START, day_start(visit.window_start) - dt.timedelta(days=14))
            closes = day_start(visit.window_end, 20)
            roll = self.rng.random()
            if visit.patient.reminders == Reminders.NONE:
                continue  # nobody writes to them: their bookings change nothing
            if roll < BOOKED:
                self.plan(between(self.rng, opens, closes), "book", visit.pk)
            elif roll < BOOKED + 0.04:
                self.plan(between(self.rng, START, closes), "cancel", visit.pk)
        for patient_id in sorted({v.patient_id for v in visits}):
            roll = self.rng.random()
            if roll < 0.015:
                self.plan(between(self.rng, START, END), "consent", patient_id)
            elif roll < 0.022:
                self.plan(between(self.rng, START, END), "withdraw_unseen", patient_id)

    # --- the front desk ---------------------------------------------------

    def _slot(self, visit: Visit, now: dt.datetime) -> services.Slot | None:
        """A free slot on a random day and hour the visit may take."""
        first, last, _ = services.slot_days(visit, now)
        if first > last:
            return None
        day = first + dt.timedelta(days=self.rng.randrange((last - first).days + 1))
        after = max(now, day_start(day, self.rng.randrange(9, 21)))
        slots = services.free_slots(visit=visit, now=now, after=after, limit=3)
        slots = slots or services.free_slots(visit=visit, now=now, limit=3)
        return self.rng.choice(slots) if slots else None

    def _book(self, visit_id: int, now: dt.datetime) -> None:
        self._place(visit_id, now, services.book_visit, (S.TO_BOOK, S.NO_SHOW))

    def _reschedule(self, visit_id: int, now: dt.datetime) -> None:
        self._place(visit_id, now, services.reschedule_visit, (S.BOOKED,))

    def _place(
        self,
        visit_id: int,
        now: dt.datetime,
        move: Callable[..., Visit],
        sources: tuple[str, ...],
    ) -> None:
        visit = Visit.objects.select_related("procedure").get(pk=visit_id)
        slot = self._slot(visit, now) if visit.status in sources else None
        if slot is None:
            self.stats["no_slot"] += 1
            return
        visit = move(
            visit_id=visit.pk,
            start=slot.start,
            surgeon_id=slot.surgeon_id,
            actor=self.desk,
            now=now,
        )
        self.truth.saw(visit, now)
        self._after_booking(visit, now)

    def _after_booking(self, visit: Visit, now: dt.datetime) -> None:
        assert visit.start is not None
        start, roll = visit.start, self.rng.random()
        before = between(self.rng, now, start - dt.timedelta(hours=1))
        steps = [
            (0.14, "reschedule", before),
            (0.20, "unbook", before),
            (0.24, "cancel", before),
            (0.36, "no_show", between(self.rng, start, start + dt.timedelta(hours=3))),
            (0.40, "check_in", start + dt.timedelta(minutes=1)),
            (0.43, "move_unseen", before),
            (0.46, "cancel_unseen", before),
        ]
        for threshold, action, at in steps:
            if roll < threshold:
                self.plan(at, action, visit.pk)
                return

    def _simple(
        self,
        visit_id: int,
        now: dt.datetime,
        call: Callable[..., Visit],
        **more: str,
    ) -> Visit:
        visit = call(visit_id=visit_id, actor=self.desk, now=now, **more)
        self.truth.saw(visit, now)  # a refusal changed nothing
        return visit

    def _unbook(self, visit_id: int, now: dt.datetime) -> None:
        visit = self._simple(visit_id, now, services.unbook_visit, reason="Called")
        if self.rng.random() < 0.5:
            closes = day_start(visit.window_end, 20)
            later = between(self.rng, now, max(closes, now + dt.timedelta(days=1)))
            self.plan(later, "book", visit.pk)

    def _cancel(self, visit_id: int, now: dt.datetime) -> None:
        self._simple(visit_id, now, services.cancel_visit, reason="Not needed")

    def _no_show(self, visit_id: int, now: dt.datetime) -> None:
        visit = self._simple(visit_id, now, services.mark_no_show)
        if self.rng.random() < 0.5:
            self.plan(now + dt.timedelta(days=self.rng.uniform(1, 6)), "book", visit.pk)

    def _check_in(self, visit_id: int, now: dt.datetime) -> None:
        self._simple(visit_id, now, services.check_in_visit)
        self.plan(now + dt.timedelta(minutes=25), "complete", visit_id)

    def _complete(self, visit_id: int, now: dt.datetime) -> None:
        self._simple(visit_id, now, services.complete_visit)

    def _consent(self, patient_id: int, now: dt.datetime) -> None:
        patient = Patient.objects.get(pk=patient_id)
        choices = [c for c in CONSENTS if c != patient.reminders]
        phone = patient.phone or f"+3469{patient.pk:07d}"
        services.correct_patient(
            patient_id=patient.pk,
            today=now.date(),
            phone=phone,
            reminders=Reminders(self.rng.choice(choices)),
        )
        self.truth.observe_patients([patient.pk], now)
        self.truth.observe_visits(_visits_of([patient.pk]), now)

    # --- changes the outbox never hears of ------------------------------------

    def _move_unseen(self, visit_id: int, now: dt.datetime) -> None:
        """A data fix moves the booking by a bare UPDATE."""
        visit = Visit.objects.select_related("procedure").get(pk=visit_id)
        slot = self._slot(visit, now) if visit.status == S.BOOKED else None
        if slot is not None:
            try:
                with transaction.atomic():
                    Visit.objects.filter(pk=visit.pk).update(
                        start=slot.start, end=slot.end, sequence=F("sequence") + 1
                    )
            except IntegrityError:  # the patient holds that time elsewhere
                self.stats["move_unseen_overlap"] += 1
        self.truth.observe_visits([visit.pk], now)

    def _cancel_unseen(self, visit_id: int, now: dt.datetime) -> None:
        """A restored backup has the visit cancelled."""
        Visit.objects.filter(pk=visit_id, status=S.BOOKED).update(
            status=S.CANCELLED, sequence=F("sequence") + 1
        )
        self.truth.observe_visits([visit_id], now)

    def _withdraw_unseen(self, patient_id: int, now: dt.datetime) -> None:
        """Consent withdrawn by a bare UPDATE (a data fix)."""
        Patient.objects.filter(pk=patient_id).update(reminders=Reminders.NONE)
        self.truth.observe_patients([patient_id], now)

    # --- the patients' texts ----------------------------------------------------

    def after_sends(self, sent: list[tuple[str, str]], now: dt.datetime) -> None:
        """Some patients text back after a text: (kind, number) each."""
        words, weights = list(REPLY_WORDS), list(REPLY_WORDS.values())
        for kind, number in sent:
            later = now + dt.timedelta(minutes=self.rng.uniform(2, 30 * 60))
            if kind == "reminder" and self.rng.random() < 0.25:
                self.plan(later, "text", (number, self.rng.choices(words, weights)[0]))
            elif self.rng.random() < 0.02:
                self.plan(later, "text", (number, "STOP"))

    def _text(self, target: tuple[str, str], now: dt.datetime) -> None:
        number, body = target
        if body in STOP_WORDS:
            self.truth.stopped[number].add(now, True)
            if self.rng.random() < 0.5:
                back = now + dt.timedelta(days=self.rng.uniform(1, 20))
                self.plan(back, "text", (number, self.rng.choice(sorted(START_WORDS))))
        elif body in START_WORDS:
            self.truth.stopped[number].add(now, False)
        sid = f"SM{next(self._sids):032d}"
        replies.receive_sms(number=number, body=body, sid=sid, now=now)
        family = list(Patient.objects.filter(phone=number).values_list("pk", flat=True))
        self.truth.observe_visits(_visits_of(family), now)


def _visits_of(patient_ids: list[int]) -> list[int]:
    return list(
        Visit.objects.filter(patient_id__in=patient_ids).values_list("pk", flat=True)
    )
