"""Ending an annual programme from its overdue review asks whether the
review ends too, yes by default there; the saved message is where the page
lands (issue 19, D10).

The world is tests.web.surgeon_world's ("now" is 25 November 2026); surgeon A
also operated Olga Ortiz (H-1009), a stem-cell implant on 1 October 2025,
whose first annual review (window closed on 31 October) is overdue.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import ProcedureKind, Surgeon
from followup.models import Visit, VisitStatus
from tests.factories import PatientFactory, make_procedure
from tests.web.surgeon_world import NOW, TODAY, SurgeonWorld, build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


@pytest.fixture
def world(front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> SurgeonWorld:
    return build(front_desk, surgeon_a, surgeon_b)


@pytest.fixture
def review(world: SurgeonWorld, surgeon_a: Surgeon) -> Visit:
    procedure = make_procedure(
        patient=PatientFactory.create(
            record_number="H-1009", given_name="Olga", family_name="Ortiz"
        ),
        surgeon=surgeon_a,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2025, 10, 1),
        today=TODAY,
    )
    return Visit.objects.get(
        procedure=procedure, rule__code="annual_mri_review", occurrence=1
    )


@pytest.fixture
def client(surgeon_a: Surgeon) -> Client:
    client = Client()
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]
    return client


def row_of(html: str, pk: int) -> str:
    html = re.sub(r"\s+", " ", html)
    row = html[html.index(f'id="visit-{pk}"') :]
    return row[: row.index("</li>")]


def test_the_form_on_the_overdue_review_asks_with_yes_ticked(
    client: Client, world: SurgeonWorld, review: Visit
) -> None:
    html = client.get("/surgeon/").content.decode()

    overdue_row = row_of(html, review.pk)
    upcoming_row = row_of(html, world.annual.pk)
    assert re.search(r'name="end_overdue" value="yes" checked', overdue_row)
    assert "Also end the overdue review" in overdue_row
    assert 'name="end_overdue" value="yes" checked' not in upcoming_row


@pytest.mark.parametrize("ticked", [True, False])
def test_the_overdue_review_ends_with_the_programme_only_when_ticked(
    client: Client, review: Visit, ticked: bool
) -> None:
    data = {"date": "2026-11-25", "reason": "Disc healed"}
    if ticked:
        data["end_overdue"] = "yes"

    response = client.post(
        f"/surgeon/procedures/{review.procedure_id}/end-annual-reviews/", data
    )

    assert response.status_code == 302
    assert response["Location"] == "/surgeon/#announcements"
    review.refresh_from_db()
    assert review.status == (VisitStatus.CANCELLED if ticked else VisitStatus.TO_BOOK)
    page = re.sub(r"\s+", " ", client.get(response["Location"]).content.decode())
    announced = page[
        page.index('id="announcements"') : page.index(
            "</div>", page.index('id="announcements"')
        )
    ]
    assert "annual reviews end on Wed 25 Nov 2026" in announced
    overdue = page[page.index('id="overdue"') : page.index('id="lost"')]
    assert (f'id="visit-{review.pk}"' in overdue) is not ticked
