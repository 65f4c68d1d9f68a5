"""The CalDAV audit: what a surgeon sees in their calendar after it ran.

Against a real Radicale: objects are put back, brought back by a late PUT,
or deleted on the server directly, as a timed-out request, a person or a
server restore would; then the audit compares each calendar with the
database and the pipeline (run in-process, as a worker would) repairs it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import icalendar
import pytest
from caldav.davclient import DAVClient
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinic.models import Surgeon
from feeds import rendering
from feeds.caldav import client as caldav_client
from feeds.caldav.audit import audit_calendar, audit_calendars
from feeds.models import CalendarEntry, ExportState, SurgeonCalendar
from feeds.rendering import visit_uid
from feeds.tasks import export_visits
from followup import services
from followup.models import Visit
from tests.feeds import helpers
from tests.feeds.conftest import (
    NOW,
    CalDAVProxy,
    Radicale,
    at,
    book,
    cancel,
    free_port,
    postop_visit,
    reschedule,
)
from tests.feeds.helpers import entry_of, export_pending

pytestmark = [pytest.mark.django_db, pytest.mark.caldav, pytest.mark.postgres]
MakeCalendar = Callable[..., SurgeonCalendar]


# --- the server, touched directly ---------------------------------------------


def server(calendar: SurgeonCalendar) -> DAVClient:
    return DAVClient(url=calendar.url, timeout=5)


def object_url(calendar: SurgeonCalendar, uid: str) -> str:
    """Where the export stores the object with this UID (its name)."""
    return f"{calendar.url}{quote(uid, safe='')}.ics"


def put_object(calendar: SurgeonCalendar, uid: str, ical: bytes) -> None:
    """A PUT straight to the server: a late request, or another client."""
    response = server(calendar).put(
        object_url(calendar, uid), ical.decode(), {"Content-Type": "text/calendar"}
    )
    assert response.status in (201, 204)


def delete_object(calendar: SurgeonCalendar, uid: str) -> None:
    assert server(calendar).delete(object_url(calendar, uid)).status in (200, 204)


def stored(calendar: SurgeonCalendar, uid: str) -> str:
    """The object's text as the server now serves it."""
    response = server(calendar).request(object_url(calendar, uid))
    assert response.status == 200
    return str(response.raw)


def rendered(visit: Visit) -> bytes:
    """The object the export PUTs for this visit as it is now."""
    loaded = (
        Visit.objects.select_related("procedure__patient", "surgeon", "rule")
        .with_mri_status()
        .get(pk=visit.pk)
    )
    return rendering.render_calendar_object(loaded)


def properties(ical: str) -> list[tuple[str, bytes]]:
    """The VEVENT's properties, parsed, in any order."""
    (event,) = icalendar.Calendar.from_ical(ical).walk("VEVENT")
    items: list[tuple[str, Any]] = event.property_items(recursive=False)
    return sorted((n, v.to_ical()) for n, v in items if n not in ("BEGIN", "END"))


def own_event(uid: str) -> bytes:
    """An event the surgeon made in the same calendar with another client."""
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Surgeon//Phone//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261125T100000Z\r\n"
        "DTSTART:20261209T130000Z\r\nDTEND:20261209T140000Z\r\n"
        "SUMMARY:Lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def export_states(visits: list[Visit]) -> list[tuple[Any, ...]]:
    return list(
        CalendarEntry.objects.filter(pk__in=[v.pk for v in visits])
        .order_by("pk")
        .values_list(
            "pk",
            "export_state",
            "export_attempts",
            "exported_sequence",
            "pending_since",
            "exported_at",
            "export_error",
        )
    )


def audit(calendar: SurgeonCalendar) -> Any:
    """Audit one calendar, then do what a worker would with its repairs."""
    report = audit_calendar(calendar, now=timezone.now())
    if report.resend:
        export_visits(report.resend)
    return report


def assert_settled(visit: Visit) -> None:
    """The visit's export is done: nothing pending after the repair."""
    entry = entry_of(visit)
    assert (entry.export_state, entry.pending_since) == (ExportState.EXPORTED, None)


# --- what the audit repairs ----------------------------------------------------


def test_a_late_put_after_the_delete_is_removed_and_the_entry_settles(
    ana: Surgeon, make_surgeon_calendar: MakeCalendar, radicale: Radicale
) -> None:
    calendar = make_surgeon_calendar(ana)
    visit = book(postop_visit(ana), at(9, 9))
    export_visits([visit.pk])
    late_request = rendered(visit)  # the PUT whose client timed out
    visit = services.unbook_visit(visit_id=visit.pk, actor=None, now=NOW)
    export_visits([visit.pk])
    assert radicale.events(calendar.url) == []
    put_object(calendar, visit_uid(visit), late_request)  # ...lands now
    assert list(radicale.events_by_uid(calendar.url)) == [visit_uid(visit)]

    report = audit(calendar)

    assert report.resend == [visit.pk]
    assert radicale.events(calendar.url) == []
    assert_settled(visit)
    # Audited again: nothing left to repair.
    assert audit(calendar).in_sync


