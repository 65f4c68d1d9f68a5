"""`/surgeon/`: a surgeon's reviews and week, completing a visit, ending an
annual-review programme; scope, refusals, bad input and query counts.

The world is tests.web.surgeon_world's; "now" is Wednesday 25 November 2026,
10:00 in Madrid.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.models import ProcedureKind, Surgeon
from followup import services
from followup.models import (
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    FollowUpRule,
    Visit,
    VisitEvent,
    VisitStatus,
)
from followup.models.authorship import PATIENT_SMS
from tests.factories import PatientFactory, make_procedure
from tests.web.surgeon_world import NOW, TODAY, SurgeonWorld, build, madrid

pytestmark = pytest.mark.django_db

PAGE = "/surgeon/"


@pytest.fixture(autouse=True)
def _pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


@pytest.fixture
def world(front_desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> SurgeonWorld:
    return build(front_desk, surgeon_a, surgeon_b)


def client_of(surgeon: Surgeon) -> Client:
    client = Client()
    client.force_login(surgeon.user)  # type: ignore[arg-type]
    return client


def section(html: str, section_id: str) -> str:
    """The HTML of one <section id=...> of the page (sections do not nest
    except the week's days, which only the week holds)."""
    start = html.index(f'id="{section_id}"')
    end = html.find('<section class="card"', start)
    return html[start : end if end != -1 else None]


def text(html: str) -> str:
    """The words of `html`, one space apart (inline <time> adds none), with
    the page's en dashes as hyphens."""
    html = re.sub(r"</?time[^>]*>", "", html).replace("\u2013", "-")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def snapshot(visit: Visit) -> tuple[object, int]:
    return (
        Visit.objects.values().get(pk=visit.pk),
        VisitEvent.objects.filter(visit=visit).count(),
    )


# --- what the page shows ------------------------------------------------------


def test_upcoming_lists_the_surgeons_patients_soonest_first_with_the_mri_marked(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    html = client_of(surgeon_a).get(PAGE).content.decode()

    upcoming = text(section(html, "upcoming"))
    order = [upcoming.index(label) for label in ("AA H-1001", "DD H-1004")]
    assert order == sorted(order)
    assert "AA H-1001 Post-operative control" in upcoming
    assert "Checked in" in upcoming
    assert "CC H-1003 Annual MRI review MRI" in upcoming
    assert "EE H-1005 Annual MRI review MRI Covering for Dr. Bruno Blanco" in upcoming
    assert "BB H-1002" not in html  # surgeon B's patient


def test_every_list_names_the_patient_and_links_to_the_visit(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    html = client_of(surgeon_a).get(PAGE).content.decode()

    assert "Carmen Cano CC H-1003 Annual MRI review" in text(section(html, "upcoming"))
    week = section(html, "week")
    for visit, name in ((world.checked_in, "Ana Abad"), (world.friday, "Dora Diaz")):
        link = f'href="/desk/patients/{visit.patient_id}/#visit-{visit.pk}"'
        assert f'<a class="slot__patient" {link}>{name} <span' in week
        page = client_of(surgeon_a).get(f"/desk/patients/{visit.patient_id}/")
        assert f'id="visit-{visit.pk}"' in page.content.decode()


def test_a_shorter_period_leaves_later_reviews_out(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    html = client_of(surgeon_a).get(PAGE + "?days=3").content.decode()

    upcoming = text(section(html, "upcoming"))
    assert "DD H-1004" in upcoming  # Friday
    assert "EE H-1005" not in upcoming  # Monday
    assert '<option value="3" selected>Next 3 days</option>' in html


def test_overdue_lists_windows_closed_while_still_to_book(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    html = client_of(surgeon_a).get(PAGE).content.decode()

    overdue = text(section(html, "overdue"))
    # Carmen's post-op and one-month controls of December 2025 and January 2026.
    assert "CC H-1003 Post-operative control" in overdue
    assert "CC H-1003 One-month control" in overdue
    assert "Window closed 25 Dec 2025 335 days ago" in overdue
    assert "AA H-1001" not in overdue


def test_a_late_booking_is_marked(world: SurgeonWorld, surgeon_a: Surgeon) -> None:
    Visit.objects.filter(pk=world.friday.pk).update(late_by_days=4)

    html = client_of(surgeon_a).get(PAGE).content.decode()

    assert "Booked 4 days late" in text(section(html, "upcoming"))
    assert "Booked, booked 4 days late" in text(section(html, "week"))


def test_the_week_lists_visits_booked_with_the_surgeon_in_clinic_time(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    html = client_of(surgeon_a).get(PAGE).content.decode()

    week = text(section(html, "week"))
    assert "Your week: 23 Nov - 29 Nov 2026" in week
    assert (
        "Wed 25 Nov Today 09:00-09:20 Ana Abad AA H-1001 Post-operative control" in week
    )
    assert "Fri 27 Nov 09:00-09:20 Dora Diaz DD H-1004" in week
    assert "Sat 28 Nov" not in week  # the weekend only when something is on it
    assert 'href="/surgeon/?week=2026-11-30#week"' in html

    later = client_of(surgeon_a).get(PAGE + "?week=2026-12-02").content.decode()
    week = text(section(later, "week"))
    assert "Your week: 30 Nov - 6 Dec 2026" in week
    assert (
        "Mon 30 Nov 09:00-09:30 Elena Esteban EE H-1005 Annual MRI review MRI" in week
    )
    assert "AA H-1001" not in week


def test_the_calendar_section_links_to_the_surgeons_feed_links(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    html = client_of(surgeon_a).get(PAGE).content.decode()

    calendar = section(html, "calendar")
    assert 'href="/calendar-links/"' in calendar
    assert "Create your calendar link" in calendar


# --- completing a visit -------------------------------------------------------


def test_completing_a_checked_in_visit_saves_and_returns_to_the_row(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    client = client_of(surgeon_a)

    response = client.post(
        f"/surgeon/visits/{world.checked_in.pk}/complete/",
        {"days": "7", "week": "2026-11-23"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/surgeon/?days=7#visit-{world.checked_in.pk}"
    world.checked_in.refresh_from_db()
    assert world.checked_in.status == VisitStatus.COMPLETED
    page = client.get(response["Location"]).content.decode()
    assert "Saved: AA H-1001&#x27;s visit is completed." in page


def test_completing_a_visit_someone_completed_meanwhile_says_who(
    world: SurgeonWorld, surgeon_a: Surgeon, front_desk: User
) -> None:
    seen = world.checked_in.sequence
    services.complete_visit(visit_id=world.checked_in.pk, actor=front_desk, now=NOW)

    response = client_of(surgeon_a).post(
        f"/surgeon/visits/{world.checked_in.pk}/complete/", {"sequence": seen}
    )

    assert response.status_code == 409
    assert "desk completed it" in response.content.decode()
    world.checked_in.refresh_from_db()
    assert world.checked_in.sequence == seen + 1


def test_completing_a_visit_not_checked_in_is_refused_beside_the_row(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    before = snapshot(world.friday)

    response = client_of(surgeon_a).post(f"/surgeon/visits/{world.friday.pk}/complete/")

    assert response.status_code == 409
    html = response.content.decode()
    row = html[html.index(f'id="visit-{world.friday.pk}"') :]
    row = row[: row.index("</li>")]
    assert 'class="row-error"' in row
    assert snapshot(world.friday) == before


def test_a_surgeon_cannot_complete_another_surgeons_patients_visit(
    world: SurgeonWorld, surgeon_b: Surgeon
) -> None:
    before = snapshot(world.checked_in)

    response = client_of(surgeon_b).post(
        f"/surgeon/visits/{world.checked_in.pk}/complete/"
    )

    assert response.status_code == 404
    assert snapshot(world.checked_in) == before


# --- ending an annual-review programme ----------------------------------------


def test_ending_a_programme_cancels_the_reviews_after_the_date(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    client = client_of(surgeon_a)

    response = client.post(
        f"/surgeon/procedures/{world.mri_procedure.pk}/end-annual-reviews/",
        {"date": "2026-11-25", "reason": "Disc fully healed on the last MRI."},
    )

    assert response.status_code == 302
    world.mri_procedure.refresh_from_db()
    assert world.mri_procedure.annual_reviews_ended_on == TODAY
    assert world.mri_procedure.annual_reviews_end_reason == (
        "Disc fully healed on the last MRI."
    )
    world.annual.refresh_from_db()
    assert world.annual.status == VisitStatus.CANCELLED
    page = client.get(response["Location"]).content.decode()
    assert "Saved: CC H-1003&#x27;s annual reviews end on Wed 25 Nov 2026" in page


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"date": "2026-02-30", "reason": "Healed"}, "is not a real date"),
        ({"date": "", "reason": "Healed"}, "is not a real date"),
        ({"date": "2025-01-01", "reason": "Healed"}, "before the surgery"),
        ({"date": "2026-11-25", "reason": "   "}, "Reason is required."),
        ({"date": "2026-11-25", "reason": "x" * 501}, "longer than 500"),
    ],
)
def test_a_refused_end_keeps_the_input_and_says_why_beside_the_row(
    world: SurgeonWorld, surgeon_a: Surgeon, given: dict[str, str], message: str
) -> None:
    response = client_of(surgeon_a).post(
        f"/surgeon/procedures/{world.mri_procedure.pk}/end-annual-reviews/", given
    )

    assert response.status_code == 400
    html = response.content.decode()
    row = html[html.index(f'id="visit-{world.annual.pk}"') :]
    row = row[: row.index("</li>")]
    assert '<details class="end-programme" open>' in row
    assert message in row
    assert f'value="{given["date"]}"' in row
    if given["reason"].strip():
        assert f'value="{given["reason"]}"' in row
    world.mri_procedure.refresh_from_db()
    assert world.mri_procedure.annual_reviews_ended_on is None


def test_ending_a_programme_someone_ended_since_the_page_was_shown_is_refused(
    world: SurgeonWorld, surgeon_a: Surgeon, clinic_admin: User
) -> None:
    services.end_annual_reviews(
        procedure_id=world.mri_procedure.pk,
        end_date=dt.date(2027, 6, 1),
        reason="Moving abroad next summer.",
        today=TODAY,
        actor=clinic_admin,
    )

    response = client_of(surgeon_a).post(
        f"/surgeon/procedures/{world.mri_procedure.pk}/end-annual-reviews/",
        {"date": "2026-11-25", "reason": "Disc fully healed on the last MRI."},
    )

    assert response.status_code == 409
    assert (
        "This programme already ends on Tue 1 Jun 2027: someone ended it after "
        "your page was shown. Nothing was changed."
    ) in response.content.decode()
    world.mri_procedure.refresh_from_db()
    assert world.mri_procedure.annual_reviews_ended_on == dt.date(2027, 6, 1)
    assert world.mri_procedure.annual_reviews_end_reason == (
        "Moving abroad next summer."
    )
    world.annual.refresh_from_db()
    assert world.annual.status != VisitStatus.CANCELLED


def test_a_covering_surgeon_cannot_end_the_programme_of_a_patient_they_only_cover(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    client = client_of(surgeon_a)
    page = client.get(PAGE).content.decode()
    covered_row = page[page.index(f'id="visit-{world.covered.pk}"') :]
    assert (
        "End the annual-review programme"
        not in covered_row[: covered_row.index("</li>")]
    )

    response = client.post(
        f"/surgeon/procedures/{world.covered_procedure.pk}/end-annual-reviews/",
        {"date": "2026-11-25", "reason": "Healed"},
    )

    assert response.status_code == 403
    assert (
        "Only the patient&#x27;s surgeon or a clinic admin can end the programme."
        in response.content.decode()
    )
    world.covered_procedure.refresh_from_db()
    assert world.covered_procedure.annual_reviews_ended_on is None


def test_another_surgeons_programme_is_not_found(
    world: SurgeonWorld, surgeon_b: Surgeon
) -> None:
    response = client_of(surgeon_b).post(
        f"/surgeon/procedures/{world.mri_procedure.pk}/end-annual-reviews/",
        {"date": "2026-11-25", "reason": "Healed"},
    )

    assert response.status_code == 404


def test_the_actions_are_for_surgeons_only(
    world: SurgeonWorld, front_desk: User
) -> None:
    client = Client()
    client.force_login(front_desk)

    response = client.post(f"/surgeon/visits/{world.checked_in.pk}/complete/")

    assert response.status_code == 403
    assert (
        Client()
        .post(f"/surgeon/visits/{world.checked_in.pk}/complete/")["Location"]
        .startswith("/login/?next=")
    )


# --- no input gives a 500 -----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("days=abc", "is not a number of days"),
        ("days=0", "is not a number of days"),
        ("days=367", "is not a number of days"),
        ("days=-5", "is not a number of days"),
        ("days=99999999999999999999999", "is not a number of days"),
        ("days=%C2%B2", "is not a number of days"),
        ("week=2026-13-45", "is not a date"),
        ("week=yesterday", "is not a date"),
        ("week=0001-01-01", "more than five years away"),
        ("week=9999-12-31", "more than five years away"),
        ("days=30&days=x&week=", ""),
    ],
)
def test_a_query_that_cannot_be_read_shows_the_default_and_says_so(
    world: SurgeonWorld, surgeon_a: Surgeon, query: str, notice: str
) -> None:
    response = client_of(surgeon_a).get(f"{PAGE}?{query}")

    assert response.status_code == 200
    html = response.content.decode()
    assert notice in html
    assert "Your week: 23 Nov - 29 Nov 2026" in text(html)


@pytest.mark.parametrize(
    "path",
    [
        "/surgeon/visits/999999/complete/",
        "/surgeon/visits/99999999999999999999/complete/",
        "/surgeon/procedures/999999/end-annual-reviews/",
        "/surgeon/procedures/99999999999999999999/end-annual-reviews/",
    ],
)
def test_unknown_ids_are_not_found(
    world: SurgeonWorld, surgeon_a: Surgeon, path: str
) -> None:
    response = client_of(surgeon_a).post(path, {"date": "2026-11-25", "reason": "x"})

    assert response.status_code == 404


def test_bad_period_fields_in_an_action_are_ignored(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    response = client_of(surgeon_a).post(
        f"/surgeon/visits/{world.checked_in.pk}/complete/",
        {"days": "lots", "week": "0000-00-00"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/surgeon/#visit-{world.checked_in.pk}"


def test_a_get_of_the_pages_actions_shows_the_page_and_changes_nothing(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    client = client_of(surgeon_a)

    response = client.get(f"/surgeon/visits/{world.checked_in.pk}/complete/")

    assert response.status_code == 302 and response["Location"] == "/surgeon/"
    world.checked_in.refresh_from_db()
    assert world.checked_in.status == "checked_in"


# --- query counts ---------------------------------------------------------------


def many_visits(surgeon: Surgeon, count: int) -> None:
    """`count` visits of one stem-cell patient of `surgeon`: a third upcoming
    to book, a third overdue (and unreachable after three unanswered calls),
    a third booked this week (bulk-created: the page's queries, not the plan,
    are under test)."""
    procedure = make_procedure(
        patient=PatientFactory.create(),
        surgeon=surgeon,
        surgery_date=dt.date(2026, 11, 20),
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        today=TODAY,
    )
    rule = FollowUpRule.objects.get(code="annual_mri_review")
    visits = []
    for n in range(count):
        fields: dict[str, object] = {}
        if n % 3 == 0:
            window = (TODAY, TODAY + dt.timedelta(days=20))
        elif n % 3 == 1:
            window = (TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=10))
        else:
            window = (TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=10))
            start = madrid(11, 23, 0) + dt.timedelta(minutes=30 * n)
            fields = {
                "status": VisitStatus.BOOKED,
                "start": start,
                "end": start + dt.timedelta(minutes=30),
                "surgeon": surgeon,
            }
        visits.append(
            Visit(
                procedure=procedure,
                patient=procedure.patient,
                rule=rule,
                occurrence=1000 + n,
                window_start=window[0],
                due_date=window[0],
                window_end=window[1],
                duration_minutes=30,
                requires_mri=True,
                **fields,
            )
        )
    created = Visit.objects.bulk_create(visits)
    ContactAttempt.objects.bulk_create(
        ContactAttempt(
            visit=visit,
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.NO_ANSWER,
            at=NOW - dt.timedelta(days=3 - n),
        )
        for visit in created
        if visit.window_end < TODAY
        for n in range(3)
    )


def test_each_list_shows_its_first_ten_and_up_to_fifty_when_asked(
    surgeon_a: Surgeon,
) -> None:
    many_visits(surgeon_a, 180)  # 60 upcoming to book, 60 overdue, 60 booked
    client = client_of(surgeon_a)

    first = client.get(PAGE).content.decode()
    upcoming = section(first, "upcoming")
    overdue = section(first, "overdue")

    assert upcoming.count('<li class="review') == 10
    assert overdue.count('<li class="review') == 10
    assert 'href="/surgeon/?show=upcoming#upcoming"' in upcoming
    assert 'href="/surgeon/?show=overdue#overdue"' in overdue

    shown = client.get("/surgeon/?show=upcoming").content.decode()

    assert section(shown, "upcoming").count('<li class="review') == 50
    assert "Only the first 50 are listed" in section(shown, "upcoming")
    assert section(shown, "overdue").count('<li class="review') == 10
    # The next link keeps the list already open.
    assert 'href="/surgeon/?show=upcoming&amp;show=overdue#overdue"' in shown


def test_an_action_from_a_list_shown_whole_returns_to_it(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    response = client_of(surgeon_a).post(
        f"/surgeon/visits/{world.checked_in.pk}/complete/",
        {"days": "30", "week": "2026-11-23", "show": ["upcoming", "nonsense"]},
    )

    assert response.status_code == 302
    assert response["Location"] == (
        f"/surgeon/?show=upcoming#visit-{world.checked_in.pk}"
    )


def queries_for_page(surgeon: Surgeon) -> int:
    client = client_of(surgeon)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)
    assert response.status_code == 200
    return len(queries)


def test_the_page_runs_the_same_queries_for_5_and_500_visits(
    surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    many_visits(surgeon_a, 5)
    many_visits(surgeon_b, 500)

    small = queries_for_page(surgeon_a)
    large = queries_for_page(surgeon_b)

    assert small == large
    # Two more than before the "Lost to follow-up" list: it, and its attempts;
    # one for "Waiting to be completed".
    assert large <= 11


# --- ending a programme from its overdue review (issue 19, D10) --------------
# Surgeon A also operated Olga Ortiz (H-1009), a stem-cell implant on 1 October
# 2025, whose first annual review (window closed on 31 October) is overdue.


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


def _row_of(html: str, pk: int) -> str:
    html = re.sub(r"\s+", " ", html)
    row = html[html.index(f'id="visit-{pk}"') :]
    return row[: row.index("</li>")]


def test_the_form_on_the_overdue_review_asks_with_yes_ticked(
    surgeon_a: Surgeon, world: SurgeonWorld, review: Visit
) -> None:
    html = client_of(surgeon_a).get("/surgeon/").content.decode()

    overdue_row = _row_of(html, review.pk)
    upcoming_row = _row_of(html, world.annual.pk)
    assert re.search(r'name="end_overdue" value="yes" checked', overdue_row)
    assert "Also end the overdue review" in overdue_row
    assert 'name="end_overdue" value="yes" checked' not in upcoming_row


@pytest.mark.parametrize("ticked", [True, False])
def test_the_overdue_review_ends_with_the_programme_only_when_ticked(
    surgeon_a: Surgeon, review: Visit, ticked: bool
) -> None:
    client = client_of(surgeon_a)
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


def test_a_booked_review_the_patient_confirmed_says_so(
    world: SurgeonWorld, surgeon_a: Surgeon
) -> None:
    assert world.friday.start is not None
    services.confirm_visit(
        visit_id=world.friday.pk,
        start=world.friday.start,
        actor=PATIENT_SMS,
        now=NOW,
    )

    html = client_of(surgeon_a).get(PAGE).content.decode()

    upcoming = section(html, "upcoming")
    assert upcoming.count("badge--confirmed") == 1
    row = upcoming[: upcoming.index("badge--confirmed")]
    assert "Diaz" in row[row.rindex("<li") :]
