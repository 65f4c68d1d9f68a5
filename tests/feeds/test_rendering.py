"""Rendering entries once, the wire format, and feed versions."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
import vobject
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feeds import ical, rendering, versions
from feeds.export import visits_changed
from feeds.models import CalendarEntry, FeedVersion
from followup.models import Visit
from tests.factories import PatientFactory, SurgeonFactory, make_procedure
from tests.feeds.helpers import MADRID, book, cancel

pytestmark = pytest.mark.django_db


def first_visit(procedure_id: int) -> Visit:
    return (
        Visit.objects.select_related("rule", "procedure__patient", "surgeon")
        .filter(procedure_id=procedure_id, rule__code="postop_control")
        .get()
    )


def reread(visit: Visit) -> Visit:
    return first_visit(visit.procedure_id)


def test_folding_keeps_every_line_within_75_octets_and_utf8_whole() -> None:
    line = "SUMMARY:" + ical.escape_text("Ñandú, José; \\ notes\n" * 9)

    folded = ical.fold(line)

    parts = folded.split("\r\n")
    assert len(parts) > 2
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    # Unfolding gives back the very same line, so no character was split.
    assert folded.replace("\r\n ", "") == line


def test_folding_never_separates_a_backslash_from_what_it_escapes() -> None:
    for width in range(60, 80):
        line = "DESCRIPTION:" + "x" * width + "\\n" * 30

        for part in ical.fold(line).split("\r\n"):
            stripped = part.lstrip(" ")
            trailing = len(stripped) - len(stripped.rstrip("\\"))
            assert trailing % 2 == 0, part


def test_text_escaping_follows_rfc_5545() -> None:
    assert ical.escape_text("a,b;c\\d\ne\r\nf\x07") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_madrid_vtimezone_is_written_as_yearly_rules() -> None:
    block = ical.vtimezone("Europe/Madrid", 2026)

    assert "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" in block
    assert "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU" in block
    assert "RDATE" not in block
    assert "DTSTART:19700329T020000" in block


@pytest.mark.parametrize(
    ("tzid", "summer", "winter"),
    [
        ("Europe/Madrid", "+02:00", "+01:00"),
        ("America/New_York", "-04:00", "-05:00"),
        ("Australia/Sydney", "+10:00", "+11:00"),
        ("Asia/Tokyo", "+09:00", "+09:00"),
    ],
)
def test_vtimezone_gives_the_zones_real_offsets(
    tzid: str, summer: str, winter: str
) -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        + ical.vtimezone(tzid, 2026)
        + "BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;TZID={tzid}:20270715T090000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;TZID={tzid}:20270115T090000\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )

    # vobject builds its tzinfo from the VTIMEZONE itself, not from zoneinfo.
    parsed = vobject.readOne(text, validate=True)
    july, january = (event.dtstart.value for event in parsed.vevent_list)

    assert july.isoformat() == f"2027-07-15T09:00:00{summer}"
    assert january.isoformat() == f"2027-01-15T09:00:00{winter}"


def test_booked_entry_carries_uid_sequence_stamp_and_local_time() -> None:
    procedure = make_procedure()
    visit = book(first_visit(procedure.pk), dt.date(2026, 11, 12), 9, 30)
    visit = reread(visit)

    body = rendering.render_entry(visit)

    assert body.startswith("BEGIN:VEVENT\r\n")
    assert body.endswith("END:VEVENT\r\n")
    assert f"UID:visit-{visit.pk}@followup.clinic.example\r\n" in body
    assert "SEQUENCE:0\r\n" in body
    assert "DTSTART;TZID=Europe/Madrid:20261112T093000\r\n" in body
    assert "DTEND;TZID=Europe/Madrid:20261112T095000\r\n" in body
    assert f"DTSTAMP:{ical.utc_stamp(visit.updated_at)}\r\n" in body
    assert "STATUS:CONFIRMED\r\n" in body
    assert "Post-operative control · MG " in body


def test_rendering_twice_gives_the_same_bytes() -> None:
    procedure = make_procedure()
    visit = reread(book(first_visit(procedure.pk), dt.date(2026, 11, 12)))

    assert rendering.render_entry(visit) == rendering.render_entry(reread(visit))


def test_unbooked_visit_is_an_all_day_event_over_its_window() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))
    visit = first_visit(procedure.pk)

    body = rendering.render_entry(visit)

    assert "DTSTART;VALUE=DATE:20261109\r\n" in body
    # DTEND of an all-day event is exclusive: the window closes on the 17th.
    assert "DTEND;VALUE=DATE:20261118\r\n" in body
    assert "SUMMARY:To book: Post-operative control" in body


def test_a_no_show_is_a_window_to_rebook() -> None:
    procedure = make_procedure()
    visit = book(first_visit(procedure.pk), dt.date(2026, 11, 12))
    visit.status = "no_show"
    visit.save(update_fields=["status", "updated_at"])

    body = rendering.render_entry(reread(visit))

    assert "SUMMARY:To rebook: Post-operative control" in body
    assert "DTSTART;VALUE=DATE:20261109\r\n" in body


def test_cancelled_booking_keeps_its_slot_and_never_shows_the_reason() -> None:
    procedure = make_procedure()
    visit = book(first_visit(procedure.pk), dt.date(2026, 11, 12))
    cancel(visit, "Patient has depression, call her sister")

    body = rendering.render_entry(reread(visit))

    assert "STATUS:CANCELLED\r\n" in body
    assert "DTSTART;TZID=Europe/Madrid:20261112T090000\r\n" in body
    assert "depression" not in body
    assert "sister" not in body


def test_entry_shows_the_patient_label_never_the_full_name() -> None:
    patient = PatientFactory.create(given_name="Íñigo", family_name="Zubizarreta")
    procedure = make_procedure(patient=patient)
    visit = reread(book(first_visit(procedure.pk), dt.date(2026, 11, 12)))

    body = rendering.render_entry(visit)

    assert f"ÍZ {patient.record_number}" in body
    assert "Zubizarreta" not in body
    assert "Íñigo" not in body


def test_refresh_entries_stores_bodies_in_a_fixed_number_of_queries() -> None:
    visits = [first_visit(make_procedure().pk) for _ in range(12)]

    with CaptureQueriesContext(connection) as queries:
        entries = rendering.refresh_entries(visits)

    assert len(queries) <= 3
    assert [entry.visit_id for entry in entries] == sorted(v.pk for v in visits)
    stored = CalendarEntry.objects.get(visit_id=visits[0].pk)
    assert stored.rendered_from == reread(visits[0]).updated_at
    assert stored.body == rendering.render_entry(reread(visits[0]))


def test_refreshing_an_entry_leaves_its_export_record_alone() -> None:
    visit = first_visit(make_procedure().pk)
    rendering.refresh_entries([visit])
    book(visit, dt.date(2026, 11, 12))
    CalendarEntry.objects.filter(visit_id=visit.pk).update(
        export_state="exported", exported_sequence=3
    )

    (entry,) = rendering.refresh_entries([visit])

    assert (entry.export_state, entry.exported_sequence) == ("exported", 3)
    assert "DTSTART;TZID=Europe/Madrid:20261112T090000" in entry.body


def test_calendar_object_for_caldav_parses_with_its_timezone() -> None:
    visit = reread(book(first_visit(make_procedure().pk), dt.date(2027, 7, 5)))

    data = rendering.render_calendar_object(visit)

    parsed = icalendar.Calendar.from_ical(data)
    assert not parsed.errors
    assert "METHOD" not in parsed
    (event,) = parsed.walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(2027, 7, 5, 9, tzinfo=MADRID)
    assert vobject.readOne(data.decode(), validate=True).vevent.uid.value == (
        rendering.visit_uid(visit)
    )


def test_a_change_bumps_the_patient_surgeon_and_clinic_feeds() -> None:
    procedure = make_procedure()
    visit = first_visit(procedure.pk)
    before = dict(FeedVersion.objects.values_list("key", "version"))

    visits_changed([visit.pk])

    after = dict(FeedVersion.objects.values_list("key", "version"))
    for key in (
        f"patient:{procedure.patient_id}",
        f"surgeon:{procedure.surgeon_id}",
        "clinic",
    ):
        assert after[key] == before[key] + 1


def test_moving_a_booking_to_another_surgeon_bumps_the_old_surgeons_feed() -> None:
    procedure = make_procedure()
    first, second = SurgeonFactory.create(), SurgeonFactory.create()
    visit = book(first_visit(procedure.pk), dt.date(2026, 11, 12), surgeon_id=first.pk)
    rendering.refresh_entries([visit])
    old = versions.current(f"surgeon:{first.pk}").version

    book(visit, dt.date(2026, 11, 13), surgeon_id=second.pk, reschedule=True)

    assert versions.current(f"surgeon:{first.pk}").version == old + 1
    entry = CalendarEntry.objects.get(visit_id=visit.pk)
    assert entry.feed_surgeon_id == second.pk


def test_last_modified_rises_a_second_for_two_changes_within_one_second() -> None:
    now = dt.datetime(2026, 11, 25, 10, 0, 0, 500_000, tzinfo=dt.UTC)

    versions.bump(["clinic"], now=now)
    first = versions.current("clinic").changed_at
    versions.bump(["clinic"], now=now + dt.timedelta(milliseconds=100))
    second = versions.current("clinic").changed_at

    assert int(second.timestamp()) > int(first.timestamp())


def test_visits_changed_for_many_visits_takes_a_bounded_number_of_queries() -> None:
    few = [first_visit(make_procedure().pk).pk for _ in range(2)]
    many = [first_visit(make_procedure().pk).pk for _ in range(30)]

    with CaptureQueriesContext(connection) as small:
        visits_changed(few)
    with CaptureQueriesContext(connection) as large:
        visits_changed(many)

    assert len(large) == len(small)