def test_an_object_deleted_on_the_server_comes_back_as_rendered(
    ana: Surgeon, make_surgeon_calendar: MakeCalendar, radicale: Radicale
) -> None:
    calendar = make_surgeon_calendar(ana)
    kept = book(postop_visit(ana), at(9, 9))
    lost = book(postop_visit(ana), at(9, 10))
    export_visits([kept.pk, lost.pk])
    first_copy = stored(calendar, visit_uid(lost))
    delete_object(calendar, visit_uid(lost))

    report = audit(calendar)

    assert (report.resend, report.deleted) == ([lost.pk], [])
    assert sorted(radicale.events_by_uid(calendar.url)) == sorted(
        [visit_uid(kept), visit_uid(lost)]
    )
    # Radicale serves what it stored in its own serialization: the same bytes
    # as the first export left, and the same event as the clinic renders.
    assert stored(calendar, visit_uid(lost)) == first_copy
    assert properties(first_copy) == properties(rendered(lost).decode())
    assert entry_of(lost).export_state == ExportState.EXPORTED


def test_a_surgeons_own_events_are_never_touched(
    ana: Surgeon, make_surgeon_calendar: MakeCalendar, radicale: Radicale
) -> None:
    calendar = make_surgeon_calendar(ana)
    visit = book(postop_visit(ana), at(9, 9))
    export_visits([visit.pk])
    # Their own lunch, and an event of another clinic with a UID like ours.
    foreign = ["lunch-2026-12-09@phone.example", f"visit-{visit.pk}@other.example"]
    for uid in foreign:
        put_object(calendar, uid, own_event(uid))
    before = {uid: stored(calendar, uid) for uid in foreign}

    report = audit(calendar)

    assert report.in_sync
    assert report.checked == 1
    assert {uid: stored(calendar, uid) for uid in foreign} == before
    assert sorted(radicale.events_by_uid(calendar.url)) == sorted(
        [visit_uid(visit), *foreign]
    )


def test_a_stale_copy_of_a_visit_moved_to_another_surgeon_is_removed(
    ana: Surgeon,
    bruno: Surgeon,
    make_surgeon_calendar: MakeCalendar,
    radicale: Radicale,
) -> None:
    anas, brunos = make_surgeon_calendar(ana), make_surgeon_calendar(bruno)
    visit = book(postop_visit(ana), at(9, 9))
    export_visits([visit.pk])
    stale = rendered(visit)
    visit = reschedule(visit, at(9, 10), surgeon=bruno)
    export_visits([visit.pk])
    put_object(anas, visit_uid(visit), stale)  # Ana's copy comes back late

    report = audit(anas)

    assert report.resend == [visit.pk]
    assert radicale.events(anas.url) == []
    (event,) = radicale.events_by_uid(brunos.url)[visit_uid(visit)]
    assert event["SEQUENCE"] == visit.sequence
    assert entry_of(visit).export_state == ExportState.EXPORTED
    assert audit(brunos).in_sync


def test_a_late_put_of_an_older_version_is_replaced_by_the_current_one(
    ana: Surgeon, make_surgeon_calendar: MakeCalendar, radicale: Radicale
) -> None:
    calendar = make_surgeon_calendar(ana)
    visit = book(postop_visit(ana), at(9, 9))
    export_visits([visit.pk])
    late_request = rendered(visit)  # the PUT whose client timed out
    visit = reschedule(visit, at(9, 11))
    export_visits([visit.pk])
    (event,) = radicale.events_by_uid(calendar.url)[visit_uid(visit)]
    assert event.decoded("DTSTART") == at(9, 11)
    put_object(calendar, visit_uid(visit), late_request)  # ...lands now
    (event,) = radicale.events_by_uid(calendar.url)[visit_uid(visit)]
    assert event.decoded("DTSTART") == at(9, 9)

    report = audit(calendar)

    assert (report.resend, report.deleted, report.skipped) == ([visit.pk], [], [])
    (event,) = radicale.events_by_uid(calendar.url)[visit_uid(visit)]
    assert (event.decoded("DTSTART"), event["SEQUENCE"]) == (
        at(9, 11),
        visit.sequence,
    )
    assert_settled(visit)
    assert audit(calendar).in_sync


