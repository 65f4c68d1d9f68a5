"""The front desk sees each offer of a freed slot: a mark on the visit's
row in the worklist (pending, claimed, taken by another, expired), and the
patient page's list of the patient's offers with their states."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followup import services
from followup.models import Visit
from offers.models import Offer
from tests.followup.world import book
from tests.messaging.conftest import Clock
from tests.offers.conftest import (  # noqa: F401
    NOW,
    SLOT,
    Clinic,
    _clinic,
    _fresh_throttle,
    clinic,
    pinned,
    sol,
    waiting,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def two_offered(clinic: Clinic, front_desk: User) -> list[int]:  # noqa: F811
    visits = [waiting(clinic.surgeon, name=n) for n in ("Ada", "Bea")]
    services.unbook_visit(visit_id=clinic.giver.pk, actor=front_desk, now=NOW)
    return [visit.pk for visit in visits]


def mark(page: str, visit_id: int) -> str:
    """The text of the visit's offer mark on the worklist, or ""."""
    row = re.search(rf'<tbody id="visit-{visit_id}".*?</tbody>', page, flags=re.S)
    assert row is not None, f"visit {visit_id} is not listed"
    found = re.search(
        r'<span class="badge badge--offer[^"]*">(.*?)\s*</td>', row.group(0), re.S
    )
    if found is None:
        return ""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def worklist(desk: Client) -> str:
    response = desk.get("/desk/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_worklist_marks_a_pending_offer_with_its_slot_and_end(
    desk: Client, two_offered: list[int]
) -> None:
    said = mark(worklist(desk), two_offered[0])

    assert said.startswith("Offer pending")
    assert "the freed slot Fri 27 Nov, 09:00, until 12:00" in said


def test_the_worklist_marks_claimed_taken_and_expired_offers(
    desk: Client,
    two_offered: list[int],
    front_desk: User,
    pinned: Clock,  # noqa: F811
) -> None:
    ada, bea = two_offered
    assert Offer.objects.filter(visit_id__in=two_offered).count() == 2
    pinned.moment = NOW + dt.timedelta(minutes=121)
    assert mark(worklist(desk), ada).startswith("Offer expired")

    pinned.moment = NOW
    book(Visit.objects.get(pk=ada), SLOT, actor=front_desk, now=NOW)
    page = worklist(desk)

    # Ada is booked now: her row leaves the list of visits to book.
    assert f'id="visit-{ada}"' not in page
    assert mark(page, bea).startswith("Offer taken by another")
    appointment = desk.get(f"/desk/visits/{ada}/").content.decode()
    assert "Offer claimed" in appointment


def test_a_row_without_an_offer_has_no_mark(
    desk: Client,
    clinic: Clinic,  # noqa: F811
) -> None:
    quiet = waiting(clinic.surgeon)

    assert mark(worklist(desk), quiet.pk) == ""


def test_the_patient_page_lists_the_patients_offers_and_their_states(
    desk: Client, two_offered: list[int], front_desk: User
) -> None:
    ada = Visit.objects.get(pk=two_offered[0])
    page = desk.get(f"/desk/patients/{ada.patient_id}/").content.decode()

    offers = re.search(r'<section class="card" id="offers".*?</section>', page, re.S)
    assert offers is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", offers.group(0)))
    assert "Offers of freed slots" in text
    assert "Fri 27 Nov 2026, 09:00 with Dr. Sol Sanz" in text
    assert "Offer pending" in text
    assert "open until 12:00" in text


def test_a_patient_never_offered_a_slot_shows_no_offers_card(
    desk: Client,
    clinic: Clinic,  # noqa: F811
) -> None:
    page = desk.get(f"/desk/patients/{clinic.giver.patient_id}/").content.decode()

    assert 'id="offers"' not in page
