"""The follow-up pages in Chromium: the desk records attempts from the Call
list tab, a call back later hides the row until its date; axe-core on the
Call list with its form open, the patient page's attempts and MRI studies,
and the surgeon's "Lost to follow-up" and MRI flags, at both widths.

The clinic's clock is pinned (`tests.web.desk_data`): Monday 30 November
2026, 08:00 in Madrid.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from clinic.clock import start_of_day
from clinic.models import ProcedureKind, Surgeon
from followup import services
from followup.models import ContactAttempt, ContactChannel, ContactOutcome, Visit
from tests.factories import PatientFactory, make_procedure
from tests.web.conftest import WIDTHS, assert_no_serious_axe_violations
from tests.web.desk_data import NOW, TODAY, DeskCast, pin_clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def call_tab(page: Any) -> Any:
    return page.locator("#desk-tabs").get_by_role("link", name=re.compile("^Call list"))


def record(page: Any, pk: int, outcome: str, **fields: str) -> None:
    row = page.locator(f"#visit-{pk}")
    row.get_by_role("link", name=re.compile("^Record attempt")).click()
    row.get_by_label("Outcome").select_option(label=outcome)
    if "call_back_on" in fields:
        row.get_by_label("Call back on").fill(fields["call_back_on"])
    if "note" in fields:
        row.get_by_label("Note").fill(fields["note"])
    row.get_by_role("button", name="Record attempt", exact=True).click()


def test_the_desk_records_a_no_answer_from_the_call_list_and_the_count_rises(
    new_page: Callable[..., Any], cast: dict[str, User], desk_cast: DeskCast
) -> None:
    jorge = desk_cast.visit(desk_cast.jorge, "postop_control")
    page = new_page(user=cast["front_desk"])
    page.goto("/desk/")
    call_tab(page).click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Patients to call")
    row = page.locator(f"#visit-{jorge.pk}")
    expect(row.locator(".visit__contact")).to_contain_text("Not tried yet")

    record(page, jorge.pk, "No answer", note="Rang at 9")

    expect(page.locator("#announcements")).to_contain_text(
        "Saved. Ruiz, Jorge · MRN00020: Phone attempt recorded: no answer."
    )
    expect(row.locator(".contact__count")).to_have_text("1 attempt")

    record(page, jorge.pk, "No answer")

    expect(row.locator(".contact__count")).to_have_text("2 attempts")
    expect(row.locator(".contact__last")).to_have_text("No answer")
    assert ContactAttempt.objects.filter(visit=jorge).count() == 2


def test_a_call_back_later_hides_the_row_until_its_date(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    desk_cast: DeskCast,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pilar = desk_cast.visit(desk_cast.pilar, "postop_control")
    page = new_page(user=cast["front_desk"])
    page.goto("/desk/?tab=call")
    expect(call_tab(page)).to_contain_text("Call list 4")

    record(page, pilar.pk, "Call back later", call_back_on="2026-12-03")
    expect(page.locator("#announcements")).to_contain_text("to call back on")
    page.reload()

    expect(page.locator(f"#visit-{pilar.pk}")).to_have_count(0)
    expect(call_tab(page)).to_contain_text("Call list 3")

    pin_clock(monkeypatch, NOW + dt.timedelta(days=2))  # Wednesday 2 December
    page.reload()
    expect(page.locator(f"#visit-{pilar.pk}")).to_have_count(0)

    pin_clock(monkeypatch, NOW + dt.timedelta(days=3))  # Thursday 3 December
    page.reload()
    row = page.locator(f"#visit-{pilar.pk}")
    expect(row).to_have_count(1)
    expect(row.locator(".contact__last")).to_have_text("Call back later")


# --- axe-core ---------------------------------------------------------------------


def lost_and_flagged(surgeon: Surgeon, desk: User) -> tuple[Visit, Visit]:
    """Surgeon A's unreachable patient (three unanswered calls, with notes)
    and annual review booked next Monday without its MRI."""
    lost = make_procedure(
        patient=PatientFactory.create(record_number="MRN00401", phone="+34612345678"),
        surgeon=surgeon,
        surgery_date=dt.date(2026, 10, 1),
        today=TODAY,
    )
    unreachable = Visit.objects.get(procedure=lost, rule__code="postop_control")
    for days_ago in (9, 5, 2):
        services.record_contact_attempt(
            visit_id=unreachable.pk,
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.NO_ANSWER,
            note="Rang, no voicemail",
            actor=desk,
            now=NOW - dt.timedelta(days=days_ago),
        )
    stem = make_procedure(
        patient=PatientFactory.create(record_number="MRN00402"),
        surgeon=surgeon,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2025, 12, 7),
        today=TODAY,
    )
    review = Visit.objects.get(
        procedure=stem, rule__code="annual_mri_review", occurrence=1
    )
    services.book_visit(
        visit_id=review.pk,
        start=start_of_day(TODAY + dt.timedelta(days=7)) + dt.timedelta(hours=9),
        surgeon_id=surgeon.pk,
        actor=desk,
        now=NOW,
    )
    services.record_mri_study(
        patient_id=stem.patient_id,
        performed_on=dt.date(2026, 11, 20),
        reference="ACC-20",
        actor=desk,
        today=TODAY,
    )
    return unreachable, review


@pytest.mark.parametrize("width", WIDTHS)
def test_the_follow_up_tab_and_panels_pass_axe(
    new_page: Callable[..., Any],
    cast: dict[str, User],
    surgeon_a: Surgeon,
    monkeypatch: pytest.MonkeyPatch,
    width: int,
) -> None:
    pin_clock(monkeypatch)
    unreachable, review = lost_and_flagged(surgeon_a, cast["front_desk"])

    desk = new_page(width=width, user=cast["front_desk"])
    desk.goto("/desk/?tab=call")
    expect(desk.locator(".mri-banner")).to_contain_text("MRI report pending")
    expect(desk.locator(f"#visit-{unreachable.pk}")).to_contain_text("Unreachable")
    expect(
        desk.locator(f"#visit-{unreachable.pk}").get_by_role(
            "link", name="612 34 56 78"
        )
    ).to_have_attribute("href", "tel:+34612345678")
    desk.locator(f"#visit-{unreachable.pk}").get_by_role(
        "link", name=re.compile("^Record attempt")
    ).click()
    expect(desk.get_by_label("Call back on")).to_be_visible()
    assert_no_serious_axe_violations(desk)
    # A refusal beside the row, with its message tied to the fields.
    desk.get_by_label("Outcome").select_option(label="Call back later")
    desk.get_by_role("button", name="Record attempt", exact=True).click()
    expect(desk.locator(".row-error")).to_contain_text(
        "“Call back later” needs the day to call the patient back"
    )
    assert_no_serious_axe_violations(desk)

    desk.goto(f"/desk/patients/{unreachable.patient_id}/")
    attempts = desk.locator(".contact-attempts").first
    expect(attempts).to_contain_text("Rang, no voicemail")
    assert_no_serious_axe_violations(desk)
    desk.goto(f"/desk/patients/{review.patient_id}/")
    expect(desk.locator("#mri-studies")).to_contain_text("ACC-20")
    expect(desk.locator("body")).to_contain_text("MRI done, report pending")
    assert_no_serious_axe_violations(desk)

    surgeon = new_page(width=width, user=surgeon_a.user)
    surgeon.goto("/surgeon/")
    expect(surgeon.locator("#lost")).to_contain_text("Unreachable")
    surgeon.locator("#lost summary").first.click()
    expect(surgeon.locator("#lost")).to_contain_text("Rang, no voicemail")
    expect(surgeon.locator(f"#visit-{review.pk}")).to_contain_text("MRI report pending")
    assert_no_serious_axe_violations(surgeon)
