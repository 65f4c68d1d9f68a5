"""`GET, POST /api/patients/{id}/mri-studies/` and the visits' `mri_status`.

Patient A's stem-cell surgery on 20 November 2026 gives a first annual review
due on 20 November 2027, window 21 October - 19 December 2027.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.models import Patient, Procedure, ProcedureKind, Surgeon
from followup.models import FollowUpRule, MriStudy, Visit
from followup.services import bulk_create_visits
from tests.api.conftest import TODAY, World

pytestmark = pytest.mark.django_db


def url(world: World) -> str:
    return f"/api/patients/{world.patient_a.pk}/mri-studies/"


def test_the_desk_records_a_study_and_the_review_shows_its_status(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    desk = client_for("front_desk")
    review = Visit.objects.get(
        procedure=world.procedure_a, rule__code="annual_mri_review", occurrence=1
    )
    assert desk.get(f"/api/visits/{review.pk}/").json()["mri_status"] == "missing"

    posted = desk.post(
        url(world),
        {"performed_on": "2026-11-24", "reference": "PACS-0042"},
        format="json",
    )

    assert posted.status_code == 201, posted.content
    assert posted.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "patient": world.patient_a.pk,
        "performed_on": "2026-11-24",
        "reference": "PACS-0042",
        "report_received_on": None,
        "created_at": "",
    }
    # A scan a year before the review does not count for it.
    assert desk.get(f"/api/visits/{review.pk}/").json()["mri_status"] == "missing"
    postop = desk.get(f"/api/visits/{world.visit_a.pk}/").json()
    assert postop["mri_status"] == "not_needed"
    listed = client_for("surgeon_a").get(url(world))
    assert [s["reference"] for s in listed.json()] == ["PACS-0042"]
    assert client_for("surgeon_b").get(url(world)).status_code == 404


BAD_BODIES = [
    ({"reference": "X"}, 400, "invalid", "performed_on: This field is required."),
    (
        {"performed_on": "2026-02-30", "reference": "X"},
        400,
        "invalid",
        "performed_on: Date has wrong format",
    ),
    (
        {"performed_on": "2026-12-01", "reference": "X"},
        400,
        "mri_in_future",
        "performed_on 2026-12-01 is in the future",
    ),
    (
        {
            "performed_on": "2026-11-20",
            "reference": "X",
            "report_received_on": "2026-11-19",
        },
        400,
        "report_before_scan",
        "report_received_on 2026-11-19 is before the scan (2026-11-20).",
    ),
    (
        {"performed_on": "2026-11-20", "reference": "   "},
        400,
        "invalid",
        "reference: This field may not be blank.",
    ),
    (
        {"performed_on": "2026-11-20", "reference": "X" * 65},
        400,
        "invalid",
        "reference: Ensure this field has no more than 64 characters.",
    ),
]


@pytest.mark.parametrize(("body", "status", "code", "words"), BAD_BODIES)
def test_bad_input_is_refused_with_a_clear_message(
    body: dict[str, Any],
    status: int,
    code: str,
    words: str,
    world: World,
    desk: APIClient,
) -> None:
    response = desk.post(url(world), body, format="json")

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert words in response.json()["detail"]
    assert not MriStudy.objects.exists()


def test_the_same_study_twice_is_a_409(world: World, desk: APIClient) -> None:
    body = {"performed_on": "2026-11-20", "reference": "PACS-1"}
    assert desk.post(url(world), body, format="json").status_code == 201

    again = desk.post(url(world), body, format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_mri_study"


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_or_huge_patient_id_is_a_404(
    method: str, world: World, desk: APIClient
) -> None:
    for pk in ("99999999999999999999999", "987654"):
        response = getattr(desk, method)(
            f"/api/patients/{pk}/mri-studies/",
            {"performed_on": "2026-11-20", "reference": "X"},
            format="json",
        )
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


# --- the visit list with mri_status: constant queries ---------------------------


def add_reviews(surgeon: Surgeon, count: int, offset: int) -> None:
    """`count` annual reviews of new patients, a third with a study reported,
    a third with a study pending, a third with none."""
    rule = FollowUpRule.objects.get(code="annual_mri_review")
    patients = Patient.objects.bulk_create(
        Patient(
            record_number=f"M{offset + i:06d}",
            given_name="Mara",
            family_name=f"Mri{i}",
            birth_date=dt.date(1970, 1, 1),
        )
        for i in range(count)
    )
    procedures = Procedure.objects.bulk_create(
        Procedure(
            patient=patient,
            surgeon=surgeon,
            kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
            surgery_date=TODAY - dt.timedelta(days=365),
        )
        for patient in patients
    )
    bulk_create_visits(
        [
            Visit(
                procedure=procedure,
                patient_id=procedure.patient_id,
                rule=rule,
                occurrence=1,
                due_date=TODAY,
                window_start=TODAY - dt.timedelta(days=30),
                window_end=TODAY + dt.timedelta(days=30),
                duration_minutes=30,
                requires_mri=True,
                surgeon=surgeon,
            )
            for procedure in procedures
        ],
        actor=None,
    )
    MriStudy.objects.bulk_create(
        MriStudy(
            patient=patient,
            performed_on=TODAY - dt.timedelta(days=10),
            reference=f"ACC-{offset + i}",
            report_received_on=TODAY if i % 3 == 0 else None,
        )
        for i, patient in enumerate(patients)
        if i % 3 != 2
    )


def count_queries(client: APIClient, path: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries), [row["mri_status"] for row in response.json()["results"]]


@pytest.mark.parametrize("role", ["front_desk", "surgeon_a"])
def test_the_visit_list_with_mri_status_costs_as_many_queries_for_50_as_for_5(
    role: str, surgeon_a: Surgeon, client_for: Callable[[str], APIClient]
) -> None:
    client = client_for(role)
    path = "/api/visits/?requires_mri=true&page_size=500"
    add_reviews(surgeon_a, 5, offset=0)
    small, statuses = count_queries(client, path)
    assert sorted(statuses) == [
        "done",
        "done",
        "missing",
        "report_pending",
        "report_pending",
    ]

    add_reviews(surgeon_a, 45, offset=5)
    large, statuses = count_queries(client, path)

    assert large == small
    assert len(statuses) == 50
    assert statuses.count("done") == 17
