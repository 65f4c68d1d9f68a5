"""`GET /calendar/<token>.ics`: every scope, as calendar clients read it."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject
from caldav.calendarobjectresource import Event
from caldav.davclient import DAVClient
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date

from clinic.models import Procedure, ProcedureKind, Surgeon
from feeds import links, rendering, views
from feeds.models import CalendarEntry
from followup import services
from followup.models import ContactChannel, ContactOutcome, Visit
from tests.conftest import require
from tests.factories import (
    PatientFactory,
    make_procedure,
    surgeon_with_login,
)
from tests.feeds.conftest import SharedRedis
from tests.feeds.helpers import MADRID, book, cancel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_feed_cache")]
ROOT = Path(__file__).resolve().parents[2]
ICALJS = Path(__file__).with_name("icaljs_parse.mjs")


def visit_of(procedure: Procedure, rule: str = "postop_control") -> Visit:
    return Visit.objects.get(procedure=procedure, rule__code=rule, occurrence=1)


def link_url(scope: str, owner_id: int | None = None) -> str:
    issued = links.create_link(
        scope=scope,
        surgeon_id=owner_id if scope == "surgeon" else None,
        patient_id=owner_id if scope == "patient" else None,
        by_command=True,
    )
    return issued.path


def get(url: str, **headers: str) -> Any:
    return Client(headers=headers).get(url)


def events(body: bytes) -> dict[str, Any]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def surgeon() -> Surgeon:
    return surgeon_with_login(given_name="Ana", family_name="Alvarez")


@pytest.fixture
def clinic_day(surgeon: Surgeon) -> dict[str, Any]:
    """A surgeon's booked, cancelled and unbooked visits, and a patient's plan."""
    patient = PatientFactory.create(given_name="Íñigo", family_name="Zubizarreta")
    stem = make_procedure(
        patient=patient,
        surgeon=surgeon,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2026, 6, 25),
        today=dt.date(2026, 6, 1),
    )
    booked = book(visit_of(stem), dt.date(2026, 7, 6), 9)
    january = book(visit_of(stem, "one_month_control"), dt.date(2027, 1, 11), 9)
    other = make_procedure(surgeon=surgeon)
    cancelled = cancel(
        book(visit_of(other), dt.date(2026, 11, 12), 10),
        "Patient is depressed; husband will call back",
    )
    return {
        "patient": patient,
        "booked": booked,
        "january": january,
        "cancelled": cancelled,
        "annual": visit_of(stem, "annual_mri_review"),
    }


def all_feeds(surgeon: Surgeon, day: dict[str, Any]) -> dict[str, bytes]:
    urls = {
        "surgeon": link_url("surgeon", surgeon.pk),
        "patient": link_url("patient", day["patient"].pk),
        "clinic": link_url("clinic"),
    }
    bodies = {}
    for scope, url in urls.items():
        response = get(url)
        assert response.status_code == 200, scope
        bodies[scope] = response.content
    return bodies


# --- what every client must accept -------------------------------------------


def test_every_scope_parses_without_errors_in_icalendar_and_vobject(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    for scope, body in all_feeds(surgeon, clinic_day).items():
        calendar = icalendar.Calendar.from_ical(body)
        assert not calendar.errors, scope
        assert all(not component.errors for component in calendar.walk()), scope
        parsed = vobject.readOne(body.decode(), validate=True)
        assert parsed.vevent_list, scope


@pytest.mark.node
def test_every_scope_parses_in_mozilla_icaljs(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    node = shutil.which("node")
    require(
        node is not None and (ROOT / "node_modules" / "ical.js").is_dir(),
        "needs Node.js and `npm ci` (ical.js in node_modules)",
    )
    assert node is not None
    for scope, body in all_feeds(surgeon, clinic_day).items():
        result = subprocess.run(
            [node, str(ICALJS)], input=body, capture_output=True, check=False
        )
        assert result.returncode == 0, (scope, result.stderr.decode())
        parsed = json.loads(result.stdout)
        assert parsed["timezones"] == 1
        assert parsed["events"], scope
        booked = {e["uid"]: e for e in parsed["events"]}.get(
            rendering.visit_uid(clinic_day["booked"])
        )
        # Every scope holds the booked visit.
        assert booked is not None, scope
        assert booked["start_local"] == "2026-07-06T09:00:00"
        assert booked["tzid"] == "Europe/Madrid"
        # 09:00 in Madrid in July is 07:00 UTC: the VTIMEZONE was applied.
        assert (
            booked["start_utc"] == dt.datetime(2026, 7, 6, 7, tzinfo=dt.UTC).timestamp()
        )


def test_every_line_is_crlf_terminated_and_at_most_75_octets(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    for scope, body in all_feeds(surgeon, clinic_day).items():
        assert body.endswith(b"\r\n"), scope
        assert b"\n" not in body.replace(b"\r\n", b""), scope
        assert b"\r" not in body.replace(b"\r\n", b""), scope
        assert max(len(line) for line in body.split(b"\r\n")) <= 75, scope


def test_feed_headers_and_calendar_properties(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    response = get(link_url("surgeon", surgeon.pk))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Dr. Ana Alvarez · follow-up visits"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.content.decode()
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Madrid"
    assert "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n" in response.content.decode()


def test_a_poll_keeps_the_security_headers_and_sets_no_cookie(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    # Polls skip the session middleware (feeds.middleware), not the security
    # headers; a client sending a stale session cookie gets none back.
    client = Client(HTTP_COOKIE="sessionid=stale; csrftoken=stale")
    response = client.get(link_url("surgeon", surgeon.pk))

    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response.cookies == {}


def test_madrid_visits_at_nine_stay_at_nine_local_in_july_and_january(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    body = get(link_url("surgeon", surgeon.pk)).content
    july = events(body)[rendering.visit_uid(clinic_day["booked"])]
    january = events(body)[rendering.visit_uid(clinic_day["january"])]

    assert july.decoded("DTSTART") == dt.datetime(2026, 7, 6, 9, tzinfo=MADRID)
    assert january.decoded("DTSTART") == dt.datetime(2027, 1, 11, 9, tzinfo=MADRID)
    # vobject resolves TZID through the feed's own VTIMEZONE block.
    parsed = vobject.readOne(body.decode())
    starts = {e.uid.value: e.dtstart.value for e in parsed.vevent_list}
    july_start = starts[rendering.visit_uid(clinic_day["booked"])]
    january_start = starts[rendering.visit_uid(clinic_day["january"])]
    assert (july_start.hour, july_start.utcoffset()) == (9, dt.timedelta(hours=2))
    assert (january_start.hour, january_start.utcoffset()) == (
        9,
        dt.timedelta(hours=1),
    )


# --- what each scope holds ---------------------------------------------------


def test_surgeon_feed_lists_bookings_and_cancelled_bookings_only(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    found = events(get(link_url("surgeon", surgeon.pk)).content)

    assert set(found) == {
        rendering.visit_uid(clinic_day[name])
        for name in ("booked", "january", "cancelled")
    }
    cancelled = found[rendering.visit_uid(clinic_day["cancelled"])]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled.decoded("DTSTART") == dt.datetime(2026, 11, 12, 10, tzinfo=MADRID)


def test_surgeon_feed_leaves_out_other_surgeons_visits(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    elsewhere = make_procedure()
    book(visit_of(elsewhere), dt.date(2026, 11, 13))

    found = events(get(link_url("surgeon", surgeon.pk)).content)

    assert rendering.visit_uid(visit_of(elsewhere)) not in found


def test_patient_feed_shows_windows_and_milestones_as_all_day_events(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    patient = clinic_day["patient"]
    found = events(get(link_url("patient", patient.pk)).content)

    annual = found[rendering.visit_uid(clinic_day["annual"])]
    assert annual.decoded("DTSTART") == dt.date(2027, 5, 26)
    assert annual.decoded("DTEND") == dt.date(2027, 7, 26)
    assert str(annual["SUMMARY"]).startswith("To book: Annual MRI review")
    milestones = {
        str(event["SUMMARY"]): event.decoded("DTSTART")
        for uid, event in found.items()
        if uid.startswith("milestone-")
    }
    assert milestones == {
        "Daily activity recovered": dt.date(2026, 7, 2),
        "Sports may be resumed": dt.date(2026, 8, 6),
        "Intense physical effort allowed": dt.date(2026, 9, 25),
    }
    assert rendering.visit_uid(clinic_day["booked"]) in found
    assert rendering.visit_uid(clinic_day["cancelled"]) not in found


def test_clinic_feed_lists_every_surgeons_bookings(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    elsewhere = make_procedure()
    book(visit_of(elsewhere), dt.date(2026, 11, 13))

    found = events(get(link_url("clinic")).content)

    assert rendering.visit_uid(visit_of(elsewhere)) in found
    assert rendering.visit_uid(clinic_day["booked"]) in found
    assert rendering.visit_uid(clinic_day["annual"]) not in found


def test_surgeon_and_clinic_feeds_hold_no_free_text_and_no_full_name(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    feeds = all_feeds(surgeon, clinic_day)
    patient = clinic_day["patient"]

    for scope in ("surgeon", "clinic"):
        text = feeds[scope].replace(b"\r\n ", b"").decode()
        assert "depressed" not in text
        assert "husband" not in text
        assert patient.family_name not in text
        assert patient.given_name not in text
        assert patient.label() in text


def test_a_booked_review_without_its_scan_says_mri_missing_until_it_is_reported(
    surgeon: Surgeon,
) -> None:
    procedure = make_procedure(
        surgeon=surgeon,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2025, 12, 1),
    )
    annual = book(visit_of(procedure, "annual_mri_review"), dt.date(2026, 12, 1))
    url = link_url("surgeon", surgeon.pk)
    uid = rendering.visit_uid(annual)

    missing = events(get(url).content)[uid]
    assert str(missing["SUMMARY"]).endswith(" · MRI missing")
    assert "MRI missing" in str(missing["DESCRIPTION"])

    study = services.record_mri_study(
        patient_id=procedure.patient_id,
        performed_on=dt.date(2026, 11, 2),
        reference="ACC-1",
        actor=None,
        today=dt.date(2026, 11, 3),
    )
    pending = events(get(url).content)[uid]
    assert str(pending["SUMMARY"]).endswith(" · MRI report pending")

    services.record_mri_report(
        study_id=study.pk, received_on=dt.date(2026, 11, 5), today=dt.date(2026, 11, 5)
    )
    ready = events(get(url).content)[uid]
    assert str(ready["SUMMARY"]).endswith(" · MRI")
    assert "MRI missing" not in ready.to_ical().decode()
    assert "Bring the MRI scan." in str(ready["DESCRIPTION"])
    # Re-published with a higher SEQUENCE, so that clients replace their copy.
    assert int(ready["SEQUENCE"]) > int(missing["SEQUENCE"])


def test_no_contact_note_reaches_any_feed_scope(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    note = "Daughter says he is in hospital, ring after 18h"
    for visit in (clinic_day["booked"], clinic_day["january"]):
        services.record_contact_attempt(
            visit_id=visit.pk,
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.LEFT_MESSAGE,
            note=note,
            actor=None,
            now=dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC),
        )
    annual = clinic_day["annual"]
    services.record_contact_attempt(
        visit_id=annual.pk,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.CALL_BACK_LATER,
        call_back_on=dt.date(2026, 6, 20),
        note=note,
        actor=None,
        now=dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC),
    )

    for scope, body in all_feeds(surgeon, clinic_day).items():
        text = body.replace(b"\r\n ", b"").decode()
        assert "hospital" not in text, scope
        assert "Daughter" not in text, scope


# --- changes reach subscribers -------------------------------------------------


def test_uid_stays_and_sequence_rises_across_reschedules(surgeon: Surgeon) -> None:
    visit = book(visit_of(make_procedure(surgeon=surgeon)), dt.date(2026, 11, 10))
    url = link_url("surgeon", surgeon.pk)
    uid = rendering.visit_uid(visit)
    seen = []
    for day in (dt.date(2026, 11, 11), dt.date(2026, 11, 12)):
        seen.append(events(get(url).content)[uid])
        book(visit, day, reschedule=True)
    seen.append(events(get(url).content)[uid])

    sequences = [int(str(event["SEQUENCE"])) for event in seen]
    assert sequences == sorted(set(sequences))
    assert [event.decoded("DTSTART").day for event in seen] == [10, 11, 12]


def test_a_visit_changed_after_rendering_shows_its_new_slot_without_the_worker(
    surgeon: Surgeon,
) -> None:
    visit = book(visit_of(make_procedure(surgeon=surgeon)), dt.date(2026, 11, 10))
    url = link_url("surgeon", surgeon.pk)
    get(url)  # renders and stores the entry, as the export task would
    rendered = CalendarEntry.objects.get(visit_id=visit.pk).rendered_from

    # The export task never runs here: nothing commits in a test transaction.
    book(visit, dt.date(2026, 11, 16), 11, reschedule=True)
    assert CalendarEntry.objects.get(visit_id=visit.pk).rendered_from == rendered

    event = events(get(url).content)[rendering.visit_uid(visit)]
    assert event.decoded("DTSTART") == dt.datetime(2026, 11, 16, 11, tzinfo=MADRID)


def test_a_cancelled_booking_appears_cancelled_after_it_was_served_booked(
    surgeon: Surgeon,
) -> None:
    visit = book(visit_of(make_procedure(surgeon=surgeon)), dt.date(2026, 11, 10))
    url = link_url("surgeon", surgeon.pk)
    assert str(events(get(url).content)[rendering.visit_uid(visit)]["STATUS"]) == (
        "CONFIRMED"
    )

    cancel(visit, "moved abroad")

    event = events(get(url).content)[rendering.visit_uid(visit)]
    assert str(event["STATUS"]) == "CANCELLED"


# --- conditional requests and the cost of a poll --------------------------------


def test_matching_if_none_match_gets_304_and_a_change_gets_200(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    url = link_url("surgeon", surgeon.pk)
    first = get(url)

    again = get(url, if_none_match=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]

    book(clinic_day["booked"], dt.date(2026, 7, 7), reschedule=True)
    changed = get(url, if_none_match=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_if_modified_since_gets_304_until_the_feed_changes(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    url = link_url("surgeon", surgeon.pk)
    first = get(url)

    assert get(url, if_modified_since=first["Last-Modified"]).status_code == 304
    assert get(url, if_modified_since=http_date(0)).status_code == 200

    book(clinic_day["booked"], dt.date(2026, 7, 7), reschedule=True)
    assert get(url, if_modified_since=first["Last-Modified"]).status_code == 200


def test_a_304_touches_no_visit_rows(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    url = link_url("surgeon", surgeon.pk)
    etag = get(url)["ETag"]

    with CaptureQueriesContext(connection) as queries:
        assert get(url, if_none_match=etag).status_code == 304

    assert len(queries) == 1  # the link, carrying its feed version
    assert not [q for q in queries if "followup_visit" in q["sql"]]


def test_an_unchanged_feed_is_served_without_reading_visits(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    url = link_url("surgeon", surgeon.pk)
    first = get(url).content
    views.memory.clear()  # another web process: only the shared cache has it

    with CaptureQueriesContext(connection) as queries:
        again = get(url).content

    assert again == first
    assert not [q for q in queries if "followup_visit" in q["sql"]]


def test_gzip_clients_get_the_same_feed_compressed(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    url = link_url("surgeon", surgeon.pk)
    plain = get(url)

    packed = get(url, accept_encoding="gzip, deflate")

    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert packed["ETag"] != plain["ETag"]
    assert get(url, if_none_match=packed["ETag"]).status_code == 304


def test_head_gives_the_headers_without_the_body(
    surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    url = link_url("surgeon", surgeon.pk)

    response = Client().head(url)

    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Type"] == "text/calendar; charset=utf-8"


def test_feed_answers_429_with_retry_after_past_the_hourly_limit(
    settings: Any, surgeon: Surgeon
) -> None:
    settings.FEED_REQUESTS_PER_TOKEN_HOUR = 3
    url = link_url("surgeon", surgeon.pk)

    statuses = [get(url).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = get(url)
    assert 0 < int(refused["Retry-After"]) <= 3600
    # Another link from the same address is still served.
    assert get(link_url("clinic")).status_code == 200


def test_guessing_tokens_from_one_address_is_throttled(settings: Any) -> None:
    settings.FEED_GUESSES_PER_IP_HOUR = 5

    statuses = [get(f"/calendar/guess{n}.ics").status_code for n in range(7)]

    assert statuses == [404] * 5 + [429] * 2


@pytest.mark.redis
def test_feed_bodies_are_shared_through_redis(
    shared_redis: SharedRedis, surgeon: Surgeon, clinic_day: dict[str, Any]
) -> None:
    url = link_url("surgeon", surgeon.pk)
    first = get(url).content
    views.memory.clear()  # another web process: only Redis has the body

    with CaptureQueriesContext(connection) as queries:
        again = get(url).content

    assert again == first
    assert not [q for q in queries if "followup_visit" in q["sql"]]
    assert any(b"feeds:body:" in key for key in shared_redis.own_keys())


@pytest.mark.redis
def test_throttle_counts_are_shared_through_redis(
    shared_redis: SharedRedis, settings: Any, surgeon: Surgeon
) -> None:
    settings.FEED_REQUESTS_PER_TOKEN_HOUR = 2
    url = link_url("surgeon", surgeon.pk)
    get(url)
    get(url)
    views.throttle.reset()  # another process: its own memory holds no counts

    refused = get(url)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert any(b"feeds:rate:" in key for key in shared_redis.own_keys())


def test_entries_of_an_older_format_are_rendered_again_on_read(
    surgeon: Surgeon,
) -> None:
    visit = book(visit_of(make_procedure(surgeon=surgeon)), dt.date(2026, 11, 10))
    url = link_url("surgeon", surgeon.pk)
    get(url)
    # As a deploy that changed the format finds them: stored, current, old.
    CalendarEntry.objects.filter(visit_id=visit.pk).update(
        body="BEGIN:VEVENT\r\nUID:old\r\nEND:VEVENT\r\n",
        rendered_format=rendering.FORMAT_VERSION - 1,
    )
    book(visit_of(make_procedure(surgeon=surgeon)), dt.date(2026, 11, 11))

    found = events(get(url).content)

    assert rendering.visit_uid(visit) in found
    assert "old" not in found
    entry = CalendarEntry.objects.get(visit_id=visit.pk)
    assert entry.rendered_format == rendering.FORMAT_VERSION


@pytest.mark.caldav
def test_every_scope_is_stored_and_read_back_by_a_caldav_server(
    surgeon: Surgeon, clinic_day: dict[str, Any], radicale: Any
) -> None:
    client = DAVClient(url=radicale.url, timeout=5)
    for scope, body in all_feeds(surgeon, clinic_day).items():
        feed = icalendar.Calendar.from_ical(body)
        zones = feed.walk("VTIMEZONE")
        calendar = client.calendar(url=radicale.new_calendar())
        sent = {}
        for event in feed.walk("VEVENT"):
            # One calendar object per event, as CalDAV stores them.
            one = icalendar.Calendar()
            one.add("prodid", "-//clinic tests//EN")
            one.add("version", "2.0")
            for zone in zones:
                one.add_component(zone)
            one.add_component(event)
            # The feed owns SEQUENCE: caldav must not raise it on the way.
            Event(
                client=client,
                parent=calendar,
                url=calendar.url.join(f"{uuid.uuid4().hex}.ics"),
            ).save(increase_seqno=False, raw_data=one.to_ical())
            sent[str(event["UID"])] = event

        stored = radicale.events_by_uid(str(calendar.url))

        assert set(stored) == set(sent), scope
        for uid, event in sent.items():
            (back,) = stored[uid]
            assert back.decoded("DTSTART") == event.decoded("DTSTART"), (scope, uid)
            assert back.get("SEQUENCE") == event.get("SEQUENCE"), (scope, uid)
            assert back.get("STATUS") == event.get("STATUS"), (scope, uid)
