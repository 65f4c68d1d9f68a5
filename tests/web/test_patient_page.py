"""`/desk/patients/<id>/`: the plan, the history, the calendar link, the scope.

"Now" is Wednesday 25 November 2026, 08:00 in Madrid (tests.followup.world):
the page reads the clock through `clinic.clock.now`, pinned here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking_links.models import BookingLink, BookingLinkUse, LinkUse
from clinic.models import Patient, ProcedureKind, Surgeon
from feeds.models import CalendarLink
from followup import services
from followup.models import ContactAttempt, FollowUpRule, MriStudy, Visit, VisitEvent
from tests.factories import TODAY, PatientFactory, make_procedure
from tests.followup.world import FRIDAY_9, NOW, book, madrid, postop

pytestmark = pytest.mark.django_db

TOKEN_URL = re.compile(r"http://testserver/calendar/([A-Za-z0-9_-]{43})\.ics")


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)


def page(client: Client, patient: Patient) -> Any:
    return client.get(f"/desk/patients/{patient.pk}/")


def read(response: Any) -> str:
    """The page's text, its en dashes (in ranges) written as hyphens."""
    return str(response.content.decode()).replace("\N{EN DASH}", "-")


@pytest.fixture
def booked_and_moved(front_desk: User, surgeon_a: Surgeon) -> Visit:
    """A post-op control booked Friday 09:00, then moved to 10:00 by the desk."""
    visit = postop(surgeon=surgeon_a)
    book(visit, actor=front_desk, surgeon=surgeon_a)
    return services.reschedule_visit(
        visit_id=visit.pk,
        start=madrid(2026, 11, 27, 10),
        surgeon_id=surgeon_a.pk,
        actor=front_desk,
        now=NOW,
    )


def test_the_desk_sees_the_plan_with_windows_bookings_and_milestones(
    client: Client, front_desk: User, booked_and_moved: Visit
) -> None:
    client.force_login(front_desk)

    response = page(client, booked_and_moved.patient)

    assert response.status_code == 200
    text = read(response)
    assert "Endoscopic spine surgery" in text
    assert "Operated on Fri 20 Nov 2026 by Dr. Ana Alvarez." in text
    # The post-op control, booked, with its window and slot in the clinic format.
    assert "Post-operative control" in text
    assert "27 Nov 2026 - 5 Dec 2026" in text
    assert "Fri 27 Nov 2026, 10:00-10:20 with Dr. Ana Alvarez" in text
    assert "One-month control" in text
    # The recovery milestones, from the protocol's rows.
    assert "Daily activity recovered" in text
    assert "Fri 1 Jan 2027" in text  # week 6: sports
    entries = response.context["plans"][0].entries
    assert [entry.date for entry in entries] == sorted(entry.date for entry in entries)
    assert any(entry.is_today for entry in entries)


def test_history_rows_show_who_when_from_to_and_the_slot_before_and_after(
    client: Client, front_desk: User, booked_and_moved: Visit
) -> None:
    client.force_login(front_desk)

    text = read(page(client, booked_and_moved.patient))

    history = text[text.index(f'id="visit-{booked_and_moved.pk}"') :]
    history = history[: history.index("</details>")]
    rows = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", history, re.S)[1:]
    ]
    # Generation stamps its event with the real clock, not the pinned one.
    assert re.fullmatch(
        r"\d+ \w+ \d{4}, \d\d:\d\d System Planned new → to To book no slot", rows[0]
    )
    assert rows[1:] == [
        "25 Nov 2026, 08:00 desk Booked To book → to Booked "
        "no slot → to 27 Nov 2026, 09:00-09:20",
        "25 Nov 2026, 08:00 desk Rescheduled Booked → to Booked "
        "27 Nov 2026, 09:00-09:20 → to 27 Nov 2026, 10:00-10:20",
    ]


def test_a_cancellation_reason_appears_in_the_history(
    client: Client, front_desk: User, surgeon_a: Surgeon
) -> None:
    visit = postop(surgeon=surgeon_a)
    services.cancel_visit(
        visit_id=visit.pk, reason="Seen at another clinic", actor=front_desk, now=NOW
    )
    client.force_login(front_desk)

    text = page(client, visit.patient).content.decode()

    assert "Cancelled because" in text
    assert "<td>Seen at another clinic</td>" in text


