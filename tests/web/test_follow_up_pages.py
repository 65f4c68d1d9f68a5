"""Following up the lost ones, on the pages: the worklist's Call list tab and
its "Record attempt" form, the patient page's attempts and MRI studies, the
MRI flags on the worklist, the surgeon's and the patient's pages, and the
surgeon's "Lost to follow-up" section. Through Django's test client, on the
worklist's pinned clock (Monday 30 November 2026, 08:00 in Madrid)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.clock import start_of_day
from clinic.models import ProcedureKind, Surgeon
from followup import services
from followup.models import (
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    MriStudy,
    Visit,
    VisitStatus,
)
from tests.factories import PatientFactory, make_procedure
from tests.web.desk_data import NOW, TODAY, DeskCast, make_cast, pin_clock

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
# Monday 7 December 2026, 09:00 in Madrid: within the MRI flag's 14 days.
NEXT_MONDAY_9 = start_of_day(TODAY + dt.timedelta(days=7)) + dt.timedelta(hours=9)


@pytest.fixture
def cast(monkeypatch: pytest.MonkeyPatch) -> DeskCast:
    pin_clock(monkeypatch)
    return make_cast()


def as_user(user: User | None) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def text_of(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def call_labels(response: Any) -> list[str]:
    return [item.row.patient_label for item in response.context["items"]]


def call_count(response: Any) -> int:
    return next(tab.count for tab in response.context["tabs"] if tab.key == "call")


def attempt(visit: Visit, outcome: str, **extra: Any) -> None:
    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel(extra.pop("channel", "phone")),
        outcome=ContactOutcome(outcome),
        actor=None,
        now=extra.pop("now", NOW),
        **extra,
    )


def post_attempt(client: Client, visit: Visit, **fields: str) -> Any:
    data = {"channel": "phone", "back": "tab=call", **fields}
    return client.post(f"/desk/visits/{visit.pk}/contact/", data)


# --- the Call list tab ------------------------------------------------------------


def test_the_call_list_shows_overdue_and_closing_visits_with_their_last_attempt(
    desk: Client, cast: DeskCast
) -> None:
    pilar_postop = cast.visit(cast.pilar, "postop_control")
    attempt(pilar_postop, "left_message", now=NOW - dt.timedelta(days=2))

    response = desk.get("/desk/?tab=call")

    assert response.status_code == 200
    # Overdue (Pilar's two), closing within 7 days (Jorge 1 Dec, María 5 Dec).
    assert call_labels(response) == [
        "Sanz, Pilar · MRN00030",
        "Sanz, Pilar · MRN00030",
        "Ruiz, Jorge · MRN00020",
        "García López, María · MRN00012",
    ]
    assert call_count(response) == 4
    html = text_of(response)
    assert "Patients to call" in html
    assert "Left a message" in html and "1 attempt" in html
    assert "Not tried yet" in html
    assert "Unreachable" not in html


def test_three_unanswered_calls_in_a_row_flag_the_row_unreachable(
    desk: Client, cast: DeskCast
) -> None:
    pilar_postop = cast.visit(cast.pilar, "postop_control")
    for days_ago in (5, 3, 1):
        attempt(pilar_postop, "no_answer", now=NOW - dt.timedelta(days=days_ago))

    html = text_of(desk.get("/desk/?tab=call"))

    row = html[html.index(f'id="visit-{pilar_postop.pk}"') :]
    row = row[: row.index("</tbody>")]
    assert "3 attempts" in row
    assert "Unreachable" in row


def test_the_desk_records_an_attempt_with_a_plain_form_and_the_count_rises(
    desk: Client, cast: DeskCast
) -> None:
    jorge = cast.visit(cast.jorge, "postop_control")

    response = post_attempt(desk, jorge, outcome="no_answer", note="Rang twice")

    assert response.status_code == 302
    assert response["Location"] == f"/desk/?tab=call#visit-{jorge.pk}"
    saved = ContactAttempt.objects.get()
    assert (saved.visit_id, saved.outcome, saved.note) == (
        jorge.pk,
        "no_answer",
        "Rang twice",
    )
    page = desk.get(response["Location"])
    html = text_of(page)
    assert "Saved. Ruiz, Jorge · MRN00020: Phone attempt recorded: no answer." in html
    row = html[html.index(f'id="visit-{jorge.pk}"') :]
    assert "1 attempt" in row[: row.index("</tbody>")]


def test_with_htmx_the_row_comes_back_and_the_live_region_says_saved(
    desk: Client, cast: DeskCast
) -> None:
    jorge = cast.visit(cast.jorge, "postop_control")

    response = desk.post(
        f"/desk/visits/{jorge.pk}/contact/",
        {"channel": "sms", "outcome": "left_message", "back": "tab=call"},
        **HTMX,
    )

    assert response.status_code == 200
    html = text_of(response)
    assert f'id="visit-{jorge.pk}"' in html
    assert 'id="announcements" hx-swap-oob="innerHTML"' in html
    assert (
        "Saved. Ruiz, Jorge · MRN00020: SMS attempt recorded: left a message." in html
    )
    assert 'id="desk-tabs"' in html  # the counts, out of band


@pytest.mark.parametrize(
    ("call_back_on", "message"),
    [
        ("", "“Call back later” needs the day to call the patient back"),
        ("2026-11-29", "The call-back date, Sun 29 Nov 2026, is not after today."),
    ],
)
def test_a_call_back_without_a_later_date_is_refused_and_keeps_the_input(
    desk: Client, cast: DeskCast, call_back_on: str, message: str
) -> None:
    jorge = cast.visit(cast.jorge, "postop_control")

    response = post_attempt(
        desk,
        jorge,
        outcome="call_back_later",
        call_back_on=call_back_on,
        note="Ring after lunch",
    )

    assert response.status_code == 400
    assert not ContactAttempt.objects.exists()
    assert Visit.objects.get(pk=jorge.pk).status == VisitStatus.TO_BOOK
    html = text_of(response)
    row = html[html.index(f'id="visit-{jorge.pk}"') :]
    row = row[: row.index("</tbody>")]
    assert message in row
    assert 'role="alert"' in row
    assert "Ring after lunch</textarea>" in row
    assert '<option value="call_back_later" selected>' in row
    assert f'value="{call_back_on}"' in row


def test_a_call_back_later_hides_the_row_until_its_date(
    desk: Client, cast: DeskCast, monkeypatch: pytest.MonkeyPatch
) -> None:
    jorge = cast.visit(cast.jorge, "one_month_control")  # closes 23 Dec: not yet
    pilar = cast.visit(cast.pilar, "postop_control")

    response = post_attempt(
        desk, pilar, outcome="call_back_later", call_back_on="2026-12-03"
    )
    assert response.status_code == 302

    assert pilar.pk not in [i.pk for i in desk.get("/desk/?tab=call").context["items"]]
    pin_clock(monkeypatch, NOW + dt.timedelta(days=2))
    assert pilar.pk not in [i.pk for i in desk.get("/desk/?tab=call").context["items"]]
    pin_clock(monkeypatch, NOW + dt.timedelta(days=3))
    back = desk.get("/desk/?tab=call")
    assert pilar.pk in [item.pk for item in back.context["items"]]
    assert jorge.pk not in [item.pk for item in back.context["items"]]
    assert "Call back later" in text_of(back)


# --- roles ------------------------------------------------------------------------


@pytest.fixture
def bruno_patient_visit(surgeon_b: Surgeon, monkeypatch: pytest.MonkeyPatch) -> Visit:
    pin_clock(monkeypatch)
    procedure = make_procedure(
        surgeon=surgeon_b,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2026, 10, 1),
        today=TODAY,
    )
    return Visit.objects.get(procedure=procedure, rule__code="postop_control")


def test_a_surgeon_cannot_record_an_attempt_on_another_surgeons_patient(
    surgeon_a: Surgeon, bruno_patient_visit: Visit
) -> None:
    visit = bruno_patient_visit
    client = as_user(surgeon_a.user)

    on_desk = post_attempt(client, visit, outcome="no_answer")
    on_page = client.post(
        f"/desk/patients/{visit.patient_id}/visits/{visit.pk}/contact/",
        {"channel": "phone", "outcome": "no_answer"},
    )

    assert on_desk.status_code == 403
    assert on_page.status_code == 403
    assert not ContactAttempt.objects.exists()


def test_a_surgeon_does_not_record_attempts_on_their_own_patients_either(
    surgeon_b: Surgeon, bruno_patient_visit: Visit
) -> None:
    # Phoning patients is the front desk's job (the API's rule, too).
    response = post_attempt(
        as_user(surgeon_b.user), bruno_patient_visit, outcome="no_answer"
    )

    assert response.status_code == 403
    assert not ContactAttempt.objects.exists()


def test_the_desk_records_an_attempt_on_any_surgeons_patient(
    desk: Client, bruno_patient_visit: Visit
) -> None:
    visit = bruno_patient_visit

    response = desk.post(
        f"/desk/patients/{visit.patient_id}/visits/{visit.pk}/contact/",
        {"channel": "letter", "outcome": "no_answer", "note": "Sent the reminder"},
    )

    assert response.status_code == 302
    assert (
        response["Location"] == f"/desk/patients/{visit.patient_id}/#visit-{visit.pk}"
    )
    assert ContactAttempt.objects.get().channel == "letter"


# --- the patient page --------------------------------------------------------------


def test_the_patient_page_lists_each_visits_attempts_with_notes_and_the_form(
    desk: Client, cast: DeskCast, surgeon_a: Surgeon
) -> None:
    pilar = cast.visit(cast.pilar, "postop_control")
    attempt(
        pilar, "no_answer", note="No voicemail set up", now=NOW - dt.timedelta(days=1)
    )

    html = text_of(desk.get(f"/desk/patients/{cast.pilar.pk}/"))

    visit_html = html[html.index(f'id="visit-{pilar.pk}"') :]
    visit_html = visit_html[: visit_html.index("</li>")]
    assert 'Contact attempts <span class="history__count">(1)</span>' in visit_html
    assert "No answer" in visit_html and "No voicemail set up" in visit_html
    assert (
        f'action="/desk/patients/{cast.pilar.pk}/visits/{pilar.pk}/contact/"'
        in visit_html
    )


def test_a_refused_attempt_on_the_patient_page_keeps_the_input(
    desk: Client, cast: DeskCast
) -> None:
    pilar = cast.visit(cast.pilar, "postop_control")

    response = desk.post(
        f"/desk/patients/{cast.pilar.pk}/visits/{pilar.pk}/contact/",
        {
            "channel": "sms",
            "outcome": "call_back_later",
            "call_back_on": "2026-11-01",
            "note": "Asked for a week",
        },
    )

    assert response.status_code == 400
    assert not ContactAttempt.objects.exists()
    html = text_of(response)
    visit_html = html[html.index(f'id="visit-{pilar.pk}"') :]
    visit_html = visit_html[: visit_html.index("</li>")]
    assert "is not after today" in visit_html
    assert "Asked for a week</textarea>" in visit_html
    assert '<option value="sms" selected>' in visit_html
    assert 'value="2026-11-01"' in visit_html


def test_the_patient_page_records_a_study_and_then_its_report(
    desk: Client, cast: DeskCast
) -> None:
    url = f"/desk/patients/{cast.maria.pk}/"

    created = desk.post(
        f"{url}mri-studies/", {"performed_on": "2026-11-20", "reference": "ACC-77"}
    )
    assert created.status_code == 302
    study = MriStudy.objects.get()
    assert text_of(desk.get(url)).count("Report pending") == 1

    reported = desk.post(
        f"{url}mri-studies/{study.pk}/report/", {"report_received_on": "2026-11-27"}
    )

    assert reported.status_code == 302
    study.refresh_from_db()
    assert study.report_received_on == dt.date(2026, 11, 27)
    assert "Report received Fri 27 Nov 2026" in text_of(desk.get(url))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"performed_on": "2026-12-01", "reference": "ACC-9"}, "is in the future"),
        ({"performed_on": "", "reference": "ACC-9"}, "performed_on"),
    ],
)
def test_a_refused_study_keeps_the_input_and_writes_nothing(
    desk: Client, cast: DeskCast, fields: dict[str, str], message: str
) -> None:
    response = desk.post(f"/desk/patients/{cast.maria.pk}/mri-studies/", fields)

    assert response.status_code == 400
    assert not MriStudy.objects.exists()
    html = text_of(response)
    card = html[html.index('id="mri-studies"') :]
    assert message in card
    assert 'value="ACC-9"' in card


def test_a_surgeon_reads_the_studies_but_records_none(
    surgeon_b: Surgeon, bruno_patient_visit: Visit
) -> None:
    client = as_user(surgeon_b.user)
    patient_id = bruno_patient_visit.patient_id

    page = text_of(client.get(f"/desk/patients/{patient_id}/"))
    posted = client.post(
        f"/desk/patients/{patient_id}/mri-studies/",
        {"performed_on": "2026-11-20", "reference": "ACC-1"},
    )

    assert "MRI studies" in page
    assert "Record the study" not in page and "Record attempt" not in page
    assert posted.status_code == 403
    assert not MriStudy.objects.exists()


# --- the MRI flags ------------------------------------------------------------------


@pytest.fixture
def booked_review(
    front_desk: User, surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> Visit:
    """An annual MRI review of surgeon A's patient, booked next Monday 09:00."""
    pin_clock(monkeypatch)
    procedure = make_procedure(
        patient=PatientFactory.create(given_name="Rosa", family_name="Vidal"),
        surgeon=surgeon_a,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2025, 12, 7),
        today=TODAY,
    )
    review = Visit.objects.get(
        procedure=procedure, rule__code="annual_mri_review", occurrence=1
    )
    services.book_visit(
        visit_id=review.pk,
        start=NEXT_MONDAY_9,
        surgeon_id=surgeon_a.pk,
        actor=front_desk,
        now=NOW,
    )
    return review


