"""The visit lifecycle and the booking controls, through the services.

The cast: the clinic consults Monday to Friday 09:00-14:00 in 10-minute
slots; "now" is Wednesday 25 November 2026, 08:00 in Madrid; a procedure on
Friday 20 November gives a post-operative control of 20 minutes whose
window runs from Friday 27 November to Saturday 5 December.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import strategies as st
from pytest_django.fixtures import Settings as SettingsWrapper

from clinic.models import Surgeon
from config.settings import env_weekly_hours
from followup import services
from followup.exceptions import Conflict, DomainError, InvalidInput, NotFound
from followup.models import Visit, VisitEvent, VisitStatus
from followup.services import booking, hours
from tests.factories import (
    ConsultationSessionFactory,
    PatientFactory,
    SurgeonFactory,
    UserFactory,
)
from tests.followup.world import (
    FRIDAY_9,
    MADRID,
    NOW,
    SURGERY,
    book,
    madrid,
    postop,
    snapshot,
    surgeon_of,
)

pytestmark = pytest.mark.django_db


# --- the state table ---------------------------------------------------------

# SPEC section 2, copied literally: status -> allowed next statuses.
SPEC_TABLE = {
    "to_book": {"booked", "cancelled"},
    "booked": {"booked", "to_book", "checked_in", "no_show", "cancelled"},
    "checked_in": {"completed"},
    "completed": set(),
    "no_show": {"booked", "cancelled"},
    "cancelled": set(),
}


def test_the_transition_table_is_the_spec_table_and_every_move_has_a_service() -> None:
    made = {
        (source, action.target)
        for action in booking.ACTIONS.values()
        for source in action.sources
    }

    assert {k: set(v) for k, v in booking.TRANSITIONS.items()} == SPEC_TABLE
    assert made == {(s, t) for s, targets in SPEC_TABLE.items() for t in targets}


def bring_to(status: str, visit: Visit, actor: User) -> Visit:
    """Walk a fresh visit to `status` through the services."""
    if status == "to_book":
        return visit
    if status == "cancelled":
        return services.cancel_visit(
            visit_id=visit.pk, reason="Not needed", actor=actor, now=NOW
        )
    book(visit, actor=actor)
    later = FRIDAY_9 + dt.timedelta(minutes=5)
    if status in ("checked_in", "completed"):
        services.check_in_visit(visit_id=visit.pk, actor=actor, now=later)
    if status == "completed":
        services.complete_visit(visit_id=visit.pk, actor=actor, now=later)
    if status == "no_show":
        services.mark_no_show(visit_id=visit.pk, actor=actor, now=later)
    return Visit.objects.get(pk=visit.pk)


TEN_O_CLOCK = madrid(2026, 11, 30, 10)


def at_the_visit(visit: Visit) -> dt.datetime:
    """A moment when check-in and no-show are due: just after the start."""
    return NOW if visit.start is None else visit.start + dt.timedelta(minutes=5)


ACTS: dict[str, Callable[[Visit, User], Visit]] = {
    "book": lambda v, a: book(v, TEN_O_CLOCK, actor=a),
    "reschedule": lambda v, a: services.reschedule_visit(
        visit_id=v.pk, start=TEN_O_CLOCK, surgeon_id=surgeon_of(v), actor=a, now=NOW
    ),
    "unbook": lambda v, a: services.unbook_visit(visit_id=v.pk, actor=a, now=NOW),
    "cancel": lambda v, a: services.cancel_visit(
        visit_id=v.pk, reason="Patient moved abroad", actor=a, now=NOW
    ),
    "check_in": lambda v, a: services.check_in_visit(
        visit_id=v.pk, actor=a, now=at_the_visit(v)
    ),
    "no_show": lambda v, a: services.mark_no_show(
        visit_id=v.pk, actor=a, now=at_the_visit(v)
    ),
    "complete": lambda v, a: services.complete_visit(visit_id=v.pk, actor=a, now=NOW),
}
ALLOWED = {
    "book": {"to_book", "no_show"},
    "reschedule": {"booked"},
    "unbook": {"booked"},
    "cancel": {"to_book", "booked", "no_show"},
    "check_in": {"booked"},
    "no_show": {"booked"},
    "complete": {"checked_in"},
}
TARGET = {
    "book": "booked",
    "reschedule": "booked",
    "unbook": "to_book",
    "cancel": "cancelled",
    "check_in": "checked_in",
    "no_show": "no_show",
    "complete": "completed",
}


@pytest.mark.parametrize("status", list(SPEC_TABLE))
@pytest.mark.parametrize("action", list(ACTS))
def test_every_move_of_the_state_table_is_allowed_and_every_other_refused(
    status: str, action: str, desk: User
) -> None:
    visit = bring_to(status, postop(), desk)
    before = snapshot(visit)

    if status in ALLOWED[action]:
        changed = ACTS[action](visit, desk)

        assert changed.status == TARGET[action]
        assert Visit.objects.get(pk=visit.pk).status == TARGET[action]
        event = VisitEvent.objects.filter(visit=visit).last()
        assert event is not None
        assert (event.from_status, event.to_status) == (status, TARGET[action])
        assert event.actor == desk
        assert snapshot(visit)[1] == before[1] + 1
    else:
        label = VisitStatus(status).label.lower()
        with pytest.raises(Conflict, match=f"Visit {visit.pk} is {label};") as err:
            ACTS[action](visit, desk)

        assert err.value.code == "invalid_transition"
        assert err.value.status == 409
        assert snapshot(visit) == before


def test_booking_a_booked_visit_points_to_reschedule(desk: User) -> None:
    visit = book(postop(), actor=desk)

    with pytest.raises(Conflict, match=r"is booked; it cannot be booked\. Reschedule"):
        book(visit, TEN_O_CLOCK, actor=desk)


def test_an_unknown_visit_is_not_found(desk: User) -> None:
    with pytest.raises(NotFound, match="Visit 999999 does not exist"):
        services.check_in_visit(visit_id=999999, actor=desk, now=NOW)


# --- what each move writes ------------------------------------------------------


def test_booking_sets_the_slot_and_writes_an_event_with_the_slot_after(
    desk: User,
) -> None:
    visit = postop()

    booked = book(visit, "2026-11-27T09:00:00+01:00", actor=desk)

    row = Visit.objects.get(pk=visit.pk)
    assert row.status == VisitStatus.BOOKED
    assert row.start == FRIDAY_9
    assert row.end == FRIDAY_9 + dt.timedelta(minutes=20)
    assert row.surgeon_id == booked.surgeon_id
    event = row.events.get(action="booked")
    assert (event.start_before, event.start_after) == (None, FRIDAY_9)
    assert event.end_after == row.end


def test_a_reschedule_raises_the_sequence_and_records_both_slots(desk: User) -> None:
    visit = book(postop(), actor=desk)
    assert visit.sequence == 1  # the window's all-day entry became a booking

    services.reschedule_visit(
        visit_id=visit.pk,
        start=TEN_O_CLOCK,
        surgeon_id=surgeon_of(visit),
        actor=desk,
        now=NOW,
    )

    row = Visit.objects.get(pk=visit.pk)
    assert row.sequence == 2
    assert row.start == TEN_O_CLOCK
    event = row.events.get(action="rescheduled")
    assert (event.start_before, event.start_after) == (FRIDAY_9, TEN_O_CLOCK)


def test_the_sequence_rises_on_every_change_the_first_booking_included(
    desk: User,
) -> None:
    visit = postop()
    sequences = [visit.sequence]
    book(visit, actor=desk)
    sequences.append(Visit.objects.get(pk=visit.pk).sequence)
    services.unbook_visit(visit_id=visit.pk, actor=desk, now=NOW, reason="Asked")
    sequences.append(Visit.objects.get(pk=visit.pk).sequence)
    book(visit, TEN_O_CLOCK, actor=desk)
    sequences.append(Visit.objects.get(pk=visit.pk).sequence)
    after_start = TEN_O_CLOCK + dt.timedelta(minutes=30)
    services.mark_no_show(visit_id=visit.pk, actor=desk, now=after_start)
    sequences.append(Visit.objects.get(pk=visit.pk).sequence)
    services.cancel_visit(
        visit_id=visit.pk, reason="Gave up", actor=desk, now=after_start
    )
    sequences.append(Visit.objects.get(pk=visit.pk).sequence)

    assert sequences == [0, 1, 2, 3, 4, 5]


def test_rescheduling_to_the_same_slot_changes_nothing(desk: User) -> None:
    visit = book(postop(), actor=desk)
    before = snapshot(visit)

    services.reschedule_visit(
        visit_id=visit.pk,
        start=FRIDAY_9,
        surgeon_id=surgeon_of(visit),
        actor=desk,
        now=NOW,
    )

    assert snapshot(visit) == before


def test_unbooking_frees_the_slot_and_keeps_the_old_one_in_the_history(
    desk: User,
) -> None:
    visit = book(postop(), actor=desk)

    services.unbook_visit(visit_id=visit.pk, actor=desk, now=NOW, reason="Ill")

    row = Visit.objects.get(pk=visit.pk)
    assert (row.status, row.start, row.end) == (VisitStatus.TO_BOOK, None, None)
    event = row.events.get(action="unbooked")
    assert (event.start_before, event.start_after, event.reason) == (
        FRIDAY_9,
        None,
        "Ill",
    )
    assert book(postop(surgeon=row.surgeon), actor=desk).start == FRIDAY_9


def test_a_cancelled_booking_keeps_its_slot_for_the_calendars_and_frees_it(
    desk: User,
) -> None:
    visit = book(postop(), actor=desk)

    services.cancel_visit(
        visit_id=visit.pk, reason="  Operated elsewhere ", actor=desk, now=NOW
    )

    row = Visit.objects.get(pk=visit.pk)
    assert (row.status, row.start, row.cancel_reason) == (
        VisitStatus.CANCELLED,
        FRIDAY_9,
        "Operated elsewhere",
    )
    assert row.events.get(action="cancelled").reason == "Operated elsewhere"
    assert book(postop(surgeon=row.surgeon), actor=desk).start == FRIDAY_9


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancelling_without_a_reason_is_refused(reason: str, desk: User) -> None:
    visit = postop()
    before = snapshot(visit)

    with pytest.raises(InvalidInput, match="reason is required") as err:
        services.cancel_visit(visit_id=visit.pk, reason=reason, actor=desk, now=NOW)

    assert err.value.code == "required"
    assert snapshot(visit) == before


def test_a_no_show_frees_the_slot_and_can_be_rebooked(desk: User) -> None:
    visit = book(postop(), actor=desk)
    services.mark_no_show(visit_id=visit.pk, actor=desk, now=FRIDAY_9)
    other = book(postop(surgeon=visit.surgeon), actor=desk)

    rebooked = book(visit, TEN_O_CLOCK, actor=desk, now=FRIDAY_9)

    assert other.start == FRIDAY_9
    assert rebooked.status == VisitStatus.BOOKED
    assert rebooked.events.filter(action="rebooked").count() == 1


def test_booking_into_the_window_clears_the_rebooking_flag(desk: User) -> None:
    visit = book(postop(), actor=desk)
    Visit.objects.filter(pk=visit.pk).update(needs_rebooking=True)

    services.reschedule_visit(
        visit_id=visit.pk,
        start=TEN_O_CLOCK,
        surgeon_id=surgeon_of(visit),
        actor=desk,
        now=NOW,
    )

    assert not Visit.objects.get(pk=visit.pk).needs_rebooking


def test_a_visit_can_be_booked_with_another_surgeon(desk: User) -> None:
    visit = postop()
    colleague = SurgeonFactory.create()

    booked = book(visit, actor=desk, surgeon=colleague)

    assert booked.surgeon_id == colleague.pk
    assert booked.events.get(action="booked").details["surgeon"] == {
        "before": visit.surgeon_id,
        "after": colleague.pk,
    }


# --- the booking controls -----------------------------------------------------


def refused(
    visit: Visit,
    call: Callable[[], object],
    error: type[DomainError],
    code: str,
    message: str,
) -> None:
    """The call is refused with this message and code, and nothing changes."""
    before = snapshot(visit)
    visits, events = Visit.objects.count(), VisitEvent.objects.count()

    with pytest.raises(error, match=message) as err:
        call()

    assert err.value.code == code
    assert snapshot(visit) == before
    assert (Visit.objects.count(), VisitEvent.objects.count()) == (visits, events)


@pytest.mark.parametrize(
    ("start", "code", "message"),
    [
        (
            madrid(2026, 12, 7, 9),
            "outside_window",
            r"2026-12-07 is outside the visit's booking window \(2026-11-27 to "
            r"2026-12-05\); only a user allowed to override",
        ),
        (
            madrid(2026, 11, 26, 13, 50),
            "outside_window",
            "2026-11-26 is outside the visit's booking window",
        ),
        (
            madrid(2026, 11, 28, 9),
            "outside_sessions",
            r"has no consultation on Saturday 2026-11-28",
        ),
        (
            madrid(2026, 11, 27, 14),
            "outside_sessions",
            r"Fri 2026-11-27 14:00 to 14:20 does not fit .*'s consultation on "
            r"Fridays \(09:00-14:00 every 10 min\)",
        ),
        (madrid(2026, 11, 27, 13, 50), "outside_sessions", "does not fit"),
        (madrid(2026, 11, 27, 9, 5), "outside_sessions", "start on its slot grid"),
        (madrid(2026, 11, 27, 8, 50), "outside_sessions", "does not fit"),
        (
            madrid(2026, 11, 27, 9) + dt.timedelta(seconds=30),
            "outside_sessions",
            "does not fit",
        ),
    ],
)
def test_a_booking_outside_the_window_or_the_sessions_is_refused(
    start: dt.datetime, code: str, message: str, desk: User
) -> None:
    visit = postop()

    refused(
        visit,
        lambda: book(visit, start, actor=desk),
        InvalidInput,
        code,
        message,
    )


def test_a_booking_in_the_past_is_refused(desk: User) -> None:
    visit = postop()
    later = madrid(2026, 11, 30, 12, 1)

    refused(
        visit,
        lambda: book(visit, FRIDAY_9, actor=desk, now=later),
        InvalidInput,
        "start_in_past",
        r"Fri 2026-11-27 09:00 is in the past; choose a time after Mon 2026-11-30 "
        "12:01",
    )


def test_a_reschedule_is_held_to_the_same_controls(desk: User) -> None:
    visit = book(postop(), actor=desk)

    refused(
        visit,
        lambda: services.reschedule_visit(
            visit_id=visit.pk,
            start=madrid(2026, 11, 28, 9),
            surgeon_id=surgeon_of(visit),
            actor=desk,
            now=NOW,
        ),
        InvalidInput,
        "outside_sessions",
        "no consultation on Saturday",
    )


@pytest.mark.parametrize(
    ("start", "code", "message"),
    [
        ("2026-11-27T09:00:00", "naive_datetime", "has no UTC offset"),
        ("2026-11-27", "naive_datetime", "has no UTC offset"),
        ("next friday", "invalid_datetime", "'next friday' is not a date and time"),
        ("2026-02-30T09:00:00+01:00", "invalid_datetime", "is not a date and time"),
        (dt.datetime(2026, 11, 27, 9), "naive_datetime", "has no UTC offset"),
        ("0001-01-01T00:00:00+01:00", "invalid_datetime", "is out of range"),
        ("9999-12-31T23:59:00+00:00", "invalid_datetime", "is out of range"),
        (12, "invalid_datetime", "must be an ISO 8601 date and time"),
    ],
)
def test_a_start_without_an_offset_or_unreadable_is_refused(
    start: Any, code: str, message: str, desk: User
) -> None:
    visit = postop()

    refused(visit, lambda: book(visit, start, actor=desk), InvalidInput, code, message)


def test_a_start_in_another_offset_is_the_same_instant(desk: User) -> None:
    visit = book(postop(), "2026-11-27T08:00:00Z", actor=desk)

    assert visit.start == FRIDAY_9


def test_an_unknown_or_inactive_surgeon_is_refused(desk: User) -> None:
    visit = postop()
    retired = SurgeonFactory.create(active=False)

    refused(
        visit,
        lambda: services.book_visit(
            visit_id=visit.pk, start=FRIDAY_9, surgeon_id=999999, actor=desk, now=NOW
        ),
        InvalidInput,
        "unknown_surgeon",
        "Surgeon 999999 does not exist",
    )
    refused(
        visit,
        lambda: book(visit, actor=desk, surgeon=retired),
        InvalidInput,
        "surgeon_inactive",
        "is no longer active",
    )


def test_an_overlap_with_the_surgeons_booking_is_refused_and_the_next_slot_is_free(
    desk: User,
) -> None:
    first = book(postop(), actor=desk)  # 09:00-09:20
    visit = postop(surgeon=first.surgeon)

    refused(
        visit,
        lambda: book(visit, FRIDAY_9 + dt.timedelta(minutes=10), actor=desk),
        Conflict,
        "slot_taken",
        rf"Dr\. .* is already booked Fri 2026-11-27 09:00-09:20 \(visit {first.pk}\)",
    )
    assert book(visit, FRIDAY_9 + dt.timedelta(minutes=20), actor=desk).status == (
        VisitStatus.BOOKED
    )


def test_an_overlap_with_the_patients_booking_elsewhere_is_refused(
    desk: User,
) -> None:
    patient = PatientFactory.create()
    first = book(postop(patient=patient), actor=desk)
    visit = postop(patient=patient, surgery_date=SURGERY - dt.timedelta(days=1))

    refused(
        visit,
        lambda: book(visit, FRIDAY_9 + dt.timedelta(minutes=10), actor=desk),
        Conflict,
        "slot_taken",
        rf"The patient already has a visit Fri 2026-11-27 09:00-09:20 with Dr\. "
        rf".* \(visit {first.pk}\)",
    )


def test_a_checked_in_visit_still_holds_its_slot(desk: User) -> None:
    first = book(postop(), actor=desk)
    services.check_in_visit(visit_id=first.pk, actor=desk, now=FRIDAY_9)
    visit = postop(surgeon=first.surgeon)

    refused(
        visit,
        lambda: book(visit, actor=desk),
        Conflict,
        "slot_taken",
        "is already booked",
    )


# --- the window override ------------------------------------------------------

OUTSIDE = madrid(2026, 12, 7, 9)


def test_an_allowed_user_with_a_reason_books_outside_the_window(
    clinic_admin: User,
) -> None:
    visit = postop()

    booked = book(
        visit, OUTSIDE, actor=clinic_admin, override_reason="Surgeon on leave"
    )

    assert booked.start == OUTSIDE
    event = booked.events.get(action="booked")
    assert event.reason == "Surgeon on leave"
    assert event.details["window_override"] == {
        "reason": "Surgeon on leave",
        "window": ["2026-11-27", "2026-12-05"],
        "date": "2026-12-07",
    }


def test_an_allowed_user_without_a_reason_is_refused(clinic_admin: User) -> None:
    visit = postop()

    refused(
        visit,
        lambda: book(visit, OUTSIDE, actor=clinic_admin, override_reason="  "),
        InvalidInput,
        "outside_window",
        "give an override reason to book it anyway",
    )


@pytest.mark.parametrize("who", ["desk", "nobody"])
def test_a_reason_without_the_permission_does_not_override(
    who: str, desk: User
) -> None:
    visit = postop()
    actor = desk if who == "desk" else None

    refused(
        visit,
        lambda: book(visit, OUTSIDE, actor=actor, override_reason="Please"),
        InvalidInput,
        "outside_window",
        "only a user allowed to override the window can book it",
    )


def test_the_override_permission_alone_is_enough(db: None) -> None:
    user = UserFactory.create(username="senior_desk", group="front_desk")
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="followup", codename="override_booking_window"
        )
    )
    user = User.objects.get(pk=user.pk)  # drop the cached permissions
    visit = postop()

    assert book(visit, OUTSIDE, actor=user, override_reason="Agreed").start == OUTSIDE


def test_the_override_does_not_lift_the_other_controls(clinic_admin: User) -> None:
    visit = postop()

    refused(
        visit,
        lambda: book(
            visit,
            madrid(2026, 12, 6, 9),
            actor=clinic_admin,
            override_reason="Sunday clinic",
        ),
        InvalidInput,
        "outside_sessions",
        "no consultation on Sunday",
    )


# --- consultation sessions --------------------------------------------------


def test_a_surgeon_with_sessions_is_booked_only_in_them(desk: User) -> None:
    surgeon = SurgeonFactory.create()
    ConsultationSessionFactory.create(
        surgeon=surgeon,
        weekday=1,
        start_time=dt.time(16),
        end_time=dt.time(19),
        slot_minutes=15,
    )
    visit = postop(surgeon=surgeon)

    refused(
        visit,
        lambda: book(visit, TEN_O_CLOCK, actor=desk),
        InvalidInput,
        "outside_sessions",
        "has no consultation on Monday",
    )
    refused(
        visit,
        lambda: book(visit, madrid(2026, 12, 1, 16, 10), actor=desk),
        InvalidInput,
        "outside_sessions",
        r"Tuesdays \(16:00-19:00 every 15 min\)",
    )
    assert book(visit, madrid(2026, 12, 1, 16, 15), actor=desk).status == "booked"


def test_a_session_applies_only_between_its_valid_dates(desk: User) -> None:
    surgeon = SurgeonFactory.create()
    ConsultationSessionFactory.create(
        surgeon=surgeon, weekday=4, valid_to=dt.date(2026, 11, 27)
    )
    ConsultationSessionFactory.create(
        surgeon=surgeon, weekday=0, valid_from=dt.date(2026, 12, 7)
    )
    visit = postop(surgeon=surgeon)

    refused(
        visit,
        lambda: book(visit, TEN_O_CLOCK, actor=desk),
        InvalidInput,
        "outside_sessions",
        "no consultation on Monday",
    )
    assert book(visit, FRIDAY_9, actor=desk).start == FRIDAY_9


def test_a_clinic_admin_edits_sessions_in_the_admin_and_bad_hours_are_refused(
    clinic_admin: User, client: Client
) -> None:
    surgeon = SurgeonFactory.create()
    client.force_login(clinic_admin)
    form = {
        "surgeon": surgeon.pk,
        "weekday": 1,
        "start_time": "16:00",
        "end_time": "15:00",
        "slot_minutes": 10,
    }

    listing = client.get("/admin/followup/consultationsession/")
    refused = client.post("/admin/followup/consultationsession/add/", form)
    created = client.post(
        "/admin/followup/consultationsession/add/", {**form, "end_time": "19:00"}
    )

    assert listing.status_code == 200
    assert refused.status_code == 200
    assert "A session must end after it starts." in refused.content.decode()
    assert created.status_code == 302
    assert [str(s) for s in surgeon.sessions.all()] == [
        "Tuesday 16:00-19:00 every 10 min"
    ]


def test_the_clinic_hours_setting_is_read_and_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("X_HOURS", "mon,wed-thu 09:00-14:00, slot 15; tue 16:00-19:00")

    assert env_weekly_hours("X_HOURS", "") == [
        (0, dt.time(9), dt.time(14), 15),
        (2, dt.time(9), dt.time(14), 15),
        (3, dt.time(9), dt.time(14), 15),
        (1, dt.time(16), dt.time(19), 10),
    ]
    for raw, message in [
        ("mon-fri 9:00-14:00", "is not like 'mon-fri 09:00-14:00, slot 10'"),
        ("monday 09:00-14:00", "'monday' is not a day"),
        ("fri-mon 09:00-14:00", "runs backwards"),
        ("mon 14:00-09:00", "must end after it starts"),
        ("mon 09:00-14:00, slot 0", "with a slot above 0"),
        ("mon 24:00-25:00", "has an invalid time"),
        ("", "gives no clinic hours"),
    ]:
        monkeypatch.setenv("X_HOURS", raw)
        with pytest.raises(ImproperlyConfigured, match=message):
            env_weekly_hours("X_HOURS", "")


# --- daylight saving ----------------------------------------------------------

# Around the last Sundays of March and October 2027 (28 March, 31 October):
# the day, and Madrid's UTC offset on it.
DST_DAYS = [
    (dt.date(2027, 3, 26), 1),
    (dt.date(2027, 3, 27), 1),
    (dt.date(2027, 3, 28), 2),
    (dt.date(2027, 3, 29), 2),
    (dt.date(2027, 10, 29), 2),
    (dt.date(2027, 10, 30), 2),
    (dt.date(2027, 10, 31), 1),
    (dt.date(2027, 11, 1), 1),
]
EVERY_DAY_9_TO_14 = [(day, dt.time(9), dt.time(14), 10) for day in range(7)]


@pytest.mark.parametrize("as_text", [False, True], ids=["aware", "iso-string"])
@pytest.mark.parametrize(("day", "offset"), DST_DAYS, ids=str)
def test_a_nine_oclock_booking_stays_nine_oclock_across_daylight_saving(
    day: dt.date, offset: int, as_text: bool, desk: User, settings: SettingsWrapper
) -> None:
    settings.CLINIC_HOURS = EVERY_DAY_9_TO_14
    visit = postop(surgery_date=day - dt.timedelta(days=10))
    start = dt.datetime.combine(day, dt.time(9), MADRID)

    book(visit, start.isoformat() if as_text else start, actor=desk, now=NOW)

    row = Visit.objects.get(pk=visit.pk)
    assert row.start is not None and row.end is not None
    assert row.start.astimezone(MADRID).time() == dt.time(9)
    assert row.end.astimezone(MADRID).time() == dt.time(9, 20)
    assert row.start.astimezone(dt.UTC).hour == 9 - offset


def test_free_slots_start_at_nine_local_on_both_sides_of_the_change(
    settings: SettingsWrapper,
) -> None:
    settings.CLINIC_HOURS = EVERY_DAY_9_TO_14
    visit = postop(surgery_date=dt.date(2027, 3, 18))  # window 25 Mar - 2 Apr

    starts: dict[dt.date, dt.datetime] = {}
    for slot in services.free_slots(visit=visit, now=madrid(2027, 3, 1, 8), limit=100):
        starts.setdefault(slot.start.date(), slot.start)
    later = services.free_slots(visit=visit, now=madrid(2027, 3, 28, 15), limit=1)

    assert starts[dt.date(2027, 3, 27)].utcoffset() == dt.timedelta(hours=1)
    assert starts[dt.date(2027, 3, 27)].time() == dt.time(9)
    assert later[0].start == madrid(2027, 3, 29, 9)
    assert later[0].start.utcoffset() == dt.timedelta(hours=2)
    assert later[0].end - later[0].start == dt.timedelta(minutes=20)


@hypothesis.settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    day=st.dates(dt.date(2024, 1, 1), dt.date(2035, 12, 31)),
    opens=st.integers(6 * 60, 15 * 60),
    hours_long=st.integers(1, 6),
    slot=st.sampled_from([5, 10, 15, 20, 30]),
    length=st.sampled_from([10, 20, 30]),
)
@hypothesis.example(
    day=dt.date(2027, 3, 28), opens=6 * 60, hours_long=3, slot=10, length=20
)
@hypothesis.example(
    day=dt.date(2027, 10, 31), opens=6 * 60, hours_long=3, slot=10, length=20
)
def test_the_grid_is_the_same_wall_clock_grid_on_every_day(
    day: dt.date, opens: int, hours_long: int, slot: int, length: int
) -> None:
    start = dt.time(opens // 60, opens % 60)
    end = dt.time(opens // 60 + hours_long, opens % 60)
    block = hours.Hours(weekday=day.weekday(), start=start, end=end, slot_minutes=slot)

    starts = list(hours.grid([block], day, dt.timedelta(minutes=length)))

    walls = [s.astimezone(MADRID).replace(tzinfo=None) for s in starts]
    expected = [
        dt.datetime.combine(day, start) + dt.timedelta(minutes=k * slot)
        for k in range((hours_long * 60 - length) // slot + 1)
    ]
    assert walls == expected
    assert all(s.tzinfo == dt.UTC for s in starts)
    assert all(hours.fits(block, s, s + dt.timedelta(minutes=length)) for s in starts)


# --- free slots -----------------------------------------------------------------


def test_free_slots_follow_the_grid_inside_the_window_after_now() -> None:
    visit = postop()

    slots = services.free_slots(visit=visit, now=NOW, limit=3)

    assert [(s.start, s.end, s.surgeon_id) for s in slots] == [
        (start, start + dt.timedelta(minutes=20), visit.surgeon_id)
        for start in (
            FRIDAY_9,
            madrid(2026, 11, 27, 9, 10),
            madrid(2026, 11, 27, 9, 20),
        )
    ]


def test_free_slots_skip_the_surgeons_and_the_patients_booked_time(desk: User) -> None:
    patient = PatientFactory.create()
    visit = postop(patient=patient)
    book(postop(surgeon=visit.surgeon), FRIDAY_9, actor=desk)  # 09:00-09:20
    elsewhere = postop(patient=patient, surgery_date=SURGERY - dt.timedelta(days=1))
    book(elsewhere, madrid(2026, 11, 27, 9, 30), actor=desk)  # 09:30-09:50

    starts = [
        s.start.time() for s in services.free_slots(visit=visit, now=NOW, limit=3)
    ]

    assert starts == [dt.time(9, 50), dt.time(10), dt.time(10, 10)]


def test_free_slots_start_after_now_and_after_from() -> None:
    visit = postop()

    today = services.free_slots(visit=visit, now=madrid(2026, 11, 27, 10, 5), limit=1)
    later = services.free_slots(
        visit=visit, now=NOW, after=madrid(2026, 12, 2, 13, 41), limit=2
    )

    assert today[0].start == madrid(2026, 11, 27, 10, 10)
    # 13:50 + 20 minutes would end after the 14:00 session end.
    assert [s.start for s in later] == [
        madrid(2026, 12, 3, 9),
        madrid(2026, 12, 3, 9, 10),
    ]


def test_free_slots_end_with_the_window() -> None:
    visit = postop()

    assert services.free_slots(visit=visit, now=madrid(2026, 12, 5, 8)) == []
    last = services.free_slots(visit=visit, now=madrid(2026, 12, 4, 13, 31))
    assert [s.start for s in last] == [madrid(2026, 12, 4, 13, 40)]


def test_free_slots_of_another_surgeon_use_their_sessions() -> None:
    visit = postop()
    other = SurgeonFactory.create()
    ConsultationSessionFactory.create(
        surgeon=other, weekday=1, start_time=dt.time(16), end_time=dt.time(17)
    )

    slots = services.free_slots(visit=visit, now=NOW, limit=100, surgeon_id=other.pk)

    assert slots[0] == services.Slot(
        madrid(2026, 12, 1, 16), madrid(2026, 12, 1, 16, 20), other.pk
    )
    assert len(slots) == 5  # 16:00 to 16:40 on the only Tuesday of the window


def test_every_proposed_slot_can_be_booked(desk: User) -> None:
    visit = postop()
    for slot in services.free_slots(visit=visit, now=NOW, limit=20)[::4]:
        other = postop(surgeon=visit.surgeon)

        booked = book(other, slot.start, actor=desk, surgeon=None)

        assert (booked.start, booked.end) == (slot.start, slot.end)
    taken = {s.start for s in services.free_slots(visit=visit, now=NOW, limit=20)}
    assert not taken & {v.start for v in Visit.objects.filter(status="booked")}


def test_free_slots_take_three_queries_whatever_the_bookings(
    desk: User, django_assert_num_queries: Any
) -> None:
    visit = postop()
    for minute in range(0, 300, 20):
        book(postop(surgeon=visit.surgeon), FRIDAY_9 + dt.timedelta(minutes=minute))

    with django_assert_num_queries(3):
        slots = services.free_slots(visit=visit, now=NOW, limit=100)

    assert len(slots) == 100


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"]
)
def test_free_slots_refuse_a_time_out_of_range(moment: str) -> None:
    with pytest.raises(InvalidInput, match=r"from .* is out of range"):
        services.free_slots(
            visit=postop(), now=NOW, after=dt.datetime.fromisoformat(moment)
        )


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_free_slots_refuse_a_silly_limit(limit: int) -> None:
    with pytest.raises(InvalidInput, match="limit must be a whole number from 1 to"):
        services.free_slots(visit=postop(), now=NOW, limit=limit)


def test_free_slots_of_a_finished_visit_are_refused(desk: User) -> None:
    visit = bring_to("completed", postop(), desk)

    with pytest.raises(Conflict, match="is completed; it cannot be booked"):
        services.free_slots(visit=visit, now=NOW)


# --- the database guarantee (PostgreSQL) ------------------------------------------


def race(calls: list[Callable[[], object]]) -> tuple[int, list[BaseException]]:
    """Run the calls in threads released together; (successes, errors)."""
    barrier = threading.Barrier(len(calls))
    wins: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            result = call()
            with lock:
                wins.append(result)
        except BaseException as exc:  # counted below, never swallowed
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return len(wins), errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_clerks_booking_one_surgeons_slot_at_once_get_one_booking() -> None:
    surgeon = SurgeonFactory.create()
    visits = [postop(surgeon=surgeon) for _ in range(10)]

    wins, errors = race([functools.partial(book, v, FRIDAY_9) for v in visits])

    assert wins == 1
    assert len(errors) == 9
    assert all(isinstance(e, Conflict) and e.code == "slot_taken" for e in errors)
    assert Visit.objects.filter(surgeon=surgeon, status="booked").count() == 1
    assert VisitEvent.objects.filter(action="booked").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_patient_booked_with_two_surgeons_at_once_gets_one_booking() -> None:
    patient = PatientFactory.create()
    visits = [
        postop(patient=patient, surgery_date=SURGERY - dt.timedelta(days=n))
        for n in range(2)
    ]
    assert visits[0].surgeon_id != visits[1].surgeon_id

    wins, errors = race([functools.partial(book, v, FRIDAY_9) for v in visits])

    assert wins == 1
    assert [(type(e), getattr(e, "code", None)) for e in errors] == [
        (Conflict, "slot_taken")
    ]
    assert Visit.objects.filter(patient=patient, status="booked").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_booking_one_visit_at_once_take_turns_on_its_row() -> None:
    visit = postop()

    wins, errors = race(
        [functools.partial(book, visit, start) for start in (FRIDAY_9, TEN_O_CLOCK)]
    )

    assert wins == 1
    assert [(type(e), getattr(e, "code", None)) for e in errors] == [
        (Conflict, "invalid_transition")
    ]
    assert VisitEvent.objects.filter(visit=visit, action="booked").count() == 1


@pytest.mark.postgres
def test_the_database_refuses_overlapping_active_bookings_on_its_own() -> None:
    first = book(postop(), FRIDAY_9)
    visit = postop(surgeon=first.surgeon)

    with (
        pytest.raises(
            IntegrityError, match="visit_no_overlapping_bookings_per_surgeon"
        ),
        transaction.atomic(),
    ):
        Visit.objects.filter(pk=visit.pk).update(
            status="booked",
            start=FRIDAY_9 + dt.timedelta(minutes=10),
            end=FRIDAY_9 + dt.timedelta(minutes=30),
        )
    # Inactive statuses and touching slots are not overlaps.
    Visit.objects.filter(pk=visit.pk).update(
        status="no_show", start=FRIDAY_9, end=FRIDAY_9 + dt.timedelta(minutes=20)
    )
    Visit.objects.filter(pk=visit.pk).update(
        status="booked",
        start=FRIDAY_9 + dt.timedelta(minutes=20),
        end=FRIDAY_9 + dt.timedelta(minutes=40),
    )


@pytest.mark.postgres
def test_a_lost_race_reaching_the_constraint_is_a_conflict(
    monkeypatch: pytest.MonkeyPatch, desk: User
) -> None:
    first = book(postop(), FRIDAY_9)
    visit = postop(surgeon=first.surgeon)
    before = snapshot(visit)
    # As if the other clerk committed between our check and our write.
    monkeypatch.setattr(booking, "_check_free", lambda *args: None)

    with pytest.raises(Conflict, match="Someone booked an overlapping visit") as err:
        book(visit, FRIDAY_9 + dt.timedelta(minutes=10), actor=desk)

    assert err.value.code == "slot_taken"
    assert snapshot(visit) == before


def test_the_migrations_apply_and_reverse_on_sqlite(tmp_path: Path) -> None:
    """The demo's SQLite has no exclusion constraints, yet migrates both ways."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_DEBUG": "true",
        "CLINIC_VAR_DIR": str(tmp_path),
    }
    manage = [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py")]
    for args in (["migrate"], ["migrate", "followup", "0002"], ["migrate"]):
        done = subprocess.run(
            [*manage, *args, "--noinput", "-v0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr


# --- the demo clinic --------------------------------------------------------------


def test_seed_demo_leaves_visits_in_every_state_and_surgeons_with_sessions() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    today = timezone.localdate()  # seed_demo runs on the real clock

    statuses = set(Visit.objects.values_list("status", flat=True))

    assert statuses == set(VisitStatus.values)
    assert Visit.objects.overdue(today).exists()
    assert Visit.objects.filter(status="booked", start__gt=timezone.now()).exists()
    assert all(s.sessions.exists() for s in Surgeon.objects.all())
    before = Visit.objects.values_list("pk", "status", "start").order_by("pk")
    snapshot_rows = list(before)
    call_command("seed_demo", stdout=io.StringIO())
    assert list(before.all()) == snapshot_rows
