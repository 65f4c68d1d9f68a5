"""The report's booking-link and freed-slot figures over a small cast, every
change through the services (booking_links/figures.py, offers/figures.py).

Sol's patients' post-operative controls all have the window 27 November to
5 December; the report covers windows ending 1 to 5 December. "Now" is
Wednesday 25 November, 10:00.

| who | history | bookings | by link | freed | refilled after |
|-----|---------|----------|---------|-------|----------------|
| Gil | booked Fri 09:00 by the desk; gives it back at 10:00 | 1 | 0 | 1 | 0.5 h (Ada) |
| Ada | offered Gil's 09:00, claims it through her link at 10:30 | 1 | 1 | | |
| Bea | booked Fri 10:00 by the desk; cancelled at 11:00 | 1 | 0 | 1 | 4.5 h (Cai) |
| Cai | booked into Bea's 10:00 by the desk at 15:30 | 1 | 0 | | |
| Dan | booked Fri 11:00 by the desk; unbooked Thu 12:00 (23 h ahead) | 1 | 0 | 1 | - |

Bookings 5, by the patient's link 1: 20.0 %, Wilson 3.6-62.4. Freed 3,
refilled 2, median of 0.5 and 4.5 hours: 2.5.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client

from booking_links import figures as link_figures
from booking_links import services as links
from followup import services
from followup.models import Visit
from followup.reports import follow_up_report
from offers import claims
from offers import figures as offer_figures
from offers.models import Offer
from tests.followup.world import book, madrid
from tests.messaging.conftest import Clock
from tests.offers.conftest import NOW, SLOT, Clinic, waiting

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
FROM, TO = dt.date(2026, 12, 1), dt.date(2026, 12, 5)
TEN = madrid(2026, 11, 27, 10)
ELEVEN = madrid(2026, 11, 27, 11)
EXPECTED = {
    "bookings": 5,
    "pct_booked_by_patient": 20.0,
    "pct_booked_by_patient_ci_low": 3.6,
    "pct_booked_by_patient_ci_high": 62.4,
    "freed_slots": 3,
    "refilled_slots": 2,
    "median_hours_to_refill": 2.5,
}


@pytest.fixture
def cast(clinic: Clinic, front_desk: User, pinned: Clock) -> Clinic:
    sol = clinic.surgeon
    ada, bea, cai, dan = (waiting(sol, name=n) for n in ("Ada", "Bea", "Cai", "Dan"))
    book(bea, TEN, actor=front_desk, now=NOW)
    book(dan, ELEVEN, actor=front_desk, now=NOW)
    services.unbook_visit(visit_id=clinic.giver.pk, actor=front_desk, now=NOW)
    half_past = NOW + dt.timedelta(minutes=30)
    pinned.moment = half_past
    link = links.issue_link(visit_id=ada.pk, actor=None, now=half_past).link
    claims.claim(
        link=link,
        offer_id=Offer.objects.get(visit=ada).pk,
        start=SLOT,
        now=half_past,
        sequence=None,
    )
    later = NOW + dt.timedelta(hours=1)
    pinned.moment = later
    services.cancel_visit(visit_id=bea.pk, reason="Moved", actor=front_desk, now=later)
    refill = NOW + dt.timedelta(hours=5, minutes=30)
    pinned.moment = refill
    book(cai, TEN, actor=front_desk, now=refill)
    thursday = madrid(2026, 11, 26, 12)
    pinned.moment = thursday
    services.unbook_visit(visit_id=dan.pk, actor=front_desk, now=thursday)
    return clinic


def test_the_booking_link_and_freed_slot_figures_of_the_cast(cast: Clinic) -> None:
    report = follow_up_report(visits=Visit.objects.all(), start=FROM, end=TO).as_dict()

    [row] = report["rows"]
    assert row["surgeon"] == cast.surgeon.pk
    assert {name: row[name] for name in EXPECTED} == EXPECTED
    assert {name: report["totals"][name] for name in EXPECTED} == EXPECTED


def test_the_page_says_them_in_words(
    cast: Clinic, front_desk: User, client: Client
) -> None:
    client.force_login(front_desk)

    page = client.get(f"/reports/?start={FROM}&end={TO}").content.decode()

    links_section = page[page.index('id="section-booking_links"') :]
    links_section = links_section[: links_section.index("</section>")]
    assert "% booked by the patient" in links_section
    assert "20.0%" in links_section and "likely 3.6\u201362.4%" in links_section
    freed_section = page[page.index('id="section-offers"') :]
    freed_section = freed_section[: freed_section.index("</section>")]
    assert "Times given back" in freed_section
    assert "Median hours to rebook" in freed_section and "2.5" in freed_section


def test_each_provider_costs_its_queries(
    cast: Clinic, django_assert_num_queries: object
) -> None:
    visits = Visit.objects.all()
    with django_assert_num_queries(4):  # type: ignore[operator]
        follow_up_report(
            visits=visits, start=FROM, end=TO, providers=[link_figures.PROVIDER]
        )
    with django_assert_num_queries(5):  # type: ignore[operator]
        follow_up_report(
            visits=visits, start=FROM, end=TO, providers=[offer_figures.PROVIDER]
        )
