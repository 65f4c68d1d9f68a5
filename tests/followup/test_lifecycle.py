"""The visit lifecycle: the state table, and what each move writes.

The cast: the clinic consults Monday to Friday 09:00-14:00 in 10-minute
slots; "now" is Wednesday 25 November 2026, 08:00 in Madrid; a procedure on
Friday 20 November gives a post-operative control of 20 minutes whose
window runs from Friday 27 November to Saturday 5 December
(tests/followup/world.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from followup import services
from followup.exceptions import Conflict, InvalidInput, NotFound
from followup.models import Visit, VisitEvent, VisitStatus
from followup.services import moves as move_table
from tests.factories import (
    SurgeonFactory,
)
from tests.followup.world import (
    FRIDAY_9,
    NOW,
    TEN_O_CLOCK,
    book,
    bring_to,
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
    # Issue 19 (D5): a clinic admin reopens a visit cancelled by mistake.
    "cancelled": {"to_book"},
}


def test_the_transition_table_is_the_spec_table_and_every_move_has_a_service() -> None:
    made = {
        (source, action.target)
        for action in move_table.ACTIONS.values()
        for source in action.sources
    }

    assert {k: set(v) for k, v in move_table.TRANSITIONS.items()} == SPEC_TABLE
    assert made == {(s, t) for s, targets in SPEC_TABLE.items() for t in targets}


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
    "reopen": lambda v, a: services.reopen_visit(
        visit_id=v.pk, actor=a, reason="Cancelled by mistake", now=NOW
    ),
}
ALLOWED = {
    "book": {"to_book", "no_show"},
    "reschedule": {"booked"},
    "unbook": {"booked"},
    "cancel": {"to_book", "booked", "no_show"},
    "check_in": {"booked"},
    "no_show": {"booked"},
    "complete": {"checked_in"},
    "reopen": {"cancelled"},
}
TARGET = {
    "book": "booked",
    "reschedule": "booked",
    "unbook": "to_book",
    "cancel": "cancelled",
    "check_in": "checked_in",
    "no_show": "no_show",
    "complete": "completed",
    "reopen": "to_book",
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


@pytest.mark.parametrize("status", list(SPEC_TABLE))
def test_allowed_moves_are_the_tables_moves_at_their_times(
    status: str, desk: User
) -> None:
    # What every page offers as buttons: the state table's moves, each at its
    # time on the clinic's clock (check-in on the day, no-show once started).
    visit = bring_to(status, postop(), desk)
    moves = {action for action, sources in ALLOWED.items() if status in sources}

    if status == "booked":
        assert visit.start is not None
        day_before = visit.start - dt.timedelta(days=1)
        just_before = visit.start - dt.timedelta(minutes=5)
        assert move_table.allowed_moves(visit, day_before) == moves - {
            "check_in",
            "no_show",
        }
        assert move_table.allowed_moves(visit, just_before) == moves - {"no_show"}
        assert move_table.allowed_moves(visit, at_the_visit(visit)) == moves
        with pytest.raises(Conflict) as err:
            services.check_in_visit(visit_id=visit.pk, actor=desk, now=day_before)
        assert err.value.code == "check_in_not_today"
    else:
        assert move_table.allowed_moves(visit, NOW) == moves
    # The buttons and the services' refusals are one rule.
    for when in (NOW, visit.start or NOW, at_the_visit(visit) if visit.start else NOW):
        refused = {a for a in ALLOWED if move_table.move_refusal(visit, a, when)}
        assert move_table.allowed_moves(visit, when) == set(ALLOWED) - refused


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
