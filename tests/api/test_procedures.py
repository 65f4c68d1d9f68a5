"""Patients and procedures through the API: create with visits, re-plan with
the changes listed, cancel, import (multipart and text/csv), search."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from clinic.models import Patient, Procedure
from followup.models import Visit, VisitStatus
from tests.api.conftest import MADRID, World, postop, put_in_state

pytestmark = pytest.mark.django_db

CSV = (
    "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"
    "IMP1,Carla,Campos,1980-02-03,surgeon_a,endoscopic,2026-11-02\n"
    "IMP2,Diego,Diaz,1975-06-07,surgeon_b,endoscopic_stem_cell,2026-10-15\n"
)


def test_creating_a_procedure_answers_it_with_its_generated_visits(
    world: World, desk: APIClient
) -> None:
    response = desk.post(
        "/api/procedures/",
        {
            "patient": world.patient_b.pk,
            "surgeon": world.procedure_b.surgeon_id,
            "kind": "endoscopic_stem_cell",
            "surgery_date": "2026-11-23",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active"
    assert {v["rule"] for v in body["visits"]} == {
        "postop_control",
        "one_month_control",
        "annual_mri_review",
    }
    postop_visit = next(v for v in body["visits"] if v["rule"] == "postop_control")
    assert (postop_visit["window_start"], postop_visit["window_end"]) == (
        "2026-11-30",
        "2026-12-08",
    )
    assert postop_visit["status"] == "to_book"
    assert postop_visit["fhir_status"] == "proposed"
    assert postop_visit["patient"] == world.patient_b.pk
    assert postop_visit["start"] is None


def test_the_same_procedure_sent_twice_is_registered_once(
    world: World, desk: APIClient
) -> None:
    body = {
        "patient": world.patient_b.pk,
        "surgeon": world.procedure_b.surgeon_id,
        "kind": "endoscopic",
        "surgery_date": "2026-11-23",
    }
    first = desk.post("/api/procedures/", body, format="json")

    again = desk.post("/api/procedures/", body, format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_procedure"
    assert f"(procedure {first.json()['id']})" in again.json()["detail"]
    assert world.patient_b.procedures.filter(surgery_date="2026-11-23").count() == 1
    # Another kind that day, or the same kind another day, is another one.
    other = desk.post(
        "/api/procedures/", {**body, "kind": "endoscopic_stem_cell"}, format="json"
    )
    assert other.status_code == 201


def test_correcting_the_surgery_date_lists_moved_and_flagged_visits(
    world: World, desk: APIClient
) -> None:
    one_month = Visit.objects.get(
        procedure=world.procedure_a, rule__code="one_month_control"
    )
    # Booked on the post-op window's first day: outside it once surgery moves.
    booked = put_in_state(
        world.visit_a,
        VisitStatus.BOOKED,
        start=dt.datetime(2026, 11, 27, 9, 0, tzinfo=MADRID),
    )

    response = desk.patch(
        f"/api/procedures/{world.procedure_a.pk}/",
        {"surgery_date": "2026-11-23"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["procedure"]["surgery_date"] == "2026-11-23"
    assert booked.pk in body["changes"]["flagged"]
    assert one_month.pk in body["changes"]["moved"]
    flagged = next(v for v in body["procedure"]["visits"] if v["id"] == booked.pk)
    assert flagged["needs_rebooking"] is True
    assert flagged["start"] == "2026-11-27T09:00:00+01:00"


def test_changing_the_kind_cancels_the_annual_reviews(
    world: World, desk: APIClient
) -> None:
    annual = set(
        Visit.objects.filter(
            procedure=world.procedure_a, rule__code="annual_mri_review"
        ).values_list("pk", flat=True)
    )

    response = desk.patch(
        f"/api/procedures/{world.procedure_a.pk}/",
        {"kind": "endoscopic"},
        format="json",
    )

    assert response.status_code == 200
    assert set(response.json()["changes"]["cancelled"]) == annual


def test_cancelling_a_procedure_cancels_its_open_visits(
    world: World, desk: APIClient
) -> None:
    response = desk.post(
        f"/api/procedures/{world.procedure_b.pk}/cancel/",
        {"reason": "Entered for the wrong patient", "entered_in_error": True},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["procedure"]["status"] == "entered_in_error"
    assert postop(world.procedure_b).pk in body["changes"]["cancelled"]
    assert {v["status"] for v in body["procedure"]["visits"]} == {"cancelled"}


def test_ending_annual_reviews_cancels_the_reviews_after_the_date(
    world: World, client_for: Any
) -> None:
    response = client_for("surgeon_a").post(
        f"/api/procedures/{world.procedure_a.pk}/end-annual-reviews/",
        {"date": "2026-12-31", "reason": "Disc fully healed"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["procedure"]["annual_reviews_ended_on"] == "2026-12-31"
    assert len(body["changes"]["cancelled"]) == 2


def test_an_uploaded_csv_imports_once_and_a_second_time_creates_nothing(
    world: World, desk: APIClient
) -> None:
    def upload() -> Any:
        return desk.post(
            "/api/procedures/import/",
            {"file": SimpleUploadedFile("list.csv", CSV.encode(), "text/csv")},
            format="multipart",
        )

    first = upload()
    second = upload()

    assert first.status_code == 200, first.json()
    assert first.json()["procedures_created"] == 2
    assert first.json()["patients_created"] == 2
    assert first.json()["visits_created"] > 4
    assert second.status_code == 200
    assert second.json()["procedures_created"] == 0
    assert second.json()["unchanged"] == 2
    assert Procedure.objects.filter(patient__record_number="IMP1").count() == 1


def test_a_csv_body_imports_too(world: World, desk: APIClient) -> None:
    response = desk.post(
        "/api/procedures/import/", data=CSV.encode(), content_type="text/csv"
    )

    assert response.status_code == 200, response.json()
    assert Patient.objects.filter(record_number__in=["IMP1", "IMP2"]).count() == 2


def test_a_spanish_excel_csv_imports_and_the_answer_says_how_it_was_read(
    world: World, desk: APIClient
) -> None:
    excel = (
        "record_number;given_name;family_name;birth_date;surgeon;kind;surgery_date\r\n"
        "IMP1;Carla;Campos;3/2/1980;Dra. Ana Álvarez;endoscopic;02/11/2026\r\n"
    )

    response = desk.post(
        "/api/procedures/import/",
        data=excel.encode("utf-8-sig"),
        content_type="text/csv",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["read_as"] == {"separator": ";", "dates": "dd/mm/yyyy"}
    assert response.json()["procedures_created"] == 1
    carla = Patient.objects.get(record_number="IMP1")
    assert carla.birth_date == dt.date(1980, 2, 3)


def test_imports_are_throttled_with_retry_after(
    world: World, desk: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "import", "2/hour")

    statuses = [
        desk.post(
            "/api/procedures/import/", data=CSV.encode(), content_type="text/csv"
        ).status_code
        for _ in range(2)
    ]
    third = desk.post(
        "/api/procedures/import/", data=CSV.encode(), content_type="text/csv"
    )

    assert statuses == [200, 200]
    assert third.status_code == 429
    assert third.json()["code"] == "throttled"
    assert 0 < int(third["Retry-After"]) <= 3600


def import_csv(client: APIClient, body: bytes) -> Any:
    return client.post("/api/procedures/import/", data=body, content_type="text/csv")


# Files a clerk may send while saving a spreadsheet again until it is right.
REFUSED_FILES = [
    b"record,name,born\nIMP1,Carla,1980-02-03\n",  # wrong columns
    "record_number,given_name\n".encode("utf-16"),  # not UTF-8 text
    (",".join(f"c{n}" for n in range(40)) + "\n").encode(),  # too wide
]


def test_files_refused_unread_leave_the_import_allowance_alone_but_are_bounded(
    world: World, desk: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "import", "2/hour")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "import_refused", "4/hour")

    refused = [import_csv(desk, body) for body in REFUSED_FILES]
    imported = import_csv(desk, CSV.encode())
    refused.append(import_csv(desk, REFUSED_FILES[0]))
    flood = import_csv(desk, REFUSED_FILES[0])
    after_flood = import_csv(desk, CSV.encode())

    assert [r.status_code for r in refused] == [400, 400, 400, 400]
    assert imported.status_code == 200, imported.json()
    assert imported.json()["procedures_created"] == 2
    # Past four unreadable files within the hour no upload is read, good or
    # not, until the hour has room again.
    assert (flood.status_code, after_flood.status_code) == (429, 429)
    assert flood.json()["code"] == "throttled"
    assert flood.json()["detail"].startswith(
        "Many of your files were refused in a short time"
    )
    assert 0 < int(flood["Retry-After"]) <= 3600


def test_a_file_refused_for_its_rows_counts_as_an_import(
    world: World, desk: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its rows were all read and checked: as costly as an import.
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "import", "2/hour")
    bad_row = CSV.replace("1980-02-03", "1980-02-30")

    answers = [import_csv(desk, body.encode()) for body in (bad_row, CSV, CSV)]

    assert [a.status_code for a in answers] == [400, 200, 429]
    assert answers[0].json()["code"] == "import_rejected"
    assert (
        answers[2]
        .json()["detail"]
        .startswith("You have imported many files in a short time")
    )


def test_patients_are_found_by_name_or_record_number(
    world: World, desk: APIClient
) -> None:
    def found(query: str) -> set[int]:
        rows = desk.get("/api/patients/", {"q": query}).json()["results"]
        return {row["id"] for row in rows}

    assert found("abad") == {world.patient_a.pk}
    assert found("ana ABAD") == {world.patient_a.pk}
    assert found(world.patient_b.record_number) == {world.patient_b.pk}
    assert found("nobody-by-this-name") == set()


def test_a_patient_correction_changes_only_the_given_fields(
    world: World, desk: APIClient
) -> None:
    response = desk.patch(
        f"/api/patients/{world.patient_a.pk}/",
        {"family_name": "Abad Soler"},
        format="json",
    )

    assert response.status_code == 200
    world.patient_a.refresh_from_db()
    assert world.patient_a.family_name == "Abad Soler"
    assert world.patient_a.given_name == "Ana"


def test_an_admin_books_outside_the_window_only_with_a_reason(
    world: World, client_for: Any
) -> None:
    admin = client_for("clinic_admin")
    url = f"/api/visits/{world.visit_a.pk}/book/"
    late = {
        "start": "2026-12-09T09:00:00+01:00",
        "surgeon": world.procedure_a.surgeon_id,
    }

    refused = admin.post(url, late, format="json")
    accepted = admin.post(
        url, {**late, "override_reason": "Patient abroad until December"}, format="json"
    )

    assert refused.status_code == 400
    assert refused.json()["code"] == "outside_window"
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["start"] == "2026-12-09T09:00:00+01:00"


@pytest.mark.parametrize(
    "number", ["Z;=1+1;", "=HYPERLINK(1)", "H\t1", "-12", "a\x00", "H<1>"]
)
def test_a_record_number_outside_the_safe_characters_is_refused_by_name(
    world: World, desk: APIClient, number: str
) -> None:
    created = desk.post(
        "/api/patients/",
        {
            "record_number": number,
            "given_name": "Zoe",
            "family_name": "Zurita",
            "birth_date": "1970-01-01",
        },
        format="json",
    )
    corrected = desk.patch(
        f"/api/patients/{world.patient_a.pk}/",
        {"record_number": number},
        format="json",
    )

    for response in (created, corrected):
        assert response.status_code == 400, response.json()
        assert {e["field"] for e in response.json()["errors"]} == {"record_number"}
    assert not Patient.objects.filter(given_name="Zoe").exists()
    world.patient_a.refresh_from_db()
    assert world.patient_a.record_number != number


def test_an_import_refuses_a_formula_in_a_record_number_by_line(
    world: World, desk: APIClient
) -> None:
    data = CSV + "Z;=1+1;,Zoe,Zurita,1970-01-01,surgeon_a,endoscopic,2026-11-02\n"

    response = desk.post("/api/procedures/import/", data=data, content_type="text/csv")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_rejected"
    assert [e["line"] for e in body["errors"]] == [4]
    assert "record_number" in body["errors"][0]["error"]
    assert not Patient.objects.filter(record_number__in=["IMP1", "Z;=1+1;"]).exists()