def report_the_scan(review: Visit, *, with_report: bool) -> None:
    study = services.record_mri_study(
        patient_id=review.patient_id,
        performed_on=dt.date(2026, 11, 20),
        reference="ACC-5",
        actor=None,
        today=TODAY,
    )
    if with_report:
        services.record_mri_report(
            study_id=study.pk, received_on=dt.date(2026, 11, 27), today=TODAY
        )


def pages(desk: Client, surgeon: Surgeon, review: Visit) -> dict[str, str]:
    return {
        "desk": text_of(desk.get("/desk/")),
        "surgeon": text_of(as_user(surgeon.user).get("/surgeon/")),
        "patient": text_of(desk.get(f"/desk/patients/{review.patient_id}/")),
    }


def test_every_page_flags_a_booked_review_without_its_mri(
    desk: Client, surgeon_a: Surgeon, booked_review: Visit
) -> None:
    shown = pages(desk, surgeon_a, booked_review)

    banner = shown["desk"][shown["desk"].index('class="mri-banner"') :]
    assert "1 booked MRI review in the next 14 days without a reported MRI" in banner
    assert "Vidal, Rosa" in banner and "MRI missing" in banner
    row = shown["surgeon"][shown["surgeon"].index(f'id="visit-{booked_review.pk}"') :]
    assert '<span class="badge badge--mri-flag">MRI missing</span>' in row[:3000]
    assert '<span class="tag tag--mri-flag">MRI missing</span>' in shown["patient"]


