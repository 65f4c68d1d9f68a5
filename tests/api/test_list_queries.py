"""List endpoints run the same number of queries for 5 visits as for 500.

The data is written with bulk inserts (not one service call per visit) so
the 500 take a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.models import Patient, Procedure, ProcedureKind, Surgeon
from followup.models import FollowUpRule, Visit, VisitStatus
from followup.services import bulk_create_visits
from tests.api.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db

URLS = [
    "/api/patients/",
    "/api/procedures/",
    "/api/visits/",
    "/api/visits/?status=to_book&overdue=true&requires_mri=false",
    "/api/reviews/upcoming/?days=30",
    "/api/reviews/overdue/",
]


def add_visits(surgeon: Surgeon, count: int, offset: int) -> None:
    """`count` visits of new patients of `surgeon`, one per procedure: a
    third overdue, a third to book soon, a third booked in the next days."""
    rule = FollowUpRule.objects.get(code="postop_control")
    patients = Patient.objects.bulk_create(
        Patient(
            record_number=f"Q{offset + i:06d}",
            given_name="Quique",
            family_name=f"Query{i}",
            birth_date=dt.date(1970, 1, 1),
        )
        for i in range(count)
    )
    procedures = Procedure.objects.bulk_create(
        Procedure(
            patient=patient,
            surgeon=surgeon,
            kind=ProcedureKind.ENDOSCOPIC,
            surgery_date=TODAY - dt.timedelta(days=10),
        )
        for patient in patients
    )
    visits = []
    for i, procedure in enumerate(procedures):
        kind = (offset + i) % 3
        due = TODAY + dt.timedelta(days=(-30, 3, 5)[kind])
        visit = Visit(
            procedure=procedure,
            patient_id=procedure.patient_id,
            rule=rule,
            occurrence=1,
            due_date=due,
            window_start=due - dt.timedelta(days=3),
            window_end=due + dt.timedelta(days=5),
            duration_minutes=20,
            surgeon=surgeon,
        )
        if kind == 2:
            # One slot each, 30 minutes apart: no two bookings overlap.
            visit.status = VisitStatus.BOOKED
            visit.start = NOW + dt.timedelta(days=1, minutes=30 * (offset + i))
            visit.end = visit.start + dt.timedelta(minutes=20)
        visits.append(visit)
    bulk_create_visits(visits, actor=None)


def count_queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


@pytest.mark.parametrize("role", ["front_desk", "surgeon_a"])
def test_list_endpoints_run_as_many_queries_for_500_visits_as_for_5(
    role: str, surgeon_a: Surgeon, client_for: Callable[[str], APIClient]
) -> None:
    client = client_for(role)
    add_visits(surgeon_a, 5, offset=0)
    small = {url: count_queries(client, url) for url in URLS}

    add_visits(surgeon_a, 495, offset=5)
    large = {url: count_queries(client, url) for url in URLS}

    assert large == small
    assert Visit.objects.count() == 500
    assert len(client.get("/api/visits/?page_size=500").json()["results"]) == 500


def test_a_procedure_list_page_carries_every_visit_of_each_procedure(
    surgeon_a: Surgeon, client_for: Callable[[str], APIClient]
) -> None:
    add_visits(surgeon_a, 3, offset=0)

    body = client_for("front_desk").get("/api/procedures/").json()

    assert body["count"] == 3
    assert all(len(row["visits"]) == 1 for row in body["results"])
    visit = body["results"][0]["visits"][0]
    assert visit["export_state"] in {"pending", "exported", "failed", "nothing_to_push"}
