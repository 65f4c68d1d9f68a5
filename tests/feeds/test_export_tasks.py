"""The export tasks, called directly, against a real Radicale.

The booking services change visits as the front desk would; inside a test's
transaction the export task is never enqueued (nothing commits), so each
test calls `export_visits` itself, like a worker would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.admin.sites import site as admin_site
from django.contrib.auth.models import Group, Permission, User
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from clinic.models import Surgeon
from feeds import export
from feeds.caldav import client as caldav_client
from feeds.caldav.push import stale_exports
from feeds.export import schedule_export
from feeds.models import CalendarEntry, ExportState, SurgeonCalendar
from feeds.rendering import visit_uid
from feeds.tasks import export_visits
from followup.models import Visit
from tests.factories import SurgeonFactory, make_procedure
from tests.feeds.conftest import (
    MADRID,
    NOW,
    SURGERY_DATE,
    Radicale,
    at,
    book,
    cancel,
    free_port,
    postop_visit,
    reschedule,
)
from tests.feeds.helpers import entry_of

pytestmark = [pytest.mark.django_db, pytest.mark.caldav]
MakeCalendar = Callable[..., SurgeonCalendar]


def local_start(event: object) -> dt.datetime:
    return event["DTSTART"].dt.astimezone(MADRID)  # type: ignore[index]


@pytest.fixture
def surgeon() -> Surgeon:
    return SurgeonFactory.create(given_name="Ana", family_name="Alvarez")


@pytest.fixture
def calendar(surgeon: Surgeon, make_surgeon_calendar: MakeCalendar) -> SurgeonCalendar:
    return make_surgeon_calendar(surgeon)


# --- scheduling --------------------------------------------------------------


def test_schedule_export_marks_every_entry_pending_in_one_statement(
    surgeon: Surgeon,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    visits = [
        v.pk
        for _ in range(3)
        for v in make_procedure(surgery_date=SURGERY_DATE, surgeon=surgeon).visits.all()
    ]
    CalendarEntry.objects.filter(pk__in=visits).update(
        export_state=ExportState.FAILED, export_attempts=7, export_error="boom"
    )
    monkeypatch.setattr(export, "EXPORT_CHUNK_SIZE", 4)

    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        schedule_export(visits, now=NOW)

    assert len(queries) == 1
    # Six visits in chunks of four: two tasks, none per visit.
    assert len(callbacks) == 2
    entries = CalendarEntry.objects.filter(pk__in=visits)
    assert entries.count() == 6
    assert {
        (e.export_state, e.pending_since, e.export_attempts, e.export_error)
        for e in entries
    } == {(ExportState.PENDING, NOW, 0, "")}


def test_a_rolled_back_change_schedules_nothing(surgeon: Surgeon) -> None:
    visit = postop_visit(surgeon)
    CalendarEntry.objects.filter(pk=visit.pk).update(
        export_state=ExportState.EXPORTED, pending_since=None
    )

    with pytest.raises(RuntimeError), transaction.atomic():
        schedule_export([visit.pk], now=NOW)
        raise RuntimeError("the booking failed")

    assert entry_of(visit).export_state == ExportState.EXPORTED


# --- create, update, cancel --------------------------------------------------


def test_a_booking_reaches_the_surgeons_calendar(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    visit = book(postop_visit(surgeon), at(9, 9))

    assert export_visits([visit.pk]) == {"exported": 1}

    events = radicale.events_by_uid(calendar.url)
    assert list(events) == [visit_uid(visit)]
    (event,) = events[visit_uid(visit)]
    assert local_start(event) == at(9, 9)
    assert event["SEQUENCE"] == visit.sequence
    entry = entry_of(visit)
    assert entry.export_state == ExportState.EXPORTED
    assert (entry.exported_sequence, entry.export_attempts) == (visit.sequence, 1)
    assert entry.pending_since is None
    assert entry.export_error == ""
    assert entry.body  # rendered once, for the feeds too


def test_a_reschedule_updates_the_same_event_with_a_higher_sequence(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    visit = book(postop_visit(surgeon), at(9, 9))
    export_visits([visit.pk])

    visit = reschedule(visit, at(10, 11, 30))
    assert export_visits([visit.pk]) == {"exported": 1}

    events = radicale.events_by_uid(calendar.url)
    (event,) = events[visit_uid(visit)]
    assert len(events) == 1
    assert local_start(event) == at(10, 11, 30)
    assert event["SEQUENCE"] == visit.sequence == 2  # booked 1, rescheduled 2
    assert entry_of(visit).exported_sequence == 2


def test_a_cancel_deletes_the_event_and_a_second_delete_is_a_success(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    visit = book(postop_visit(surgeon), at(9, 9))
    export_visits([visit.pk])

    visit = cancel(visit)
    assert export_visits([visit.pk]) == {"exported": 1}
    assert radicale.events(calendar.url) == []

    # Sent again (the admin's re-send): the server answers 404, still done.
    schedule_export([visit.pk], now=NOW)
    assert export_visits([visit.pk]) == {"exported": 1}
    entry = entry_of(visit)
    assert entry.export_state == ExportState.EXPORTED
    assert entry.exported_sequence == visit.sequence


def test_an_unbooked_visit_leaves_the_calendar_and_comes_back_when_rebooked(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    from followup import services

    visit = book(postop_visit(surgeon), at(9, 9))
    export_visits([visit.pk])
    visit = services.unbook_visit(visit_id=visit.pk, actor=None, now=NOW)
    export_visits([visit.pk])
    assert radicale.events(calendar.url) == []

    visit = book(visit, at(14, 10))
    export_visits([visit.pk])

    (event,) = radicale.events_by_uid(calendar.url)[visit_uid(visit)]
    assert local_start(event) == at(14, 10)


def test_a_visit_moved_to_another_surgeon_leaves_the_first_calendar(
    surgeon: Surgeon,
    calendar: SurgeonCalendar,
    make_surgeon_calendar: MakeCalendar,
    radicale: Radicale,
) -> None:
    other = SurgeonFactory.create(given_name="Bruno", family_name="Blanco")
    other_calendar = make_surgeon_calendar(other)
    visit = book(postop_visit(surgeon), at(9, 9))
    export_visits([visit.pk])

    visit = reschedule(visit, at(9, 10), surgeon=other)
    export_visits([visit.pk])

    assert radicale.events(calendar.url) == []
    assert list(radicale.events_by_uid(other_calendar.url)) == [visit_uid(visit)]


def test_a_visit_moved_to_a_surgeon_without_a_calendar_leaves_the_first_one(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    other = SurgeonFactory.create(given_name="Bruno", family_name="Blanco")
    visit = book(postop_visit(surgeon), at(9, 9))
    export_visits([visit.pk])

    visit = reschedule(visit, at(9, 10), surgeon=other)

    assert export_visits([visit.pk]) == {"exported": 1}
    assert radicale.events(calendar.url) == []


def test_visits_of_a_surgeon_without_a_calendar_are_not_pushed(
    surgeon: Surgeon, radicale: Radicale
) -> None:
    visit = book(postop_visit(surgeon), at(9, 9))
    disabled = SurgeonCalendar.objects.create(
        surgeon=surgeon, url=radicale.new_calendar(), enabled=False
    )

    assert export_visits([visit.pk]) == {"nothing_to_push": 1}

    entry = entry_of(visit)
    assert entry.export_state == ExportState.NOTHING_TO_PUSH
    assert entry.pending_since is None
    assert entry.body  # the feeds still get the rendered entry
    assert radicale.events(disabled.url) == []


def test_generated_visits_are_settled_in_bulk_without_a_request(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    without_calendar = SurgeonFactory.create(given_name="Carla", family_name="Cano")
    to_book = _visits(surgeon, 20)
    no_calendar = _visits(without_calendar, 20)
    schedule_export(to_book + no_calendar, now=NOW)  # as one CSV import would

    with CaptureQueriesContext(connection) as queries:
        report = export_visits(to_book + no_calendar)

    # Still to book, or no calendar: nothing to push, and none says exported.
    assert report == {"nothing_to_push": 40}
    # Rendering, calendars, one read and one update per pending change.
    assert len(queries) <= 8
    assert radicale.events(calendar.url) == []
    assert set(
        CalendarEntry.objects.filter(pk__in=to_book + no_calendar).values_list(
            "export_state", "pending_since", "exported_at"
        )
    ) == {(ExportState.NOTHING_TO_PUSH, None, None)}


# --- idempotence -------------------------------------------------------------


def test_a_task_delivered_twice_pushes_once(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    visit = book(postop_visit(surgeon), at(9, 9))

    assert export_visits([visit.pk]) == {"exported": 1}
    assert export_visits([visit.pk]) == {"already_done": 1}

    assert len(radicale.events(calendar.url)) == 1
    assert entry_of(visit).export_attempts == 1


def test_an_older_sequence_never_overwrites_a_newer_export(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    visit = book(postop_visit(surgeon), at(9, 9))
    visit = reschedule(visit, at(10, 9))
    export_visits([visit.pk])
    # Another worker has already exported a newer sequence than the row now
    # holds, while this stale state is pending.
    Visit.objects.filter(pk=visit.pk).update(start=at(11, 9), end=at(11, 9, 20))
    CalendarEntry.objects.filter(pk=visit.pk).update(
        export_state=ExportState.PENDING,
        pending_since=NOW,
        exported_sequence=visit.sequence + 1,
    )

    assert export_visits([visit.pk]) == {"superseded": 1}

    (event,) = radicale.events_by_uid(calendar.url)[visit_uid(visit)]
    assert local_start(event) == at(10, 9)


def test_a_first_export_overwrites_an_object_already_on_the_server(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    visit = book(postop_visit(surgeon), at(9, 9))
    export_visits([visit.pk])
    # The database says "never exported" (restored from a backup), so the
    # next attempt creates with If-None-Match: *, which the server refuses.
    visit = reschedule(visit, at(10, 9))
    CalendarEntry.objects.filter(pk=visit.pk).update(exported_sequence=-1)

    assert export_visits([visit.pk]) == {"exported": 1}

    events = radicale.events_by_uid(calendar.url)
    assert [local_start(e) for e in events[visit_uid(visit)]] == [at(10, 9)]


# --- failures, the attempt cap, reconciliation -------------------------------


def test_an_unreachable_server_fails_the_visit_then_reconciliation_exports_all(
    surgeon: Surgeon, calendar: SurgeonCalendar, radicale: Radicale
) -> None:
    working_url = calendar.url
    closed = f"http://clinic-user:url-secret@127.0.0.1:{free_port()}/cal/"
    SurgeonCalendar.objects.filter(pk=calendar.pk).update(
        url=closed, username="clinic-user", password="field-secret"
    )
    first = book(postop_visit(surgeon), at(9, 9))
    second = book(postop_visit(surgeon), at(9, 10))

    with pytest.raises(caldav_client.CalDAVUnavailable):
        export_visits([first.pk, second.pk])

    failed = entry_of(first)
    assert failed.export_state == ExportState.FAILED
    assert failed.export_attempts == 1
    assert "(connection refused)" in failed.export_error
    assert "url-secret" not in failed.export_error
    assert "field-secret" not in failed.export_error
    # The batch stopped at the first unreachable push; the rest waits.
    assert entry_of(second).export_state == ExportState.PENDING
    assert entry_of(second).export_attempts == 0

    SurgeonCalendar.objects.filter(pk=calendar.pk).update(url=working_url)
    # Booked with the real clock: reconcile ten minutes after it.
    later = timezone.now() + dt.timedelta(minutes=10)
    due = stale_exports(now=later)
    assert {first.pk, second.pk} <= set(due)
    export_visits(due)

    events = radicale.events_by_uid(working_url)
    assert sorted(events) == sorted([visit_uid(first), visit_uid(second)])
    assert all(len(copies) == 1 for copies in events.values())
    assert entry_of(first).export_attempts == 2
    assert entry_of(second).export_state == ExportState.EXPORTED
    assert not {first.pk, second.pk} & set(stale_exports(now=later))


def test_reconciliation_leaves_recent_and_done_entries_alone(surgeon: Surgeon) -> None:
    recent, old, failed, done = (
        v.pk for v in Visit.objects.filter(pk__in=_visits(surgeon, 4))
    )
    CalendarEntry.objects.filter(pk=recent).update(
        export_state=ExportState.PENDING, pending_since=NOW - dt.timedelta(minutes=1)
    )
    CalendarEntry.objects.filter(pk=old).update(
        export_state=ExportState.PENDING, pending_since=NOW - dt.timedelta(minutes=30)
    )
    CalendarEntry.objects.filter(pk=failed).update(
        export_state=ExportState.FAILED, pending_since=NOW, export_attempts=3
    )
    CalendarEntry.objects.filter(pk=done).update(
        export_state=ExportState.EXPORTED, pending_since=None
    )

    assert set(stale_exports(now=NOW)) == {old, failed}


def test_a_poison_visit_stops_at_the_attempt_cap(
    surgeon: Surgeon, calendar: SurgeonCalendar, settings: object, radicale: Radicale
) -> None:
    cap = settings.CALDAV_EXPORT_MAX_ATTEMPTS  # type: ignore[attr-defined]
    visit = book(postop_visit(surgeon), at(9, 9))
    # Its worker was killed `cap` times mid-export: claimed, never recorded.
    CalendarEntry.objects.filter(pk=visit.pk).update(export_attempts=cap)

    assert visit.pk not in stale_exports(now=timezone.now() + dt.timedelta(hours=1))
    entry = entry_of(visit)
    assert entry.export_state == ExportState.FAILED
    assert entry.export_error.startswith(f"Gave up after {cap} attempts")
    assert export_visits([visit.pk]) == {"gave_up": 1}
    assert radicale.events(calendar.url) == []
    assert entry_of(visit).export_attempts == cap


def test_a_refused_object_fails_alone_and_the_batch_goes_on(
    surgeon: Surgeon, make_surgeon_calendar: MakeCalendar, radicale: Radicale
) -> None:
    broken = SurgeonFactory.create(given_name="Carla", family_name="Cano")
    # A URL under no collection: Radicale answers 409 to the PUT.
    SurgeonCalendar.objects.create(surgeon=broken, url=f"{radicale.url}nobody/none/")
    working = make_surgeon_calendar(surgeon)
    refused = book(postop_visit(broken), at(9, 9))
    pushed = book(postop_visit(surgeon), at(9, 9))

    assert export_visits([refused.pk, pushed.pk]) == {"failed": 1, "exported": 1}

    assert entry_of(refused).export_state == ExportState.FAILED
    assert "409" in entry_of(refused).export_error
    assert list(radicale.events_by_uid(working.url)) == [visit_uid(pushed)]


def test_scrub_removes_userinfo_and_secrets() -> None:
    text = "PUT https://dr:pw123@cal.example/x failed; password pw123 rejected"

    assert caldav_client.scrub(text, "pw123") == (
        "PUT https://***@cal.example/x failed; password *** rejected"
    )


# --- admin -------------------------------------------------------------------


@pytest.fixture
def admin_client(clinic_admin: User) -> Client:
    clinic_admin.is_superuser = True
    clinic_admin.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(clinic_admin)
    return client


def test_the_admin_never_shows_a_stored_caldav_password(
    admin_client: Client, surgeon: Surgeon
) -> None:
    stored = SurgeonCalendar.objects.create(
        surgeon=surgeon,
        url="https://cal.example/ana/",
        username="ana",
        password="very-secret-pw",
    )

    listing = admin_client.get("/admin/feeds/surgeoncalendar/")
    change = admin_client.get(f"/admin/feeds/surgeoncalendar/{stored.pk}/change/")

    assert listing.status_code == change.status_code == 200
    assert b"very-secret-pw" not in listing.content
    assert b"very-secret-pw" not in change.content
    assert b'type="password"' in change.content


def test_saving_the_admin_form_without_a_password_keeps_the_stored_one(
    admin_client: Client, surgeon: Surgeon
) -> None:
    stored = SurgeonCalendar.objects.create(
        surgeon=surgeon, url="https://cal.example/ana/", username="ana", password="pw-1"
    )
    form = {
        "surgeon": surgeon.pk,
        "url": "https://cal.example/ana2/",
        "username": "ana",
        "password": "",
        "enabled": "on",
    }

    response = admin_client.post(
        f"/admin/feeds/surgeoncalendar/{stored.pk}/change/", form
    )

    assert response.status_code == 302
    stored.refresh_from_db()
    assert (stored.url, stored.password) == ("https://cal.example/ana2/", "pw-1")
    form["password"] = "pw-2"
    admin_client.post(f"/admin/feeds/surgeoncalendar/{stored.pk}/change/", form)
    stored.refresh_from_db()
    assert stored.password == "pw-2"


def test_the_admin_refuses_credentials_inside_the_url(
    admin_client: Client, surgeon: Surgeon
) -> None:
    response = admin_client.post(
        "/admin/feeds/surgeoncalendar/add/",
        {
            "surgeon": surgeon.pk,
            "url": "https://ana:pw@cal.example/ana/",
            "username": "",
            "password": "",
            "enabled": "on",
        },
    )

    assert response.status_code == 200
    assert b"user name and password in their own fields" in response.content
    assert not SurgeonCalendar.objects.exists()


def test_the_admin_lists_export_state_and_re_sends_failed_entries(
    admin_client: Client, surgeon: Surgeon
) -> None:
    visit = postop_visit(surgeon)
    CalendarEntry.objects.filter(pk=visit.pk).update(
        export_state=ExportState.FAILED,
        export_attempts=25,
        export_error="Gave up after 25 attempts",
    )

    listing = admin_client.get("/admin/feeds/calendarentry/")
    response = admin_client.post(
        "/admin/feeds/calendarentry/",
        {"action": "resend", "_selected_action": [visit.pk]},
    )

    assert listing.status_code == 200
    assert b"Gave up after 25 attempts" in listing.content
    assert response.status_code == 302
    entry = entry_of(visit)
    assert (entry.export_state, entry.export_attempts) == (ExportState.PENDING, 0)
    assert entry.pending_since is not None
    assert CalendarEntry in admin_site._registry
    assert SurgeonCalendar in admin_site._registry


def _visits(surgeon: Surgeon, count: int) -> list[int]:
    ids: list[int] = []
    while len(ids) < count:
        procedure = make_procedure(surgery_date=SURGERY_DATE, surgeon=surgeon)
        ids += list(procedure.visits.values_list("pk", flat=True))
    return ids[:count]


def test_a_user_who_may_only_view_entries_cannot_re_send_them(surgeon: Surgeon) -> None:
    # Only clinic admins enter the admin; this clinic lets them view entries only.
    admins = Group.objects.get(name="clinic_admin")
    admins.permissions.remove(Permission.objects.get(codename="change_calendarentry"))
    viewer = User.objects.create_user(username="viewer")
    viewer.groups.add(admins)
    client = Client()
    client.force_login(viewer)
    visit = postop_visit(surgeon)
    CalendarEntry.objects.filter(pk=visit.pk).update(
        export_state=ExportState.FAILED, export_attempts=25
    )

    listing = client.get("/admin/feeds/calendarentry/")
    client.post(
        "/admin/feeds/calendarentry/",
        {"action": "resend", "_selected_action": [visit.pk]},
    )

    assert listing.status_code == 200
    assert b'value="resend"' not in listing.content
    assert entry_of(visit).export_state == ExportState.FAILED