def test_a_surgeon_opens_their_own_patient_read_only(
    client: Client, surgeon_a: Surgeon, booked_and_moved: Visit
) -> None:
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    response = page(client, booked_and_moved.patient)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Post-operative control" in text
    assert "Register a procedure" not in text
    assert "Patient&#x27;s calendar" not in text
    assert 'id="calendar-link"' not in text


def test_a_surgeon_cannot_open_another_surgeons_patient(
    client: Client, surgeon_b: Surgeon, booked_and_moved: Visit
) -> None:
    client.force_login(surgeon_b.user)  # type: ignore[arg-type]

    response = page(client, booked_and_moved.patient)

    assert response.status_code == 404
    assert booked_and_moved.patient.family_name not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("front_desk", 200),
        ("surgeon_a", 200),
        ("surgeon_b", 404),
        ("clinic_admin", 200),
    ],
)
def test_every_role_gets_the_answer_its_scope_gives(
    client: Client,
    front_desk: User,
    surgeon_a: Surgeon,
    surgeon_b: Surgeon,
    clinic_admin: User,
    role: str,
    expected: int,
) -> None:
    patient = make_procedure(today=TODAY, surgeon=surgeon_a).patient
    users = {
        "front_desk": front_desk,
        "surgeon_a": surgeon_a.user,
        "surgeon_b": surgeon_b.user,
        "clinic_admin": clinic_admin,
    }
    if role in users:
        client.force_login(users[role])  # type: ignore[arg-type]

    response = page(client, patient)

    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"] == f"/login/?next=/desk/patients/{patient.pk}/"


def test_an_unknown_patient_is_a_404(client: Client, front_desk: User) -> None:
    client.force_login(front_desk)

    assert client.get("/desk/patients/999999/").status_code == 404
    assert client.get("/desk/patients/99999999999999999999/").status_code == 404


def test_a_surgeon_may_not_hand_out_a_calendar_link(
    client: Client, surgeon_a: Surgeon, booked_and_moved: Visit
) -> None:
    client.force_login(surgeon_a.user)  # type: ignore[arg-type]

    response = client.post(
        f"/desk/patients/{booked_and_moved.patient_id}/calendar-link/"
    )

    assert response.status_code == 403
    assert not CalendarLink.objects.exists()


# --- the calendar link ----------------------------------------------------------


def create_link(client: Client, patient: Patient) -> Any:
    return client.post(f"/desk/patients/{patient.pk}/calendar-link/")


def shown_token(response: Any) -> str:
    found = TOKEN_URL.findall(response.content.decode())
    assert len(set(found)) == 1, found
    return str(found[0])


