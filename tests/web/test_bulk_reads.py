"""Reads of many patients at once leave an audit record.

The API's patient list and search, a patient's MRI studies, a visit's
contact attempts, the desk's search, the admin's patient list and the
re-plan CSV each leave one `PatientRead`: who, when, what was asked, how
many rows and which patients, written by one insert however many rows were
read. A clinic admin finds every read that included a patient.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.models import Patient, PatientRead, Surgeon
from followup import services
from followup.models import ContactChannel, ContactOutcome, FollowUpRule, Visit
from tests.api.conftest import NOW
from tests.factories import PatientFactory, make_procedure
from tests.web.desk_data import DeskCast, pin_clock

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def the_read() -> PatientRead:
    (read,) = PatientRead.objects.all()
    return read


@pytest.fixture
def three(surgeon_a: Surgeon, surgeon_b: Surgeon) -> list[Patient]:
    """Two patients of surgeon A (Ana, Alba), one of surgeon B (Berta)."""
    patients = [
        PatientFactory.create(given_name=name, family_name="Vidal")
        for name in ("Ana", "Alba", "Berta")
    ]
    for patient, surgeon in zip(
        patients, (surgeon_a, surgeon_a, surgeon_b), strict=True
    ):
        make_procedure(patient=patient, surgeon=surgeon)
    return patients


def test_the_api_patient_list_records_the_reader_count_and_every_patient(
    front_desk: User, three: list[Patient], monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_clock(monkeypatch, NOW)
    listed = signed_in(front_desk).get("/api/patients/?page_size=500")

    assert listed.status_code == 200
    read = the_read()
    assert (read.reader, read.reader_username) == (front_desk, front_desk.username)
    assert (read.kind, read.count) == ("api_patients", 3)
    assert read.query == "/api/patients/?page_size=500"
    assert read.patient_ids == sorted(p.pk for p in three)
    assert read.read_at == NOW


def test_an_api_search_records_the_query_and_only_what_it_found(
    front_desk: User, three: list[Patient]
) -> None:
    found = signed_in(front_desk).get("/api/patients/?q=Berta")

    assert [row["id"] for row in found.json()["results"]] == [three[2].pk]
    read = the_read()
    assert (read.query, read.count, read.patient_ids) == (
        "/api/patients/?q=Berta",
        1,
        [three[2].pk],
    )


def test_a_surgeons_scoped_list_records_only_the_patients_they_saw(
    surgeon_a: Surgeon, three: list[Patient]
) -> None:
    reader = surgeon_a.user
    assert reader is not None

    assert signed_in(reader).get("/api/patients/").status_code == 200

    read = the_read()
    assert (read.reader, read.count) == (reader, 2)
    assert read.patient_ids == sorted(p.pk for p in three[:2])


def test_a_list_of_500_patients_is_recorded_by_one_insert(
    front_desk: User,
) -> None:
    Patient.objects.bulk_create(
        Patient(
            record_number=f"B{n:05d}",
            given_name="Bea",
            family_name="Bulk",
            birth_date=dt.date(1970, 1, 1),
        )
        for n in range(500)
    )
    client = signed_in(front_desk)

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/patients/?page_size=500").status_code == 200

    writes = [q["sql"] for q in queries if q["sql"].lstrip().startswith("INSERT")]
    assert len(writes) == 1
    assert "clinic_patientread" in writes[0]
    assert the_read().count == 500
    assert len(the_read().patient_ids) == 500


def test_mri_studies_and_contact_attempts_are_recorded_with_their_patient(
    front_desk: User, surgeon_a: Surgeon
) -> None:
    procedure = make_procedure(surgeon=surgeon_a)
    services.record_mri_study(
        patient_id=procedure.patient_id,
        performed_on=dt.date(2026, 11, 20),
        reference="MR-1",
        actor=front_desk,
        today=NOW.date(),
    )
    visit = Visit.objects.filter(procedure=procedure).first()
    assert visit is not None
    for outcome in (ContactOutcome.NO_ANSWER, ContactOutcome.LEFT_MESSAGE):
        services.record_contact_attempt(
            visit_id=visit.pk,
            channel=ContactChannel.PHONE,
            outcome=outcome,
            actor=front_desk,
            now=NOW,
        )
    reader = surgeon_a.user
    assert reader is not None
    client = signed_in(reader)

    studies = client.get(f"/api/patients/{procedure.patient_id}/mri-studies/")
    attempts = client.get(f"/api/visits/{visit.pk}/contact-attempts/")

    assert (studies.status_code, attempts.status_code) == (200, 200)
    reads = {
        read.kind: (read.reader, read.count, read.patient_ids, read.query)
        for read in PatientRead.objects.all()
    }
    assert reads == {
        "api_mri_studies": (
            reader,
            1,
            [procedure.patient_id],
            f"/api/patients/{procedure.patient_id}/mri-studies/",
        ),
        "api_contact_attempts": (
            reader,
            2,
            [procedure.patient_id],
            f"/api/visits/{visit.pk}/contact-attempts/",
        ),
    }


def test_a_refused_read_records_nothing(surgeon_a: Surgeon, surgeon_b: Surgeon) -> None:
    theirs = make_procedure(surgeon=surgeon_b)
    visit = Visit.objects.filter(procedure=theirs).first()
    assert visit is not None
    reader = surgeon_a.user
    assert reader is not None
    client = signed_in(reader)

    assert client.get(f"/api/patients/{theirs.patient_id}/mri-studies/").status_code
    assert client.get(f"/api/visits/{visit.pk}/contact-attempts/").status_code == 404

    assert not PatientRead.objects.exists()


def test_a_desk_search_records_the_patients_of_the_rows_it_showed(
    front_desk: User, desk_cast: DeskCast
) -> None:
    client = signed_in(front_desk)

    assert client.get("/desk/").status_code == 200
    assert not PatientRead.objects.exists()  # the worklist itself is not a search
    found = client.get("/desk/?q=Garc%C3%ADa", HTTP_HX_REQUEST="true")

    assert found.status_code == 200
    read = the_read()
    assert (read.reader, read.kind) == (front_desk, "desk_search")
    assert read.query == "/desk/?q=Garc%C3%ADa"
    assert read.patient_ids == [desk_cast.maria.pk]
    # Two visit rows, and the patient listed by name above them.
    assert len(found.context["items"]) == 2
    assert read.count == 2 + len(found.context["patients"]) == 3


def test_the_admin_patient_list_and_its_search_are_recorded(
    clinic_admin: User, three: list[Patient]
) -> None:
    client = signed_in(clinic_admin)

    searched = client.get("/admin/clinic/patient/?q=Alba")

    assert searched.status_code == 200
    read = the_read()
    assert (read.reader, read.kind, read.count) == (clinic_admin, "admin_patients", 1)
    assert read.patient_ids == [three[1].pk]
    assert read.query == "/admin/clinic/patient/?q=Alba"


def test_the_replan_csv_is_recorded_with_every_affected_patient(
    clinic_admin: User, three: list[Patient]
) -> None:
    FollowUpRule.objects.filter(code="one_month_control").update(window_days_after=10)

    csv = signed_in(clinic_admin).get(
        "/admin/followup/followuprule/replan/affected.csv"
    )

    assert csv.status_code == 200
    rows = csv.content.decode().splitlines()[1:]
    read = the_read()
    assert (read.kind, read.count) == ("replan_csv", len(rows))
    assert read.count > 0
    assert read.patient_ids == sorted(p.pk for p in three)


def test_an_admin_filtering_by_patient_finds_every_bulk_read_that_held_them(
    front_desk: User, clinic_admin: User, three: list[Patient]
) -> None:
    ana, alba, berta = three
    client = signed_in(front_desk)
    client.get("/api/patients/?q=Ana")
    client.get("/api/patients/?q=Vidal")
    client.get("/api/patients/?q=Berta")
    admin = signed_in(clinic_admin)

    page = admin.get(f"/admin/clinic/patientread/?patient={ana.pk}")

    assert page.status_code == 200
    assert sorted(r.query for r in page.context["cl"].result_list) == [
        "/api/patients/?q=Ana",
        "/api/patients/?q=Vidal",
    ]
    by_reader = admin.get(f"/admin/clinic/patientread/?reader={front_desk.pk}")
    assert len(by_reader.context["cl"].result_list) == 3
    unknown = admin.get("/admin/clinic/patientread/?patient=99999999999999999999")
    assert list(unknown.context["cl"].result_list) == []
    patient_page = admin.get(f"/admin/clinic/patient/{alba.pk}/change/")
    assert f"/admin/clinic/patientread/?patient={alba.pk}" in patient_page.text
    assert (
        berta.pk
        not in PatientRead.objects.get(query="/api/patients/?q=Ana").patient_ids
    )


def test_nobody_changes_or_deletes_a_bulk_read(
    front_desk: User, clinic_admin: User, three: list[Patient]
) -> None:
    signed_in(front_desk).get("/api/patients/")
    read = the_read()
    admin = signed_in(clinic_admin)

    admin.post(f"/admin/clinic/patientread/{read.pk}/delete/", {"post": "yes"})
    admin.post(f"/admin/clinic/patientread/{read.pk}/change/", {"count": "0"})

    assert the_read().count == 3
