"""On a phone (375 px) no page scrolls sideways: the surgeon's list of
reviews between two operations, and the desk's pages on a clerk's phone.

At 375 px the surgeon's home was 420 px wide (the period's button beside
its choice, a "Booked 33 days late" badge that would not wrap, the week's
slots in columns), the worklist's filters 399 px, a patient's history 382
px (its hidden "to" labels escaped the table's scroll box) and the import
form 380 px (a file field wider than its column).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from clinic.models import Surgeon
from followup.models import Visit
from tests.factories import PatientFactory, make_procedure
from tests.web.desk_data import TODAY, book_at, make_cast, pin_clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 375
# Elements reaching past the screen's right edge that no scroll box of
# their own holds (a wide table scrolls inside its box: that is fine).
PAST_THE_EDGE = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > width + 1))
  .map(e => `${e.tagName}.${e.className}: ${(e.textContent || '').slice(0, 30)}`)"""


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE, (page.url, width, page.evaluate(PAST_THE_EDGE, PHONE))


@pytest.fixture
def late_booking(surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch) -> Visit:
    """A post-op control booked weeks after its window, on the phone's day."""
    pin_clock(monkeypatch)
    patient = PatientFactory.create(given_name="Maximiliana", family_name="Fernández")
    procedure = make_procedure(
        patient=patient, surgeon=surgeon_a, surgery_date=TODAY.replace(month=10, day=1)
    )
    visit = procedure.visits.get(rule__code="postop_control")
    return book_at(visit, "2026-11-30T10:00:00+01:00", surgeon_a)


def test_the_surgeon_s_reviews_fit_a_phone(
    new_page: Callable[..., Any], cast: dict[str, User], late_booking: Visit
) -> None:
    page = new_page(width=PHONE, user=cast["surgeon_a"])
    page.goto("/surgeon/")

    assert "late" in page.locator(".review").first.inner_text()
    _fits(page)


def test_the_desk_s_pages_fit_a_phone(
    new_page: Callable[..., Any], cast: dict[str, User], late_booking: Visit
) -> None:
    make_cast()
    page = new_page(width=PHONE, user=cast["front_desk"])
    for url in (
        "/desk/",
        "/desk/?tab=call",
        "/desk/appointments/",
        f"/desk/patients/{late_booking.patient_id}/",
        "/desk/patients/new/",
        "/desk/import/",
    ):
        page.goto(url)
        if "/patients/" in url and url[-2].isdigit():
            page.locator("details.history > summary").first.click()
        _fits(page)