def test_creating_a_link_shows_its_url_once_with_a_qr_code(
    client: Client, front_desk: User
) -> None:
    patient = make_procedure(today=TODAY).patient
    client.force_login(front_desk)

    response = create_link(client, patient)

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    token = shown_token(response)
    text = response.content.decode()
    svg = re.search(r"<svg [^>]*>.*?</svg>", text, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert 'aria-label="QR code of the link, to scan with a phone"' in svg.group(0)
    assert "style=" not in svg.group(0) and "<script" not in svg.group(0)
    link = CalendarLink.objects.get()
    assert (link.scope, link.patient_id, link.created_by) == (
        "patient",
        patient.pk,
        front_desk,
    )
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    # Shown once: the page opened again has no URL, and offers no second link.
    again = page(client, patient).content.decode()
    assert token not in again
    assert TOKEN_URL.search(again) is None
    assert "Rotate (new URL)" in again
    assert create_link(client, patient).status_code == 409
    assert CalendarLink.objects.count() == 1


def test_rotating_gives_a_new_url_and_the_old_one_stops(
    client: Client, front_desk: User
) -> None:
    patient = make_procedure(today=TODAY).patient
    client.force_login(front_desk)
    first = shown_token(create_link(client, patient))
    link = CalendarLink.objects.get()

    response = client.post(
        f"/desk/patients/{patient.pk}/calendar-link/{link.pk}/rotate/"
    )

    second = shown_token(response)
    assert second != first
    assert "<svg" in response.content.decode()
    assert "the old URL no longer works" in response.content.decode()
    assert client.get(f"/calendar/{first}.ics").status_code == 404
    assert client.get(f"/calendar/{second}.ics").status_code == 200


def test_a_rotate_from_a_stale_patient_page_keeps_the_url_just_handed_out(
    client: Client, front_desk: User
) -> None:
    patient = make_procedure(today=TODAY).patient
    client.force_login(front_desk)
    create_link(client, patient)
    link = CalendarLink.objects.get()
    rotate = f"/desk/patients/{patient.pk}/calendar-link/{link.pk}/rotate/"
    old_page = page(client, patient).content.decode()
    (seen,) = re.findall(r'name="shown" value="([0-9a-f]{16})"', old_page)
    handed_out = shown_token(client.post(rotate, {"shown": seen}))

    stale = client.post(rotate, {"shown": seen})

    assert stale.status_code == 409
    text = stale.content.decode()
    assert (
        "This link was rotated on Wed 25 Nov 2026, 08:00, after your page was "
        "shown. Nothing was changed"
    ) in text
    assert TOKEN_URL.search(text) is None
    assert client.get(f"/calendar/{handed_out}.ics").status_code == 200


def test_revoking_ends_the_link(client: Client, front_desk: User) -> None:
    patient = make_procedure(today=TODAY).patient
    client.force_login(front_desk)
    token = shown_token(create_link(client, patient))
    link = CalendarLink.objects.get()

    response = client.post(
        f"/desk/patients/{patient.pk}/calendar-link/{link.pk}/revoke/"
    )

    assert response.status_code == 302
    assert response["Location"] == f"/desk/patients/{patient.pk}/#calendar-link"
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    text = client.get(response["Location"]).content.decode()
    assert "Link revoked" in text
    assert "Create a calendar link" in text


def test_a_second_click_on_revoke_shows_the_patient_page_saying_so(
    client: Client, front_desk: User
) -> None:
    patient = make_procedure(today=TODAY).patient
    other = make_procedure(today=TODAY).patient
    client.force_login(front_desk)
    create_link(client, patient)
    link = CalendarLink.objects.get()
    revoke = f"/desk/patients/{patient.pk}/calendar-link/{link.pk}/revoke/"
    client.post(revoke, follow=True)

    again = client.post(revoke, follow=True)

    assert again.redirect_chain == [
        (f"/desk/patients/{patient.pk}/#calendar-link", 302)
    ]
    text = again.content.decode()
    assert (
        "This link was already revoked, on Wed 25 Nov 2026, 08:00: its URL no "
        "longer works. Nothing was changed."
    ) in text
    assert "Create a calendar link" in text
    link.refresh_from_db()
    assert (link.revoked_at, link.revoked_by) == (NOW, front_desk)
    # From another patient's page, it is not theirs to speak of.
    elsewhere = f"/desk/patients/{other.pk}/calendar-link/{link.pk}/revoke/"
    assert client.post(elsewhere).status_code == 404


def test_a_rotate_from_a_patient_page_shown_before_a_revoke_is_refused(
    client: Client, front_desk: User
) -> None:
    patient = make_procedure(today=TODAY).patient
    other = make_procedure(today=TODAY).patient
    client.force_login(front_desk)
    token = shown_token(create_link(client, patient))
    link = CalendarLink.objects.get()
    old_page = page(client, patient).content.decode()
    (seen,) = re.findall(r'name="shown" value="([0-9a-f]{16})"', old_page)
    client.post(f"/desk/patients/{patient.pk}/calendar-link/{link.pk}/revoke/")
    rotate = f"/desk/patients/{patient.pk}/calendar-link/{link.pk}/rotate/"

    stale = client.post(rotate, {"shown": seen})

    assert stale.status_code == 409
    text = stale.content.decode()
    assert (
        "This link was revoked on Wed 25 Nov 2026, 08:00, after your page was "
        "shown: its URL no longer works and it cannot be rotated. Nothing was "
        "changed; create a new link if one is needed."
    ) in text
    assert TOKEN_URL.search(text) is None
    assert "Create a calendar link" in text
    revoked = CalendarLink.objects.get()
    assert (revoked.revoked_at, revoked.revoked_by) == (NOW, front_desk)
    assert (revoked.token_hash, revoked.rotated_at) == (link.token_hash, None)
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    # From another patient's page, it is not theirs to speak of.
    elsewhere = f"/desk/patients/{other.pk}/calendar-link/{link.pk}/rotate/"
    assert client.post(elsewhere, {"shown": seen}).status_code == 404


def test_another_patients_link_cannot_be_rotated_from_this_page(
    client: Client, front_desk: User
) -> None:
    mine = make_procedure(today=TODAY).patient
    theirs = make_procedure(today=TODAY).patient
    client.force_login(front_desk)
    create_link(client, theirs)
    link = CalendarLink.objects.get()

    response = client.post(f"/desk/patients/{mine.pk}/calendar-link/{link.pk}/rotate/")

    assert response.status_code == 404
    assert CalendarLink.objects.get().token_hash == link.token_hash


# --- queries --------------------------------------------------------------------


def _patient_with_visits(count: int, surgeon: Surgeon, actor: User) -> Patient:
    """A stem-cell patient whose procedure holds `count` annual reviews, each
    with two events, two contact attempts and a booking link used twice, and
    as many MRI studies, written in bulk (the planner would stop at the
    horizon)."""
    procedure = make_procedure(
        surgery_date=dt.date(2026, 1, 5),
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgeon=surgeon,
        patient=PatientFactory.create(),
    )
    rule = FollowUpRule.objects.get(code="annual_mri_review")
    Visit.objects.filter(procedure=procedure).delete()
    visits = Visit.objects.bulk_create(
        Visit(
            procedure=procedure,
            patient=procedure.patient,
            rule=rule,
            occurrence=n,
            due_date=dt.date(2027, 1, 1) + dt.timedelta(days=n),
            window_start=dt.date(2027, 1, 1) + dt.timedelta(days=n),
            window_end=dt.date(2027, 1, 1) + dt.timedelta(days=n),
            duration_minutes=30,
            requires_mri=True,
        )
        for n in range(1, count + 1)
    )
    VisitEvent.objects.bulk_create(
        VisitEvent(visit=visit, actor=actor, action=action, to_status="to_book")
        for visit in visits
        for action in ("generated", "moved")
    )
    ContactAttempt.objects.bulk_create(
        ContactAttempt(
            visit=visit, channel="phone", outcome=outcome, note="n", actor=actor, at=NOW
        )
        for visit in visits
        for outcome in ("no_answer", "left_message")
    )
    links = BookingLink.objects.bulk_create(
        BookingLink(
            visit=visit, token_hash=f"{visit.pk:064d}", created_at=NOW, created_by=actor
        )
        for visit in visits
    )
    BookingLinkUse.objects.bulk_create(
        BookingLinkUse(link=link, at=NOW, what=what)
        for link in links
        for what in (LinkUse.VIEWED, LinkUse.BOOKED)
    )
    MriStudy.objects.bulk_create(
        MriStudy(
            patient=procedure.patient,
            performed_on=dt.date(2026, 1, 1) + dt.timedelta(days=n % 300),
            reference=f"ACC-{n}",
            recorded_by=actor,
        )
        for n in range(count)
    )
    return procedure.patient


@pytest.mark.parametrize("role", ["front_desk", "surgeon_a"])
def test_the_page_runs_the_same_queries_for_5_and_500_visits(
    client: Client, front_desk: User, surgeon_a: Surgeon, role: str
) -> None:
    small = _patient_with_visits(5, surgeon_a, front_desk)
    large = _patient_with_visits(500, surgeon_a, front_desk)
    user = front_desk if role == "front_desk" else surgeon_a.user
    client.force_login(user)  # type: ignore[arg-type]
    page(client, small)  # the session's first read

    counts = []
    for patient in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = page(client, patient)
        assert response.status_code == 200
        counts.append(len(queries))

    assert len(response.context["plans"][0].entries) >= 500
    if role == "front_desk":
        assert len(response.context["booking_links"]) == 500
    assert counts[0] == counts[1], counts
    print(f"patient page queries ({role}): 5 visits {counts[0]}, 500 {counts[1]}")


def test_the_booked_slot_shows_on_the_clinic_clock(
    client: Client, front_desk: User, surgeon_a: Surgeon
) -> None:
    visit = postop(surgeon=surgeon_a)
    book(visit, FRIDAY_9, actor=front_desk, surgeon=surgeon_a)
    client.force_login(front_desk)

    text = read(page(client, visit.patient))

    # 09:00 in Madrid is 08:00 UTC: the page shows the clinic's wall clock.
    assert "Fri 27 Nov 2026, 09:00-09:20" in text
