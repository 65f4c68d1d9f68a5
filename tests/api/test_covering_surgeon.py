"""A covering colleague sees the patient they will see (SPEC section 4).

A surgeon's patients are the procedures they operated, the visits of those,
and the visits booked with them: one rule (`VisitQuerySet.of_surgeon`) for
the API, the pages and the feeds. Surgeon A operated patient A; visit A is
booked with surgeon B, who covers it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from clinic.models import Surgeon
from followup.models import Visit, VisitStatus
from tests.api.conftest import World, put_in_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def covered(world: World, surgeon_b: Surgeon) -> Visit:
    visit = put_in_state(world.visit_a, VisitStatus.BOOKED)
    Visit.objects.filter(pk=visit.pk).update(surgeon=surgeon_b)
    visit.refresh_from_db()
    return visit


def ids(client: APIClient, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


def test_the_covering_surgeon_reads_the_visit_its_patient_and_procedure(
    covered: Visit, world: World, client_for: Callable[[str], APIClient]
) -> None:
    b = client_for("surgeon_b")

    assert b.get(f"/api/visits/{covered.pk}/").status_code == 200
    assert b.get(f"/api/visits/{covered.pk}/events/").status_code == 200
    assert b.get(f"/api/patients/{world.patient_a.pk}/").status_code == 200
    assert b.get(f"/api/procedures/{world.procedure_a.pk}/").status_code == 200
    assert covered.pk in ids(b, "/api/visits/")
    assert covered.pk in ids(b, "/api/reviews/upcoming/")
    assert world.patient_a.pk in ids(b, "/api/patients/")


def test_the_operating_surgeon_still_sees_the_covered_visit(
    covered: Visit, client_for: Callable[[str], APIClient]
) -> None:
    a = client_for("surgeon_a")

    assert a.get(f"/api/visits/{covered.pk}/").status_code == 200
    assert covered.pk in ids(a, "/api/visits/")


def test_covering_one_visit_shows_no_other_visit_of_the_patient(
    covered: Visit, world: World, client_for: Callable[[str], APIClient]
) -> None:
    other = Visit.objects.filter(procedure=world.procedure_a).exclude(pk=covered.pk)
    b = client_for("surgeon_b")

    assert other.exists()
    for visit in other:
        assert b.get(f"/api/visits/{visit.pk}/").status_code == 404
    assert (
        set(ids(b, "/api/visits/")) & set(other.values_list("pk", flat=True)) == set()
    )
    # Nor through the procedure, which lists its visits: the covered one only.
    procedure = b.get(f"/api/procedures/{world.procedure_a.pk}/").json()
    assert [v["id"] for v in procedure["visits"]] == [covered.pk]
    rows = b.get(f"/api/procedures/?patient={world.patient_a.pk}").json()["results"]
    assert [[v["id"] for v in row["visits"]] for row in rows] == [[covered.pk]]
    # The operating surgeon still reads them all.
    mine = client_for("surgeon_a").get(f"/api/procedures/{world.procedure_a.pk}/")
    assert len(mine.json()["visits"]) == 1 + other.count()


def test_the_covering_surgeon_cannot_end_the_patients_annual_programme(
    covered: Visit, world: World, client_for: Callable[[str], APIClient]
) -> None:
    response = client_for("surgeon_b").post(
        f"/api/procedures/{world.procedure_a.pk}/end-annual-reviews/",
        {"date": "2026-11-25", "reason": "Disc healed"},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_without_the_booking_the_colleague_sees_nothing(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    b = client_for("surgeon_b")

    assert b.get(f"/api/visits/{world.visit_a.pk}/").status_code == 404
    assert b.get(f"/api/patients/{world.patient_a.pk}/").status_code == 404
    assert b.get(f"/api/procedures/{world.procedure_a.pk}/").status_code == 404


def test_once_the_booking_is_given_back_the_colleague_sees_nothing_more(
    covered: Visit, world: World, client_for: Callable[[str], APIClient]
) -> None:
    b = client_for("surgeon_b")
    assert b.get(f"/api/patients/{world.patient_a.pk}/").status_code == 200

    given_back = client_for("front_desk").post(
        f"/api/visits/{covered.pk}/unbook/", {}, format="json"
    )

    assert given_back.json()["status"] == "to_book"
    assert b.get(f"/api/visits/{covered.pk}/").status_code == 404
    assert b.get(f"/api/patients/{world.patient_a.pk}/").status_code == 404
    assert b.get(f"/api/procedures/{world.procedure_a.pk}/").status_code == 404
    assert covered.pk not in ids(b, "/api/reviews/upcoming/")
    # The surgeon who operated still has the visit to book.
    assert covered.pk in ids(client_for("surgeon_a"), "/api/reviews/upcoming/")
