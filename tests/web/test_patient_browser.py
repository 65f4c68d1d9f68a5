"""The patient pages in Chromium: registering by hand, the CSV import, the
patient's page and its calendar link, and axe-core on each at 1280 and 768 px."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from booking_links import services as links
from booking_links.models import LinkUse
from clinic.models import Patient, Procedure, ProcedureKind
from feeds.models import CalendarLink
from followup.models import Visit
from tests.factories import TODAY, make_procedure
from tests.followup.world import NOW, book, postop
from tests.web.conftest import WIDTHS, assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAD_CSV = (
    "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"
    "H-900001,Lucia,Sanz,1975-03-02,surgeon_a,endoscopic,2026-11-02\n"
    "H-900002,Jorge,Vidal,1968-13-40,surgeon_a,endoscopic,2026-11-02\n"
    "H-900003,Rosa,Mora,1980-01-01,surgeon_a,endoscopic_stem_cell,2026-11-02\n"
)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


def upload_csv(page: Any, content: str) -> None:
    page.goto("/desk/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": content.encode()}]
    )
    page.get_by_role("button", name="Import").click()


def fill_registration(page: Any, record_number: str) -> None:
    page.get_by_label("Record number").fill(record_number)
    page.get_by_label("Given name").fill("Elena")
    page.get_by_label("Family name").fill("Navarro Gil")
    page.get_by_label("Birth date").fill("1971-04-09")
    page.get_by_label("Surgeon").select_option(label="Dr. Ana Alvarez")
    page.get_by_label("Endoscopic surgery with stem-cell disc implant").check()
    page.get_by_label("Surgery date").fill("2026-11-02")


def test_a_csv_with_one_bad_line_shows_the_line_and_imports_nothing(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    page = new_page(user=cast["front_desk"])

    upload_csv(page, BAD_CSV)

    alert = page.get_by_role("alert")
    assert "Nothing was imported from list.csv" in alert.inner_text()
    rows = page.locator(".errors-table tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").first.inner_text() == "3"
    assert "'1968-13-40' is not a real date" in rows.first.inner_text()
    assert not Patient.objects.exists()
    assert not Procedure.objects.exists()


def test_a_good_csv_shows_the_counts(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    page = new_page(user=cast["front_desk"])

    upload_csv(page, BAD_CSV.replace("1968-13-40", "1968-12-30"))

    result = page.locator(".import-result").inner_text()
    assert "Imported list.csv" in result
    assert "Patients registered\n3" in result
    assert Patient.objects.count() == 3


def test_registering_by_hand_previews_the_plan_then_saves_and_opens_the_page(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    page = new_page(user=cast["front_desk"])
    page.goto("/desk/")
    page.get_by_role("link", name="New patient").click()
    page.wait_for_url("**/desk/patients/new/")

    # Checked as it is typed (htmx), before anything is submitted.
    page.get_by_label("Birth date").fill("2030-01-01")
    page.get_by_label("Birth date").blur()
    expect(page.locator("#error-birth_date")).to_have_text(
        "The birth date, Tue 1 Jan 2030, is in the future."
    )
    fill_registration(page, "H-300001")
    page.get_by_label("Birth date").blur()
    expect(page.locator("#error-birth_date")).to_have_text("")
    page.get_by_role("button", name="Preview the plan").click()

    preview = page.locator(".preview")
    assert "The plan it will generate" in preview.inner_text()
    assert "Post-operative control" in preview.inner_text()
    assert "Annual MRI review, year 2" in preview.inner_text()
    assert "Daily activity recovered" in preview.inner_text()
    assert not Patient.objects.exists()

    page.get_by_role("button", name="Save patient and procedure").click()

    patient = Patient.objects.get()
    page.wait_for_url(f"**/desk/patients/{patient.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Elena Navarro Gil"
    assert "4 visits planned" in page.get_by_role("status").inner_text()
    timeline = page.locator(".timeline").inner_text()
    assert "Post-operative control" in timeline
    assert "Sports may be resumed" in timeline
    assert Visit.objects.filter(procedure__patient=patient).count() == 4


def test_a_refused_registration_keeps_everything_typed(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    existing = make_procedure(today=TODAY).patient
    page = new_page(user=cast["front_desk"])
    page.goto("/desk/patients/new/")
    fill_registration(page, existing.record_number)

    page.get_by_role("button", name="Preview the plan").click()

    assert "already exists" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Family name").input_value() == "Navarro Gil"
    assert page.get_by_label("Surgery date").input_value() == "2026-11-02"
    assert Patient.objects.count() == 1


def test_the_desk_hands_a_patient_their_calendar_link_with_a_qr_code(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    patient = make_procedure(today=TODAY).patient
    page = new_page(user=cast["front_desk"])
    page.goto(f"/desk/patients/{patient.pk}/")

    page.get_by_role("button", name="Create a calendar link").click()

    url = page.get_by_label("Calendar URL").input_value()
    expect(
        page.get_by_role("img", name="QR code of the link, to scan with a phone")
    ).to_be_visible()
    assert page.request.get(url).status == 200
    page.get_by_role("button", name="Rotate (new URL)").click()
    assert page.get_by_label("Calendar URL").input_value() != url
    assert page.request.get(url).status == 404
    page.get_by_role("button", name="Revoke").click()
    assert "Link revoked" in page.get_by_role("status").inner_text()
    assert CalendarLink.objects.get().revoked_at is not None


def test_a_surgeon_cannot_open_another_surgeons_patient(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    visit = postop(surgeon=cast["surgeon_a"].surgeon)  # type: ignore[attr-defined]
    page = new_page(user=cast["surgeon_b"])

    response = page.goto(f"/desk/patients/{visit.patient_id}/")

    assert response.status == 404
    assert visit.patient.family_name not in page.content()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_patient_pages_are_accessible(
    new_page: Callable[..., Any], cast: dict[str, User], width: int
) -> None:
    surgeon = cast["surgeon_a"].surgeon  # type: ignore[attr-defined]
    visit = postop(surgeon=surgeon)
    book(visit, actor=cast["front_desk"], surgeon=surgeon)
    make_procedure(
        today=TODAY,
        patient=visit.patient,
        surgeon=surgeon,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=TODAY.replace(year=2025),
    )
    issued = links.issue_link(visit_id=visit.pk, actor=cast["front_desk"], now=NOW)
    links.record_use(issued.link, LinkUse.VIEWED, now=NOW)
    page = new_page(width=width, user=cast["front_desk"])

    # The patient's page, a history open, a new link with its QR code.
    page.goto(f"/desk/patients/{visit.patient_id}/")
    expect(page.locator("#booking-links")).to_contain_text("opened 1 time")
    page.locator("details.history").first.evaluate("details => details.open = true")
    page.get_by_role("button", name="Create a calendar link").click()
    expect(
        page.get_by_role("img", name="QR code of the link, to scan with a phone")
    ).to_be_visible()
    assert_no_serious_axe_violations(page)

    # The surgeon's read-only view of it.
    surgeon_page = new_page(width=width, user=cast["surgeon_a"])
    surgeon_page.goto(f"/desk/patients/{visit.patient_id}/")
    assert_no_serious_axe_violations(surgeon_page)

    # Registration: a refused submission, then a preview.
    page.goto("/desk/patients/new/")
    fill_registration(page, visit.patient.record_number)
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_no_serious_axe_violations(page)
    page.get_by_label("Record number").fill("H-NEW-1")
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.locator(".preview")).to_be_visible()
    assert_no_serious_axe_violations(page)

    # The import, empty and with a rejected file.
    page.goto("/desk/import/")
    assert_no_serious_axe_violations(page)
    upload_csv(page, BAD_CSV)
    expect(page.get_by_role("alert")).to_be_visible()
    assert_no_serious_axe_violations(page)


def test_the_desk_changes_the_contact_details_and_a_refusal_keeps_them(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    patient = make_procedure(today=TODAY).patient
    page = new_page(user=cast["front_desk"])
    page.goto(f"/desk/patients/{patient.pk}/")
    page.get_by_text("Change the contact details or reminders").click()

    page.get_by_label("Phone").fill("912 34 56 78")
    page.get_by_label("By SMS").check()
    page.get_by_role("button", name="Save contact details").click()

    expect(page.locator("#error-phone")).to_contain_text(
        "Reminders by SMS need a mobile number"
    )
    assert page.get_by_label("Phone").input_value() == "912 34 56 78"
    assert page.get_by_label("By SMS").is_checked()
    assert_no_serious_axe_violations(page)

    page.get_by_label("Phone").fill("612 34 56 78")
    page.get_by_role("button", name="Save contact details").click()

    expect(page.locator(".patient-head")).to_contain_text("612 34 56 78")
    link = page.locator('.patient-head a[href="tel:+34612345678"]')
    expect(link).to_have_text("612 34 56 78")
    patient.refresh_from_db()
    assert (patient.phone, patient.reminders) == ("+34612345678", "sms")


def test_the_desk_makes_a_booking_link_from_the_patient_page_and_reads_its_state(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    visit = postop(surgeon=cast["surgeon_a"].surgeon)  # type: ignore[attr-defined]
    page = new_page(width=1280, user=cast["front_desk"])
    page.goto(f"/desk/patients/{visit.patient_id}/")
    card = page.get_by_role("region", name="Booking links")
    expect(card.get_by_role("listitem").first).to_contain_text("No link yet.")
    assert_no_serious_axe_violations(page)

    card.get_by_role("button", name="Make a link for Post-operative control").click()

    url = page.locator(".booking-link__url").inner_text()
    assert "/p/" in url
    assert_no_serious_axe_violations(page)
    page.goto(f"/desk/patients/{visit.patient_id}/")
    expect(card).to_contain_text("Live since 25 Nov 2026, 08:00, made by desk")
    expect(card).to_contain_text("not opened yet")
    assert url not in page.content()
