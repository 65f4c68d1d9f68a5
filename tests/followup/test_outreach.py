"""Contact attempts: each outcome's effect on the visit and on the call list.

"Now" is Wednesday 25 November 2026, 08:00 in Madrid (tests/followup/world.py).
A surgery on 15 November gives a post-operative control whose window runs
from 22 to 30 November: still to book and closing within 7 days, so on the
call list. A surgery on 1 November gives one whose window closed on 16
November: overdue, on the call list too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import Patient, Procedure, ProcedureKind
from followup import services
from followup.exceptions import Conflict, InvalidInput, NotFound
from followup.models import (
    CancelReason,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    Visit,
    VisitEvent,
    VisitStatus,
)
from tests.factories import TODAY, PatientFactory, make_procedure
from tests.followup.world import NOW, book, madrid, postop

pytestmark = pytest.mark.django_db

CLOSING_SOON = dt.date(2026, 11, 15)  # window 22-30 Nov
OVERDUE = dt.date(2026, 11, 1)  # window 8-16 Nov
LATER = dt.date(2026, 11, 20)  # window 27 Nov - 5 Dec: not on the list yet


def attempt(
    visit: Visit,
    outcome: str,
    *,
    actor: User | None = None,
    now: dt.datetime = NOW,
    **extra: Any,
) -> ContactAttempt:
    return services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel(extra.pop("channel", "phone")),
        outcome=ContactOutcome(outcome),
        note=extra.pop("note", ""),
        call_back_on=extra.pop("call_back_on", None),
        actor=actor,
        now=now,
    )


def on_call_list(visit: Visit, today: dt.date = TODAY) -> bool:
    return Visit.objects.call_list(today).filter(pk=visit.pk).exists()


SUMMARY = (
    "attempt_count",
    "last_attempt_outcome",
    "last_attempt_at",
    "failed_in_row",
    "unreachable",
)


def summary(visit: Visit) -> dict[str, Any]:
    """The contact summary the call list carries for `visit`."""
    return Visit.objects.with_contact_summary().values(*SUMMARY).get(pk=visit.pk)


def call_list_row(visit: Visit) -> dict[str, Any]:
    return Visit.objects.call_list(TODAY).values(*SUMMARY).get(pk=visit.pk)


# --- the call list -----------------------------------------------------------


def test_the_call_list_holds_overdue_visits_and_those_closing_within_7_days() -> None:
    overdue = postop(surgery_date=OVERDUE)
    closing = postop(surgery_date=CLOSING_SOON)
    later = postop(surgery_date=LATER)

    listed = list(Visit.objects.call_list(TODAY).values_list("pk", flat=True))

    assert listed == [overdue.pk, closing.pk]  # window closing soonest first
    assert not on_call_list(later)
    # Its window closes on 5 December: seven days before, it joins the list.
    assert on_call_list(later, today=dt.date(2026, 11, 28))
    assert not on_call_list(later, today=dt.date(2026, 11, 27))


def test_a_new_visit_on_the_call_list_has_no_attempt_yet() -> None:
    visit = postop(surgery_date=CLOSING_SOON)

    row = call_list_row(visit)

    assert row["attempt_count"] == 0
    assert row["last_attempt_outcome"] is None
    assert row["last_attempt_at"] is None
    assert row["unreachable"] is False


def test_the_call_list_carries_the_last_attempt_and_the_number_of_attempts(
    desk: User,
) -> None:
    visit = postop(surgery_date=CLOSING_SOON)
    attempt(visit, "no_answer", actor=desk, now=madrid(2026, 11, 24, 9))
    attempt(visit, "left_message", actor=desk, channel="sms")

    row = call_list_row(visit)

    assert row["attempt_count"] == 2
    assert row["last_attempt_outcome"] == "left_message"
    assert row["last_attempt_at"] == NOW
    stored = ContactAttempt.objects.filter(visit=visit).last()
    assert stored is not None
    assert (stored.channel, stored.actor, stored.call_back_on) == ("sms", desk, None)


@pytest.mark.parametrize("outcome", ["no_answer", "left_message", "wrong_number"])
def test_an_unsuccessful_attempt_leaves_the_visit_as_it_was_and_on_the_list(
    outcome: str,
) -> None:
    visit = postop(surgery_date=CLOSING_SOON)
    before = Visit.objects.values().get(pk=visit.pk)

    attempt(visit, outcome)

    assert Visit.objects.values().get(pk=visit.pk) == before
    assert not VisitEvent.objects.filter(visit=visit).exclude(action="generated")
    assert on_call_list(visit)
    assert summary(visit)["failed_in_row"] == 1


def test_will_book_keeps_the_visit_on_the_list_until_it_is_booked() -> None:
    visit = postop(surgery_date=CLOSING_SOON)

    attempt(visit, "will_book")

    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.TO_BOOK
    assert on_call_list(visit)
    assert summary(visit)["last_attempt_outcome"] == "will_book"


def test_booking_the_visit_takes_it_off_the_call_list(desk: User) -> None:
    visit = postop(surgery_date=CLOSING_SOON)
    attempt(visit, "will_book", actor=desk)

    book(visit, madrid(2026, 11, 26, 9), actor=desk)

    assert not on_call_list(visit)


# --- call back later ---------------------------------------------------------


def test_call_back_later_hides_the_visit_until_its_date_then_it_comes_back() -> None:
    visit = postop(surgery_date=OVERDUE)

    attempt(visit, "call_back_later", call_back_on=dt.date(2026, 11, 30))

    assert not on_call_list(visit, today=TODAY)
    assert not on_call_list(visit, today=dt.date(2026, 11, 29))
    assert on_call_list(visit, today=dt.date(2026, 11, 30))
    assert on_call_list(visit, today=dt.date(2026, 12, 1))
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.TO_BOOK


def test_a_later_attempt_replaces_the_call_back() -> None:
    visit = postop(surgery_date=OVERDUE)
    attempt(visit, "call_back_later", call_back_on=dt.date(2026, 11, 30))

    # The patient rang back earlier than agreed and said they would book.
    attempt(visit, "will_book", now=madrid(2026, 11, 25, 12))

    assert on_call_list(visit, today=TODAY)


@pytest.mark.parametrize(
    ("call_back_on", "code", "words"),
    [
        (None, "call_back_date_required", "call_back_later needs call_back_on"),
        (TODAY, "call_back_date_not_future", "is not after today (2026-11-25)"),
        (
            dt.date(2026, 11, 1),
            "call_back_date_not_future",
            "2026-11-01 is not after today",
        ),
        (
            dt.date(2028, 1, 1),
            "call_back_date_too_far",
            "more than a year ahead",
        ),
    ],
)
def test_call_back_later_needs_a_date_after_today(
    call_back_on: dt.date | None, code: str, words: str
) -> None:
    visit = postop(surgery_date=OVERDUE)

    with pytest.raises(InvalidInput) as refused:
        attempt(visit, "call_back_later", call_back_on=call_back_on)

    assert refused.value.code == code
    assert words in refused.value.message
    assert not ContactAttempt.objects.exists()


def test_a_call_back_date_with_another_outcome_is_refused_not_ignored() -> None:
    visit = postop(surgery_date=OVERDUE)

    with pytest.raises(InvalidInput, match="only with the outcome call_back_later"):
        attempt(visit, "no_answer", call_back_on=dt.date(2026, 12, 1))

    assert not ContactAttempt.objects.exists()


# --- unreachable -------------------------------------------------------------


def test_three_unsuccessful_attempts_in_a_row_make_the_visit_unreachable() -> None:
    visit = postop(surgery_date=OVERDUE)
    attempt(visit, "no_answer")
    attempt(visit, "left_message")
    assert not Visit.objects.unreachable().filter(pk=visit.pk).exists()

    attempt(visit, "wrong_number")

    assert list(Visit.objects.unreachable()) == [visit]
    row = call_list_row(visit)
    assert (row["unreachable"], row["failed_in_row"], row["attempt_count"]) == (
        True,
        3,
        3,
    )


def test_an_attempt_that_reaches_the_patient_starts_the_count_again() -> None:
    visit = postop(surgery_date=OVERDUE)
    attempt(visit, "no_answer")
    attempt(visit, "no_answer")
    attempt(visit, "will_book")
    attempt(visit, "no_answer")
    attempt(visit, "left_message")

    row = summary(visit)
    assert (row["failed_in_row"], row["unreachable"], row["attempt_count"]) == (
        2,
        False,
        5,
    )
    assert not Visit.objects.unreachable().exists()

    attempt(visit, "no_answer")

    assert list(Visit.objects.unreachable()) == [visit]


def test_the_threshold_is_the_setting(settings: Any) -> None:
    settings.FOLLOWUP_MAX_FAILED_ATTEMPTS = 2
    visit = postop(surgery_date=OVERDUE)
    attempt(visit, "no_answer")
    attempt(visit, "no_answer")

    assert list(Visit.objects.unreachable()) == [visit]


def test_a_booking_after_failed_attempts_shows_the_patient_was_reachable(
    desk: User,
) -> None:
    visit = postop(surgery_date=CLOSING_SOON)
    for _ in range(3):
        attempt(visit, "no_answer", now=madrid(2026, 11, 24, 9))
    assert list(Visit.objects.unreachable()) == [visit]

    # The patient rang in and booked, then did not come.
    book(visit, madrid(2026, 11, 25, 9), actor=desk, now=madrid(2026, 11, 24, 10))
    services.mark_no_show(visit_id=visit.pk, actor=desk, now=madrid(2026, 11, 25, 10))

    assert on_call_list(visit)
    assert not Visit.objects.unreachable().exists()
    assert summary(visit)["failed_in_row"] == 0


# --- outcomes that cancel -----------------------------------------------------


def test_declined_cancels_the_visit_with_its_own_cause(desk: User) -> None:
    visit = postop(surgery_date=CLOSING_SOON)
    other = Visit.objects.get(procedure=visit.procedure, rule__code="one_month_control")

    attempt(visit, "declined", actor=desk, note="Prefers his GP")

    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    assert visit.cancelled_by == CancelReason.DECLINED
    assert visit.cancel_reason == "Patient declined this follow-up"
    event = VisitEvent.objects.filter(visit=visit).last()
    assert event is not None
    assert (event.action, event.actor, event.reason) == (
        "cancelled",
        desk,
        "Patient declined this follow-up",
    )
    assert not on_call_list(visit)
    # Only this follow-up: the patient's next visit stays.
    assert Visit.objects.get(pk=other.pk).status == VisitStatus.TO_BOOK


def stem_cell_patient() -> tuple[Patient, Procedure, Procedure]:
    """A stem-cell patient operated a year ago (annual reviews generated two
    years ahead) and again on 15 November, with one visit booked."""
    patient = PatientFactory.create()
    stem_cell = make_procedure(
        patient=patient,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2025, 11, 1),
    )
    recent = make_procedure(patient=patient, surgery_date=CLOSING_SOON)
    book(
        Visit.objects.get(procedure=recent, rule__code="postop_control"),
        madrid(2026, 11, 26, 9),
    )
    return patient, stem_cell, recent


@pytest.mark.parametrize("outcome", ["deceased", "moved_away"])
def test_leaving_care_cancels_every_open_visit_and_ends_the_programme(
    outcome: str, desk: User
) -> None:
    patient, stem_cell, _ = stem_cell_patient()
    visits = Visit.objects.filter(patient=patient)
    open_before = set(visits.open().values_list("pk", flat=True))
    assert len(open_before) == 7  # 5 of the stem-cell procedure, 2 recent
    reviews = visits.filter(rule__code="annual_mri_review")
    first_review = reviews.get(occurrence=1)  # window 2 Oct - 1 Dec 2026: due now
    later_reviews = set(
        reviews.exclude(pk=first_review.pk).values_list("pk", flat=True)
    )
    cause = CancelReason(outcome)

    attempt(first_review, outcome, actor=desk)

    assert not visits.open().exists()
    assert (
        set(visits.filter(status=VisitStatus.CANCELLED).values_list("pk", flat=True))
        == open_before
    )
    stem_cell.refresh_from_db()
    assert stem_cell.annual_reviews_ended_on == TODAY
    assert stem_cell.annual_reviews_end_reason == cause.label
    # The reviews not yet due went with the programme; every visit the
    # clinic was waiting for, or that the patient still had ahead outside
    # the programme, is lost with the cause.
    by_cause = dict(visits.values_list("pk", "cancelled_by"))
    assert {by_cause[pk] for pk in later_reviews} == {CancelReason.PROGRAMME_ENDED}
    assert {by_cause[pk] for pk in open_before - later_reviews} == {cause.value}
    # Extending the horizon later creates nothing for this patient.
    assert services.extend_annual_horizon(today=dt.date(2028, 12, 1)) == 0
    assert not Visit.objects.call_list(TODAY).filter(patient=patient).exists()


def test_leaving_care_leaves_completed_visits_and_other_patients_alone() -> None:
    patient, _, _ = stem_cell_patient()
    someone_else = postop(surgery_date=CLOSING_SOON)
    done = Visit.objects.get(
        patient=patient,
        rule__code="postop_control",
        procedure__surgery_date=dt.date(2025, 11, 1),
    )
    Visit.objects.filter(pk=done.pk).update(
        status=VisitStatus.COMPLETED,
        start=madrid(2025, 11, 10, 9),
        end=madrid(2025, 11, 10, 9, 20),
    )
    to_ask = Visit.objects.filter(patient=patient).open().first()
    assert to_ask is not None

    attempt(to_ask, "moved_away")

    assert Visit.objects.get(pk=done.pk).status == VisitStatus.COMPLETED
    assert Visit.objects.get(pk=someone_else.pk).status == VisitStatus.TO_BOOK


# --- refusals ------------------------------------------------------------------


def test_a_note_too_long_is_refused_without_quoting_it() -> None:
    visit = postop(surgery_date=CLOSING_SOON)

    with pytest.raises(InvalidInput) as refused:
        attempt(visit, "no_answer", note="x" * 2001)

    assert refused.value.message == "note is longer than 2000 characters."


@pytest.mark.parametrize("status", ["completed", "checked_in", "cancelled"])
def test_a_visit_that_can_no_longer_happen_takes_no_attempt(status: str) -> None:
    visit = postop(surgery_date=CLOSING_SOON)
    Visit.objects.filter(pk=visit.pk).update(
        status=status,
        start=madrid(2026, 11, 24, 9),
        end=madrid(2026, 11, 24, 9, 20),
    )

    with pytest.raises(Conflict, match="contact attempts are recorded for visits"):
        attempt(visit, "no_answer")

    assert not ContactAttempt.objects.exists()


def test_an_unknown_visit_is_not_found() -> None:
    with pytest.raises(NotFound, match="Visit 987654 does not exist"):
        services.record_contact_attempt(
            visit_id=987654,
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.NO_ANSWER,
            actor=None,
            now=NOW,
        )


# --- query counts --------------------------------------------------------------


def read_call_list() -> int:
    with CaptureQueriesContext(connection) as queries:
        rows = list(Visit.objects.call_list(TODAY).select_related("patient"))
        for row in rows:
            assert row.patient.record_number
            assert getattr(row, "attempt_count", None) is not None
    return len(queries)


def add_called_visits(count: int) -> None:
    for i in range(count):
        visit = postop(surgery_date=OVERDUE - dt.timedelta(days=i % 5))
        attempt(visit, "no_answer")
        if i % 2:
            attempt(visit, "will_book")


def test_the_call_list_costs_one_query_for_50_visits_as_for_5() -> None:
    add_called_visits(5)
    small = read_call_list()

    add_called_visits(45)
    large = read_call_list()

    assert Visit.objects.call_list(TODAY).count() == 50
    assert small == large == 1