def test_an_object_of_ours_that_cannot_be_parsed_is_sent_again(
    ana: Surgeon, make_surgeon_calendar: MakeCalendar, radicale: Radicale
) -> None:
    calendar = make_surgeon_calendar(ana)
    broken, fine = book(postop_visit(ana), at(9, 9)), book(postop_visit(ana), at(9, 10))
    export_visits([broken.pk, fine.pk])
    # Stored by some other client: a VCALENDAR Radicale accepts but that
    # holds no event the audit can compare.
    put_object(
        calendar,
        visit_uid(broken),
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//X//Y//EN\r\n"
        b"BEGIN:VTODO\r\nUID:" + visit_uid(broken).encode() + b"\r\n"
        b"DTSTAMP:20261125T100000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    )

    report = audit(calendar)

    assert (report.resend, report.deleted, report.checked) == ([broken.pk], [], 2)
    assert sorted(radicale.events_by_uid(calendar.url)) == sorted(
        [visit_uid(broken), visit_uid(fine)]
    )
    assert properties(stored(calendar, visit_uid(broken))) == properties(
        rendered(broken).decode()
    )
    assert audit(calendar).in_sync


def test_a_copy_the_export_would_leave_is_deleted_by_the_audit_itself(
    ana: Surgeon,
    bruno: Surgeon,
    make_surgeon_calendar: MakeCalendar,
    radicale: Radicale,
) -> None:
    anas, brunos = make_surgeon_calendar(ana), make_surgeon_calendar(bruno)
    # Moved to Bruno with no recorded change of surgeon: no export of it
    # ever DELETEs it from Ana's calendar.
    moved = book(postop_visit(ana), at(9, 9))
    export_visits([moved.pk])
    moved = helpers.book(moved, at(10, 9).date(), surgeon_id=bruno.pk)
    export_visits([moved.pk])
    # Never sent anywhere (the database restored from before its first
    # push): its export goes nowhere.
    never_sent = book(postop_visit(ana), at(9, 10))
    export_visits([never_sent.pk])
    never_sent = services.unbook_visit(visit_id=never_sent.pk, actor=None, now=NOW)
    export_visits([never_sent.pk])
    CalendarEntry.objects.filter(pk=never_sent.pk).update(
        export_state=ExportState.NOTHING_TO_PUSH, exported_sequence=-1
    )
    put_object(anas, visit_uid(never_sent), own_event(visit_uid(never_sent)))
    # A visit that no longer exists at all.
    gone = Visit.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    put_object(anas, visit_uid(gone), own_event(visit_uid(gone)))
    untouched = export_states([moved, never_sent])

    report = audit(anas)

    assert report.resend == []
    assert report.deleted == sorted([moved.pk, never_sent.pk, gone])
    assert radicale.events(anas.url) == []
    assert list(radicale.events_by_uid(brunos.url)) == [visit_uid(moved)]
    assert export_states([moved, never_sent]) == untouched


def test_visits_the_pipeline_still_owns_are_left_to_it(
    ana: Surgeon, make_surgeon_calendar: MakeCalendar, radicale: Radicale
) -> None:
    calendar = make_surgeon_calendar(ana)
    visit = book(postop_visit(ana), at(9, 9))  # pending, never exported

    report = audit_calendar(calendar, now=timezone.now())

    assert (report.skipped, report.resend, report.deleted) == ([visit.pk], [], [])
    assert entry_of(visit).export_attempts == 0
    assert radicale.events(calendar.url) == []


# --- failures and a calendar in sync ------------------------------------------


def test_an_unreachable_server_is_reported_in_words_and_the_others_are_audited(
    ana: Surgeon,
    bruno: Surgeon,
    make_surgeon_calendar: MakeCalendar,
    radicale: Radicale,
) -> None:
    anas, brunos = make_surgeon_calendar(ana), make_surgeon_calendar(bruno)
    anas_visit = book(postop_visit(ana), at(9, 9))
    lost = book(postop_visit(bruno), at(9, 9))
    export_visits([anas_visit.pk, lost.pk])
    delete_object(brunos, visit_uid(lost))
    closed = f"http://clinic-user:url-secret@127.0.0.1:{free_port()}/cal/"
    SurgeonCalendar.objects.filter(pk=anas.pk).update(
        url=closed, username="clinic-user", password="field-secret"
    )
    before = export_states([anas_visit])

    reports = {r.surgeon_id: r for r in audit_calendars(now=timezone.now())}

    failed = reports[ana.pk]
    assert failed.error.startswith(
        "The audit of the CalDAV calendar of Dr. Ana Alvarez failed: Could not "
        "connect to the CalDAV server at "
    )
    assert "(connection refused)" in failed.error
    assert "url-secret" not in failed.error
    assert "field-secret" not in failed.error
    assert (failed.resend, failed.deleted, failed.checked) == ([], [], 0)
    assert export_states([anas_visit]) == before
    # Bruno's calendar was still audited, and its lost event comes back.
    assert reports[bruno.pk].resend == [lost.pk]
    export_pending()
    assert list(radicale.events_by_uid(brunos.url)) == [visit_uid(lost)]


def test_a_calendar_in_sync_is_read_in_two_requests_and_gets_no_write(
    ana: Surgeon,
    make_surgeon_calendar: MakeCalendar,
    caldav_proxy: CalDAVProxy,
    radicale: Radicale,
) -> None:
    calendar = make_surgeon_calendar(ana, base_url=caldav_proxy.url)
    booked = [book(postop_visit(ana), at(9, 9)), book(postop_visit(ana), at(9, 10))]
    cancelled = cancel(book(postop_visit(ana), at(9, 11)))
    export_pending()
    put_object(calendar, "lunch@phone.example", own_event("lunch@phone.example"))
    visits = [*booked, cancelled]
    states = export_states(visits)
    objects = {visit_uid(v): stored(calendar, visit_uid(v)) for v in booked}
    caldav_proxy.connections = 0

    report = audit_calendar(calendar, now=timezone.now())

    assert report.in_sync
    assert report.checked == 2
    # Each request opens a connection of its own: the PROPFIND of the names,
    # the REPORT of the versions of our objects, no PUT nor DELETE.
    assert caldav_proxy.connections == 2
    assert export_states(visits) == states
    assert {visit_uid(v): stored(calendar, visit_uid(v)) for v in booked} == objects


# --- the parts ----------------------------------------------------------------


def test_listing_a_calendar_names_every_object_and_nothing_else(
    ana: Surgeon, make_surgeon_calendar: MakeCalendar
) -> None:
    calendar = make_surgeon_calendar(ana)
    target = caldav_client.CalendarTarget.of(calendar)
    for uid in ["visit-7@followup.clinic.example", "lunch@phone.example"]:
        caldav_client.put_event(target, uid=uid, ical=own_event(uid), create=True)

    assert caldav_client.list_event_uids(target) == {
        "visit-7@followup.clinic.example",
        "lunch@phone.example",
    }
    # The collection above it is no calendar: refused in words.
    parent = caldav_client.CalendarTarget(url=calendar.url.rsplit("/", 2)[0] + "/")
    with pytest.raises(caldav_client.CalDAVRefused, match="not a calendar"):
        caldav_client.list_event_uids(parent)


@pytest.mark.parametrize(
    "data",
    [
        "garbage",
        "",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSEQUENCE:x\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSEQUENCE:2\r\nDTSTART:2026bad\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261209T100000Z\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
    ],
)
def test_calendar_data_the_audit_cannot_read_has_no_version(data: str) -> None:
    assert caldav_client._version_of(data) is None


@pytest.mark.parametrize(
    ("uid", "visit_id"),
    [
        ("visit-42@followup.clinic.example", 42),
        ("visit-42@other.example", None),
        ("visit-042@followup.clinic.example", None),
        ("visit-+42@followup.clinic.example", None),
        ("visit-@followup.clinic.example", None),
        ("milestone-42@followup.clinic.example", None),
        ("visit-42", None),
        # Digits to str.isdigit that int() refuses, and more than it reads.
        ("visit-\u00b2@followup.clinic.example", None),
        ("visit-" + "9" * 5000 + "@followup.clinic.example", None),
    ],
)
def test_only_visit_uids_of_this_clinic_are_ours(
    uid: str, visit_id: int | None
) -> None:
    assert rendering.visit_id_of_uid(uid) == visit_id


def test_beat_runs_the_audit(settings: Any) -> None:
    from config.celery import app

    schedule = {
        e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["feeds.tasks.audit_calendars"] == settings.CALDAV_AUDIT_SECONDS
    assert "feeds.tasks.audit_calendars" in app.tasks


def test_the_command_audits_now_and_fails_when_a_calendar_could_not_be(
    ana: Surgeon,
    bruno: Surgeon,
    make_surgeon_calendar: MakeCalendar,
    radicale: Radicale,
) -> None:
    anas, brunos = make_surgeon_calendar(ana), make_surgeon_calendar(bruno)
    visit = book(postop_visit(bruno), at(9, 9))
    export_visits([visit.pk])
    put_object(brunos, visit_uid(10**9), own_event(visit_uid(10**9)))
    SurgeonCalendar.objects.filter(pk=anas.pk).update(
        url=f"http://127.0.0.1:{free_port()}/cal/"
    )
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 calendar"):
        call_command("audit_calendars", stdout=out, stderr=err)

    assert "Dr. Bruno Blanco: 2 clinic events found, 0 to export again, 1 deleted" in (
        out.getvalue()
    )
    assert "Audited 2 calendars; 0 exports queued." in out.getvalue()
    assert "Dr. Ana Alvarez failed: Could not connect" in err.getvalue()
    assert list(radicale.events_by_uid(brunos.url)) == [visit_uid(visit)]
