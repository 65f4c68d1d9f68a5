"""The offers' world: the messaging tests' clinic (weekdays 09:00-14:00 in
10-minute slots, quiet hours 20:00-09:00), with "now" on Wednesday 25
November 2026 at 10:00 in Madrid.

Surgeon Sol's patient Gil is booked on Friday 27 November at 09:00, 47
hours ahead: when Gil gives that time back, it is offered. Each `waiting`
visit is a post-operative control of another of Sol's patients, still to
book; its window is set by its surgery date (surgery on 20 November: 27
November to 5 December; on 13 November: 20 to 28 November, closing sooner;
on 5 November: 12 to 20 November, overdue).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from pytest_django.fixtures import Settings as SettingsWrapper

from clinic import clock
from clinic.models import Reminders, Surgeon
from followup.models import Visit
from messaging.models import Kind, Message
from offers.models import Offer
from tests.factories import PatientFactory, SurgeonFactory
from tests.followup.world import FRIDAY_9, WEEKDAYS_9_TO_14, book, madrid, postop
from tests.messaging.conftest import Clock
from web.patient_link import views

NOW = madrid(2026, 11, 25, 10)
SURGERY = dt.date(2026, 11, 20)
CLOSING_SOONER = dt.date(2026, 11, 13)  # window 20-28 November
OVERDUE = dt.date(2026, 11, 5)  # window 12-20 November: closed
SLOT = FRIDAY_9
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    at = Clock(NOW)
    monkeypatch.setattr(clock, "now", at)
    yield at


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    cache.clear()
    views.throttle.reset()
    yield
    views.throttle.reset()


@pytest.fixture(autouse=True)
def _clinic(settings: SettingsWrapper) -> None:
    settings.CLINIC_TIME_ZONE = "Europe/Madrid"
    settings.CLINIC_HOURS = WEEKDAYS_9_TO_14
    settings.MESSAGE_QUIET_HOURS = "20:00-09:00"
    settings.SMS_BACKEND = "console"
    settings.CLINIC_PHONE = "+34 910 000 000"
    settings.OFFER_MIN_LEAD_HOURS = 24
    settings.OFFER_BATCH = 3
    settings.OFFER_HOLD_MINUTES = 120


@dataclass
class Clinic:
    surgeon: Surgeon
    giver: Visit  # Gil's, booked at SLOT


@pytest.fixture
def sol() -> Surgeon:
    return SurgeonFactory.create(given_name="Sol", family_name="Sanz")


@pytest.fixture
def clinic(sol: Surgeon, front_desk: User) -> Clinic:
    gil = PatientFactory.create(given_name="Gil", phone=mobile(), reminders="sms")
    giver = postop(surgeon=sol, patient=gil)
    book(giver, SLOT, actor=front_desk, now=NOW)
    return Clinic(surgeon=sol, giver=Visit.objects.get(pk=giver.pk))


def mobile() -> str:
    return f"+3461234{next(_numbers):04d}"


def waiting(
    surgeon: Surgeon,
    *,
    surgery: dt.date = SURGERY,
    reminders: str = Reminders.SMS,
    name: str = "Ada",
) -> Visit:
    """A post-operative control to book of a new patient of `surgeon`."""
    patient = PatientFactory.create(
        given_name=name,
        phone=mobile(),
        email=f"{name.lower()}{next(_numbers)}@example.org",
        reminders=reminders,
    )
    return postop(surgeon=surgeon, patient=patient, surgery_date=surgery)


def offered_visits() -> list[int]:
    return sorted(Offer.objects.values_list("visit_id", flat=True))


def offer_of(visit: Visit) -> Offer:
    return Offer.objects.select_related("message", "freed_slot").get(visit=visit)


def offer_messages(visit: Visit) -> list[Message]:
    return list(Message.objects.filter(visit=visit, kind=Kind.OFFER).order_by("id"))