def test_a_study_without_its_report_is_flagged_report_pending(
    desk: Client, surgeon_a: Surgeon, booked_review: Visit
) -> None:
    report_the_scan(booked_review, with_report=False)

    shown = pages(desk, surgeon_a, booked_review)

    assert "MRI report pending" in shown["desk"]
    assert 'badge--mri-flag">MRI report pending' in shown["surgeon"]
    assert "MRI done, report pending" in shown["patient"]
    assert "MRI missing" not in shown["surgeon"]


def test_the_flags_go_once_the_report_is_in(
    desk: Client, surgeon_a: Surgeon, booked_review: Visit
) -> None:
    report_the_scan(booked_review, with_report=True)

    shown = pages(desk, surgeon_a, booked_review)

    assert 'class="mri-banner"' not in shown["desk"]
    assert "badge--mri-flag" not in shown["surgeon"]
    assert "MRI done, report received" in shown["patient"]


def test_the_worklist_row_of_a_flagged_review_carries_the_badge(
    desk: Client, booked_review: Visit, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_clock(monkeypatch, NEXT_MONDAY_9 - dt.timedelta(hours=2))

    html = text_of(desk.get("/desk/?tab=today"))

    row = html[html.index(f'id="visit-{booked_review.pk}"') :]
    assert '<span class="badge badge--mri-flag">MRI missing</span>' in row[:4000]


def test_a_checked_in_review_without_its_mri_carries_the_badge_wherever_listed(
    desk: Client,
    front_desk: User,
    surgeon_a: Surgeon,
    booked_review: Visit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The patient has arrived: the banner, the Today tab and the surgeon's
    # page all read one rule, so none of them loses the badge at check-in.
    arrived = NEXT_MONDAY_9 - dt.timedelta(minutes=10)
    pin_clock(monkeypatch, arrived)
    services.check_in_visit(visit_id=booked_review.pk, actor=front_desk, now=arrived)

    today_tab = text_of(desk.get("/desk/?tab=today"))
    surgeon = text_of(as_user(surgeon_a.user).get("/surgeon/"))

    banner = today_tab[today_tab.index('class="mri-banner"') :]
    assert "Vidal, Rosa" in banner and "MRI missing" in banner
    for page in (today_tab, surgeon):
        row = page[page.index(f'id="visit-{booked_review.pk}"') :]
        assert '<span class="badge badge--mri-flag">MRI missing</span>' in row[:4000]


# --- lost to follow-up on the surgeon's page ----------------------------------------


def test_the_surgeon_sees_their_unreachable_and_declined_patients_with_the_attempts(
    surgeon_a: Surgeon, surgeon_b: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_clock(monkeypatch)
    lost = make_procedure(
        patient=PatientFactory.create(record_number="MRN00401"),
        surgeon=surgeon_a,
        surgery_date=dt.date(2026, 10, 1),
        today=TODAY,
    )
    declined = make_procedure(
        patient=PatientFactory.create(record_number="MRN00402"),
        surgeon=surgeon_a,
        surgery_date=dt.date(2026, 10, 1),
        today=TODAY,
    )
    not_mine = make_procedure(
        patient=PatientFactory.create(record_number="MRN00403"),
        surgeon=surgeon_b,
        surgery_date=dt.date(2026, 10, 1),
        today=TODAY,
    )
    for procedure in (lost, not_mine):
        visit = Visit.objects.get(procedure=procedure, rule__code="postop_control")
        for days_ago in (9, 5, 2):
            attempt(visit, "no_answer", now=NOW - dt.timedelta(days=days_ago))
    attempt(
        Visit.objects.get(procedure=declined, rule__code="postop_control"),
        "declined",
        note="Prefers his GP",
    )

    html = text_of(as_user(surgeon_a.user).get("/surgeon/"))

    section = html[html.index('id="lost"') :]
    section = section[: section.index("</section>")]
    assert "Lost to follow-up" in section
    assert "MRN00401" in section and "Unreachable" in section
    assert "3 contact attempts" in section
    assert "MRN00402" in section and "Patient declined this follow-up" in section
    assert "Prefers his GP" in section
    assert "MRN00403" not in section


def test_the_mri_card_shows_only_where_an_mri_means_something(
    desk: Client, cast: DeskCast, booked_review: Visit
) -> None:
    endoscopic_only = text_of(desk.get(f"/desk/patients/{cast.maria.pk}/"))
    stem_cell = text_of(desk.get(f"/desk/patients/{booked_review.patient_id}/"))

    assert 'id="mri-studies"' not in endoscopic_only
    assert 'id="mri-studies"' in stem_cell


def test_the_patient_page_says_unreachable_and_when_to_call_back(
    desk: Client, cast: DeskCast
) -> None:
    pilar_postop = cast.visit(cast.pilar, "postop_control")
    pilar_month = cast.visit(cast.pilar, "one_month_control")
    for days_ago in (5, 3, 1):
        attempt(pilar_postop, "no_answer", now=NOW - dt.timedelta(days=days_ago))
    attempt(pilar_month, "call_back_later", call_back_on=dt.date(2026, 12, 3))

    html = text_of(desk.get(f"/desk/patients/{cast.pilar.pk}/"))

    postop = html[html.index(f'id="visit-{pilar_postop.pk}"') :]
    assert 'tag--unreachable">Unreachable' in postop[: postop.index("</li>")]
    month = html[html.index(f'id="visit-{pilar_month.pk}"') :]
    assert "Call back on Thu 3 Dec 2026" in month[: month.index("</li>")]


def test_a_report_date_from_a_page_shown_before_another_clerk_added_one_is_refused(
    desk: Client, cast: DeskCast, front_desk: User
) -> None:
    """Two clerks have the page open, the study's report pending on both: the
    second one's date does not replace the first one's, and says so."""
    study = services.record_mri_study(
        patient_id=cast.maria.pk,
        performed_on=dt.date(2026, 11, 20),
        reference="ACC-77",
        actor=front_desk,
        today=TODAY,
    )
    report = f"/desk/patients/{cast.maria.pk}/mri-studies/{study.pk}/report/"
    first = as_user(front_desk).post(report, {"report_received_on": "2026-11-27"})
    assert first.status_code == 302

    stale = desk.post(report, {"report_received_on": "2026-11-28"})

    assert stale.status_code == 409
    study.refresh_from_db()
    assert study.report_received_on == dt.date(2026, 11, 27)
    page = text_of(stale)
    assert (
        "The report of ACC-77 was recorded as received on Fri 27 Nov 2026 after "
        "this page was shown; that date is kept. Nothing was saved." in page
    )
    assert "Report received Fri 27 Nov 2026" in page


def test_the_same_report_date_posted_twice_is_saved_once(
    desk: Client, cast: DeskCast, front_desk: User
) -> None:
    study = services.record_mri_study(
        patient_id=cast.maria.pk,
        performed_on=dt.date(2026, 11, 20),
        reference="ACC-77",
        actor=front_desk,
        today=TODAY,
    )
    report = f"/desk/patients/{cast.maria.pk}/mri-studies/{study.pk}/report/"

    answers = [desk.post(report, {"report_received_on": "2026-11-27"}) for _ in "12"]

    assert [answer.status_code for answer in answers] == [302, 302]
    study.refresh_from_db()
    assert study.report_received_on == dt.date(2026, 11, 27)
