"""Bad input gets a clear 4xx in the API's error shape, changes nothing, and
never a 500: malformed dates, unknown kinds, duplicate record numbers, wrong
states, foreign ids, naive datetimes, unreadable bodies, bad filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError
from rest_framework.test import APIClient

from clinic.models import Patient, Procedure, ProcedureStatus
from followup.models import Visit, VisitEvent, VisitStatus
from tests.api.conftest import FREE_SLOT, World, put_in_state

pytestmark = pytest.mark.django_db


def state(world: World) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return (
        Patient.objects.count(),
        sorted(Procedure.objects.values_list("pk", "surgery_date", "kind", "status")),
        sorted(Visit.objects.values_list("pk", "status", "start", "due_date")),
        VisitEvent.objects.count(),
    )


def booking(world: World, start: str) -> dict[str, Any]:
    return {"start": start, "surgeon": world.procedure_a.surgeon_id}


# (name, method, url, body, status, code)
BAD_REQUESTS = [
    (
        "a number for a given name",
        "post",
        lambda w: "/api/patients/",
        lambda w: {
            "record_number": "X1",
            "given_name": 12345,
            "family_name": "Ruiz",
            "birth_date": "1980-02-03",
        },
        400,
        "invalid_name",
    ),
    (
        "a numeric family name",
        "post",
        lambda w: "/api/patients/",
        lambda w: {
            "record_number": "X1",
            "given_name": "Ana",
            "family_name": "1980.5",
            "birth_date": "1980-02-03",
        },
        400,
        "invalid_name",
    ),
    (
        "a number as a corrected name",
        "patch",
        lambda w: f"/api/patients/{w.patient_a.pk}/",
        lambda w: {"family_name": "42"},
        400,
        "invalid_name",
    ),
    (
        "impossible birth date",
        "post",
        lambda w: "/api/patients/",
        lambda w: {
            "record_number": "X1",
            "given_name": "A",
            "family_name": "B",
            "birth_date": "1980-02-30",
        },
        400,
        "invalid",
    ),
    (
        "birth date in the future",
        "post",
        lambda w: "/api/patients/",
        lambda w: {
            "record_number": "X1",
            "given_name": "A",
            "family_name": "B",
            "birth_date": "2030-01-01",
        },
        400,
        "birth_date_in_future",
    ),
    (
        "duplicate record number on create",
        "post",
        lambda w: "/api/patients/",
        lambda w: {
            "record_number": w.patient_a.record_number,
            "given_name": "A",
            "family_name": "B",
            "birth_date": "1980-01-01",
        },
        400,
        "duplicate_record_number",
    ),
    (
        "duplicate record number on correction",
        "patch",
        lambda w: f"/api/patients/{w.patient_b.pk}/",
        lambda w: {"record_number": w.patient_a.record_number},
        400,
        "duplicate_record_number",
    ),
    (
        "a patient field that cannot change",
        "patch",
        lambda w: f"/api/patients/{w.patient_a.pk}/",
        lambda w: {"id": 5},
        400,
        "invalid",
    ),
    (
        "malformed surgery date",
        "post",
        lambda w: "/api/procedures/",
        lambda w: {
            "patient": w.patient_a.pk,
            "surgeon": w.procedure_a.surgeon_id,
            "kind": "endoscopic",
            "surgery_date": "25/11/2026",
        },
        400,
        "invalid",
    ),
    (
        "unknown kind",
        "post",
        lambda w: "/api/procedures/",
        lambda w: {
            "patient": w.patient_a.pk,
            "surgeon": w.procedure_a.surgeon_id,
            "kind": "laser",
            "surgery_date": "2026-11-20",
        },
        400,
        "invalid",
    ),
    (
        "foreign patient id",
        "post",
        lambda w: "/api/procedures/",
        lambda w: {
            "patient": 987654,
            "surgeon": w.procedure_a.surgeon_id,
            "kind": "endoscopic",
            "surgery_date": "2026-11-20",
        },
        400,
        "invalid",
    ),
    (
        "surgery years ahead",
        "patch",
        lambda w: f"/api/procedures/{w.procedure_a.pk}/",
        lambda w: {"surgery_date": "2029-11-20"},
        400,
        "surgery_date_too_far",
    ),
    (
        "unknown kind on correction",
        "patch",
        lambda w: f"/api/procedures/{w.procedure_a.pk}/",
        lambda w: {"kind": "laser"},
        400,
        "invalid",
    ),
    (
        "a procedure field that cannot change",
        "patch",
        lambda w: f"/api/procedures/{w.procedure_a.pk}/",
        lambda w: {"status": "cancelled"},
        400,
        "invalid",
    ),
    (
        "cancel without a reason",
        "post",
        lambda w: f"/api/procedures/{w.procedure_a.pk}/cancel/",
        lambda w: {},
        400,
        "invalid",
    ),
    (
        "end annual reviews of a plain procedure",
        "post",
        lambda w: f"/api/procedures/{w.procedure_b.pk}/end-annual-reviews/",
        lambda w: {"date": "2026-11-25", "reason": "x"},
        409,
        "no_annual_programme",
    ),
    (
        "end annual reviews on a malformed date",
        "post",
        lambda w: f"/api/procedures/{w.procedure_a.pk}/end-annual-reviews/",
        lambda w: {"date": "soon", "reason": "x"},
        400,
        "invalid",
    ),
    (
        "naive booking time",
        "post",
        lambda w: f"/api/visits/{w.visit_a.pk}/book/",
        lambda w: booking(w, "2026-11-27T09:00:00"),
        400,
        "invalid",
    ),
    (
        "malformed booking time",
        "post",
        lambda w: f"/api/visits/{w.visit_a.pk}/book/",
        lambda w: booking(w, "27/11/2026 9am"),
        400,
        "invalid",
    ),
    (
        "booking in the past",
        "post",
        lambda w: f"/api/visits/{w.visit_a.pk}/book/",
        lambda w: booking(w, "2026-11-24T09:00:00+01:00"),
        400,
        "start_in_past",
    ),
    (
        "booking outside the window",
        "post",
        lambda w: f"/api/visits/{w.visit_a.pk}/book/",
        lambda w: booking(w, "2026-12-09T09:00:00+01:00"),
        400,
        "outside_window",
    ),
    (
        "booking outside the consultation hours",
        "post",
        lambda w: f"/api/visits/{w.visit_a.pk}/book/",
        lambda w: booking(w, "2026-11-27T20:00:00+01:00"),
        400,
        "outside_sessions",
    ),
    (
        "booking with a foreign surgeon id",
        "post",
        lambda w: f"/api/visits/{w.visit_a.pk}/book/",
        lambda w: {"start": FREE_SLOT.isoformat(), "surgeon": 987654},
        400,
        "invalid",
    ),
    (
        "cancelling a visit without a reason",
        "post",
        lambda w: f"/api/visits/{w.visit_a.pk}/cancel/",
        lambda w: {"reason": ""},
        400,
        "invalid",
    ),
    (
        "slots from a naive time",
        "get",
        lambda w: f"/api/visits/{w.visit_a.pk}/slots/?from=2026-11-27T09:00",
        None,
        400,
        "invalid",
    ),
    (
        "slots with a silly limit",
        "get",
        lambda w: f"/api/visits/{w.visit_a.pk}/slots/?limit=0",
        None,
        400,
        "invalid",
    ),
    (
        "unknown visit",
        "get",
        lambda w: "/api/visits/987654/",
        None,
        404,
        "not_found",
    ),
    (
        "an id beyond any integer column",
        "get",
        lambda w: "/api/visits/99999999999999999999999/",
        None,
        404,
        "not_found",
    ),
    (
        "an id that is not a number",
        "get",
        lambda w: "/api/procedures/abc/",
        None,
        404,
        "not_found",
    ),
    (
        "unknown visit status filter",
        "get",
        lambda w: "/api/visits/?status=lost",
        None,
        400,
        "invalid",
    ),
    (
        "malformed due date filter",
        "get",
        lambda w: "/api/visits/?due_from=tomorrow",
        None,
        400,
        "invalid",
    ),
    (
        "a page past the end",
        "get",
        lambda w: "/api/visits/?page=99",
        None,
        404,
        "not_found",
    ),
    (
        "upcoming over a silly number of days",
        "get",
        lambda w: "/api/reviews/upcoming/?days=-3",
        None,
        400,
        "invalid",
    ),
]


# Ending annual reviews is the surgeon's (or an admin's) call, not the desk's.
SENDER = {
    "end annual reviews of a plain procedure": "clinic_admin",
    "end annual reviews on a malformed date": "surgeon_a",
}


@pytest.mark.parametrize(
    ("name", "method", "url", "body", "status", "code"),
    [pytest.param(*row, id=row[0]) for row in BAD_REQUESTS],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    name: str,
    method: str,
    url: Any,
    body: Any,
    status: int,
    code: str,
    world: World,
    client_for: Any,
) -> None:
    before = state(world)
    desk = client_for(SENDER.get(name, "front_desk"))

    if body is None:
        response = getattr(desk, method)(url(world))
    else:
        response = getattr(desk, method)(url(world), body(world), format="json")

    assert response.status_code == status, response.content[:300]
    answer = response.json()
    assert answer["code"] == code
    assert answer["detail"]
    assert state(world) == before


def test_a_validation_error_names_each_field(world: World, desk: APIClient) -> None:
    response = desk.post(
        "/api/patients/", {"record_number": "", "birth_date": "x"}, format="json"
    )

    body = response.json()
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"record_number", "given_name", "family_name", "birth_date"}
    assert all(error["error"] and error["code"] for error in body["errors"])


def test_an_unreadable_json_body_is_a_400(world: World, desk: APIClient) -> None:
    response = desk.post(
        "/api/patients/", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_an_unsupported_method_is_a_405_in_the_error_shape(
    world: World, desk: APIClient
) -> None:
    response = desk.delete(f"/api/visits/{world.visit_a.pk}/")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_cancelling_a_cancelled_procedure_is_a_conflict(
    world: World, desk: APIClient
) -> None:
    url = f"/api/procedures/{world.procedure_a.pk}/cancel/"
    assert desk.post(url, {"reason": "Duplicate"}, format="json").status_code == 200

    response = desk.post(url, {"reason": "Again"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "procedure_not_active"
    assert Procedure.objects.get(pk=world.procedure_a.pk).status == (
        ProcedureStatus.CANCELLED
    )


def test_booking_a_taken_slot_is_a_conflict(world: World, desk: APIClient) -> None:
    # Patient B's visit holds surgeon A's Friday 09:00.
    put_in_state(world.visit_b, VisitStatus.BOOKED)
    Visit.objects.filter(pk=world.visit_b.pk).update(
        surgeon_id=world.procedure_a.surgeon_id
    )

    response = desk.post(
        f"/api/visits/{world.visit_a.pk}/book/",
        booking(world, FREE_SLOT.isoformat()),
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"


def test_an_integrity_error_escaping_a_service_is_a_409_not_a_500(
    world: World, desk: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def racing(**kwargs: Any) -> None:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("followup.services.unbook_visit", racing)
    put_in_state(world.visit_a, VisitStatus.BOOKED)

    response = desk.post(f"/api/visits/{world.visit_a.pk}/unbook/")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_the_import_reports_every_bad_line_and_imports_nothing(
    world: World, desk: APIClient
) -> None:
    before = state(world)
    csv = (
        "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"
        "N1,Ana,Ruiz,1980-01-01,surgeon_a,endoscopic,2026-11-02\n"
        "N2,Eva,Sanz,1980-13-01,surgeon_a,endoscopic,2026-11-02\n"
        "N3,Ivan,Toro,1980-01-01,surgeon_a,laser,2026-11-02\n"
    )

    response = desk.post(
        "/api/procedures/import/", data=csv.encode(), content_type="text/csv"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_rejected"
    assert [error["line"] for error in body["errors"]] == [3, 4]
    assert state(world) == before


def test_the_import_refuses_a_number_for_a_name_as_the_api_does(
    world: World, desk: APIClient
) -> None:
    before = state(world)
    csv = (
        "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"
        "N1,Ana,1234,1980-01-01,surgeon_a,endoscopic,2026-11-02\n"
    )

    response = desk.post(
        "/api/procedures/import/", data=csv.encode(), content_type="text/csv"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 2, "error": "family_name '1234' is not a name: it has no letter."}
    ]
    assert state(world) == before


def test_an_import_without_a_file_is_a_400(world: World, desk: APIClient) -> None:
    response = desk.post("/api/procedures/import/", {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "file_missing"


def test_a_booking_time_is_read_with_its_offset(world: World, desk: APIClient) -> None:
    start = dt.datetime(2026, 11, 27, 13, 0, tzinfo=dt.UTC)  # 14:00 in Madrid

    response = desk.post(
        f"/api/visits/{world.visit_a.pk}/book/",
        booking(world, start.isoformat()),
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "outside_sessions"
