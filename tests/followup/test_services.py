"""Generation and re-planning through the services, on the real database."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
from django.db import IntegrityError, connection, transaction

from clinic.models import Patient, Procedure, ProcedureKind, ProcedureStatus
from feeds.models import CalendarEntry, FeedVersion
from feeds.versions import feed_key
from followup import services
from followup.exceptions import Conflict, InvalidInput
from followup.models import FollowUpRule, Visit, VisitEvent, VisitStatus
from followup.tasks import extend_annual_review_horizon
from tests.factories import TODAY, PatientFactory, SurgeonFactory, make_procedure

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
pytestmark = pytest.mark.django_db


def visits_by_rule(procedure: Procedure) -> dict[tuple[str, int], Visit]:
    return {
        (v.rule.code, v.occurrence): v
        for v in Visit.objects.filter(procedure=procedure).select_related("rule")
    }


def book_directly(visit: Visit, day: dt.date, hour: int = 9) -> Visit:
    """Give a visit a slot; the booking service of a later issue does this."""
    visit.status = VisitStatus.BOOKED
    visit.start = dt.datetime.combine(day, dt.time(hour), tzinfo=MADRID)
    visit.end = visit.start + dt.timedelta(minutes=visit.duration_minutes)
    visit.save(update_fields=["status", "start", "end"])
    return visit


def complete_directly(visit: Visit, day: dt.date) -> Visit:
    book_directly(visit, day)
    visit.status = VisitStatus.COMPLETED
    visit.save(update_fields=["status"])
    return visit


def test_new_plain_procedure_gets_both_controls_in_their_windows() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))

    visits = visits_by_rule(procedure)

    assert set(visits) == {("postop_control", 1), ("one_month_control", 1)}
    postop = visits["postop_control", 1]
    assert (postop.window_start, postop.due_date, postop.window_end) == (
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 12),
        dt.date(2026, 11, 17),
    )
    assert postop.duration_minutes == 20
    assert visits["one_month_control", 1].due_date == dt.date(2026, 12, 2)
    assert all(v.status == VisitStatus.TO_BOOK for v in visits.values())
    assert all(v.surgeon_id == procedure.surgeon_id for v in visits.values())


def test_stem_cell_procedure_gets_annual_mri_reviews_up_to_the_horizon() -> None:
    procedure = make_procedure(
        surgery_date=dt.date(2026, 1, 31), kind=ProcedureKind.ENDOSCOPIC_STEM_CELL
    )

    visits = visits_by_rule(procedure)

    # Horizon is today + 2 years = 2028-11-25: years 1 and 2 only.
    annual = sorted(k for k in visits if k[0] == "annual_mri_review")
    assert annual == [("annual_mri_review", 1), ("annual_mri_review", 2)]
    assert visits["annual_mri_review", 2].due_date == dt.date(2028, 1, 31)
    assert visits["annual_mri_review", 1].requires_mri
    assert visits["annual_mri_review", 1].duration_minutes == 30
    assert visits["one_month_control", 1].due_date == dt.date(2026, 2, 28)


def test_generating_twice_gives_one_set_of_visits() -> None:
    procedure = make_procedure()
    before = Visit.objects.filter(procedure=procedure).count()

    result = services.generate_visits(procedure_id=procedure.pk, today=TODAY)

    assert not result.changed
    assert Visit.objects.filter(procedure=procedure).count() == before == 2


def test_every_generated_visit_has_a_generated_event() -> None:
    procedure = make_procedure(kind=ProcedureKind.ENDOSCOPIC_STEM_CELL)

    events = VisitEvent.objects.filter(visit__procedure=procedure)

    assert events.count() == Visit.objects.filter(procedure=procedure).count() == 4
    assert set(events.values_list("action", "to_status")) == {("generated", "to_book")}


def test_database_refuses_a_second_visit_for_the_same_rule_and_occurrence() -> None:
    procedure = make_procedure()
    visit = Visit.objects.filter(procedure=procedure).first()
    assert visit is not None

    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(
            procedure=procedure,
            patient=procedure.patient,
            rule=visit.rule,
            occurrence=visit.occurrence,
            due_date=visit.due_date,
            window_start=visit.window_start,
            window_end=visit.window_end,
            duration_minutes=20,
        )


def test_database_refuses_a_window_that_does_not_hold_the_due_date() -> None:
    procedure = make_procedure()
    rule = FollowUpRule.objects.get(code="postop_control")
    Visit.objects.filter(procedure=procedure, rule=rule).delete()

    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(
            procedure=procedure,
            patient=procedure.patient,
            rule=rule,
            due_date=dt.date(2026, 11, 20),
            window_start=dt.date(2026, 11, 9),
            window_end=dt.date(2026, 11, 17),
            duration_minutes=20,
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_generations_create_one_set_of_visits() -> None:
    procedure = Procedure.objects.create(
        patient=PatientFactory.create(),
        surgeon=SurgeonFactory.create(),
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2026, 11, 2),
    )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def generate() -> None:
        try:
            barrier.wait(timeout=10)
            services.generate_visits(procedure_id=procedure.pk, today=TODAY)
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=generate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Visit.objects.filter(procedure=procedure).count() == 4
    assert VisitEvent.objects.filter(visit__procedure=procedure).count() == 4


def test_correcting_the_date_moves_unbooked_visits() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))
    postop = visits_by_rule(procedure)["postop_control", 1]

    result = services.correct_procedure(
        procedure_id=procedure.pk, surgery_date=dt.date(2026, 11, 5), today=TODAY
    )

    postop.refresh_from_db()
    assert postop.due_date == dt.date(2026, 11, 15)
    assert (postop.window_start, postop.window_end) == (
        dt.date(2026, 11, 12),
        dt.date(2026, 11, 20),
    )
    assert postop.status == VisitStatus.TO_BOOK
    assert sorted(result.moved) == sorted(
        visits_by_rule(procedure)[k].pk
        for k in [
            ("postop_control", 1),
            ("one_month_control", 1),
        ]
    )
    assert postop.events.filter(action="moved").count() == 1


def test_a_booked_visit_outside_its_new_window_is_flagged_never_moved() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))
    postop = book_directly(
        visits_by_rule(procedure)["postop_control", 1], dt.date(2026, 11, 10)
    )
    slot = (postop.start, postop.end)

    result = services.correct_procedure(
        procedure_id=procedure.pk, surgery_date=dt.date(2026, 11, 9), today=TODAY
    )

    postop.refresh_from_db()
    assert (postop.start, postop.end) == slot
    assert postop.status == VisitStatus.BOOKED
    assert postop.needs_rebooking
    assert postop.window_start == dt.date(2026, 11, 16)
    assert result.flagged == [postop.pk]
    event = postop.events.get(action="flagged_for_rebooking")
    assert event.start_before == event.start_after == slot[0]


def test_a_booked_visit_still_inside_its_new_window_keeps_its_slot_unflagged() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))
    postop = book_directly(
        visits_by_rule(procedure)["postop_control", 1], dt.date(2026, 11, 14)
    )

    services.correct_procedure(
        procedure_id=procedure.pk, surgery_date=dt.date(2026, 11, 4), today=TODAY
    )

    postop.refresh_from_db()
    assert not postop.needs_rebooking
    assert postop.status == VisitStatus.BOOKED
    assert postop.window_start == dt.date(2026, 11, 11)


def test_completed_visits_never_change_on_a_correction() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))
    postop = complete_directly(
        visits_by_rule(procedure)["postop_control", 1], dt.date(2026, 11, 12)
    )
    before = Visit.objects.values().get(pk=postop.pk)

    services.correct_procedure(
        procedure_id=procedure.pk,
        surgery_date=dt.date(2026, 10, 1),
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        today=TODAY,
    )

    assert Visit.objects.values().get(pk=postop.pk) == before
    assert not postop.events.exclude(action="generated").exists()


def test_kind_change_from_stem_cell_to_plain_cancels_open_annual_reviews() -> None:
    procedure = make_procedure(
        surgery_date=dt.date(2025, 11, 1), kind=ProcedureKind.ENDOSCOPIC_STEM_CELL
    )
    visits = visits_by_rule(procedure)
    year_one = complete_directly(visits["annual_mri_review", 1], dt.date(2026, 11, 2))

    result = services.correct_procedure(
        procedure_id=procedure.pk, kind=ProcedureKind.ENDOSCOPIC, today=TODAY
    )

    after = visits_by_rule(procedure)
    # Horizon 2028-11-25 holds years 1 to 3; year 1 was already done.
    later_years = [after["annual_mri_review", n] for n in (2, 3)]
    assert all(v.status == VisitStatus.CANCELLED for v in later_years)
    assert all(v.cancel_reason for v in later_years)
    assert sorted(result.cancelled) == sorted(v.pk for v in later_years)
    assert after["annual_mri_review", 1].status == VisitStatus.COMPLETED
    assert year_one.pk == after["annual_mri_review", 1].pk
    assert after["one_month_control", 1].status == VisitStatus.TO_BOOK


def test_changing_the_kind_back_reopens_the_reviews_the_correction_cancelled() -> None:
    procedure = make_procedure(kind=ProcedureKind.ENDOSCOPIC_STEM_CELL)
    services.correct_procedure(
        procedure_id=procedure.pk, kind=ProcedureKind.ENDOSCOPIC, today=TODAY
    )

    result = services.correct_procedure(
        procedure_id=procedure.pk, kind=ProcedureKind.ENDOSCOPIC_STEM_CELL, today=TODAY
    )

    assert len(result.reopened) == 2
    assert Visit.objects.filter(procedure=procedure, status="to_book").count() == 4


def test_entered_in_error_cancels_open_visits_and_keeps_completed_ones() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 10, 1))
    visits = visits_by_rule(procedure)
    complete_directly(visits["postop_control", 1], dt.date(2026, 10, 11))

    services.cancel_procedure(
        procedure_id=procedure.pk, reason="Wrong patient", entered_in_error=True
    )

    procedure.refresh_from_db()
    assert procedure.status == ProcedureStatus.ENTERED_IN_ERROR
    after = visits_by_rule(procedure)
    assert after["postop_control", 1].status == VisitStatus.COMPLETED
    month = after["one_month_control", 1]
    assert month.status == VisitStatus.CANCELLED
    assert month.cancel_reason == "Wrong patient"
    assert month.events.get(action="cancelled").reason == "Wrong patient"


def test_a_cancelled_procedure_cannot_be_corrected() -> None:
    procedure = make_procedure()
    services.cancel_procedure(procedure_id=procedure.pk, reason="Patient moved away")

    with pytest.raises(Conflict, match="cancelled; it can no longer be corrected"):
        services.correct_procedure(
            procedure_id=procedure.pk, surgery_date=dt.date(2026, 11, 3), today=TODAY
        )


def test_ending_the_annual_programme_cancels_the_open_reviews_after_it() -> None:
    procedure = make_procedure(
        surgery_date=dt.date(2026, 1, 10), kind=ProcedureKind.ENDOSCOPIC_STEM_CELL
    )

    services.end_annual_reviews(
        procedure_id=procedure.pk,
        end_date=dt.date(2027, 6, 30),
        reason="Disc fully recovered",
        today=TODAY,
    )

    after = visits_by_rule(procedure)
    assert after["annual_mri_review", 1].status == VisitStatus.TO_BOOK
    assert after["annual_mri_review", 2].status == VisitStatus.CANCELLED
    assert after["annual_mri_review", 2].cancel_reason == "Disc fully recovered"
    # The beat never brings an ended programme back.
    assert services.extend_annual_horizon(today=dt.date(2030, 1, 1)) == 0


def test_the_daily_horizon_task_adds_year_three_once_and_only_once() -> None:
    procedure = make_procedure(
        surgery_date=dt.date(2026, 1, 10), kind=ProcedureKind.ENDOSCOPIC_STEM_CELL
    )
    assert ("annual_mri_review", 3) not in visits_by_rule(procedure)

    assert services.extend_annual_horizon(today=dt.date(2027, 1, 9)) == 0
    assert services.extend_annual_horizon(today=dt.date(2027, 1, 10)) == 1
    assert services.extend_annual_horizon(today=dt.date(2027, 1, 10)) == 0

    year_three = visits_by_rule(procedure)["annual_mri_review", 3]
    assert year_three.due_date == dt.date(2029, 1, 10)


def test_the_horizon_task_runs_as_a_celery_task_function() -> None:
    make_procedure(
        surgery_date=dt.date(2024, 1, 10), kind=ProcedureKind.ENDOSCOPIC_STEM_CELL
    )

    # Called directly (no worker): today's horizon is already generated.
    assert extend_annual_review_horizon() == 0


def test_editing_a_rule_changes_no_visit_until_a_replan_is_asked_for() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))
    FollowUpRule.objects.filter(code="postop_control").update(window_days_after=9)

    services.generate_visits(procedure_id=procedure.pk, today=TODAY)
    services.extend_annual_horizon(today=TODAY)
    assert visits_by_rule(procedure)["postop_control", 1].window_end == dt.date(
        2026, 11, 17
    )

    services.replan_all(today=TODAY, procedure_ids=[procedure.pk])
    assert visits_by_rule(procedure)["postop_control", 1].window_end == dt.date(
        2026, 11, 21
    )


# --- bad input: a domain error a person can act on, and nothing written -----


def counts() -> tuple[int, int, int]:
    return (Patient.objects.count(), Procedure.objects.count(), Visit.objects.count())


@pytest.mark.parametrize(
    ("surgery_date", "message"),
    [
        (dt.date(2031, 11, 2), "more than 365 days ahead"),
        (dt.date(1960, 1, 1), "before the patient's birth date"),
    ],
)
def test_bad_procedure_input_is_refused_with_a_message_and_writes_nothing(
    surgery_date: dt.date, message: str
) -> None:
    patient, surgeon = PatientFactory.create(), SurgeonFactory.create()
    before = counts()

    with pytest.raises(InvalidInput, match=message):
        services.create_procedure(
            patient=patient,
            surgeon=surgeon,
            kind=ProcedureKind.ENDOSCOPIC,
            surgery_date=surgery_date,
            today=TODAY,
        )

    assert counts() == before


@pytest.mark.parametrize("typed", ["MRN-1", "Mrn-1"])
def test_a_duplicate_record_number_is_refused_and_writes_nothing(typed: str) -> None:
    PatientFactory.create(record_number="MRN-1")
    other = PatientFactory.create(record_number="MRN-2")
    before = counts()

    with pytest.raises(InvalidInput, match="record number MRN-1 already exists"):
        services.create_patient(
            record_number=typed,
            given_name="Other",
            family_name="Person",
            birth_date=dt.date(1980, 1, 1),
            today=TODAY,
        )
    with pytest.raises(InvalidInput, match="record number MRN-1 already exists"):
        services.correct_patient(patient_id=other.pk, today=TODAY, record_number=typed)

    assert counts() == before
    other.refresh_from_db()
    assert other.record_number == "MRN-2"


def test_a_record_number_typed_in_small_letters_is_kept_in_capitals() -> None:
    patient = services.create_patient(
        record_number="mrn-1",
        given_name="Lucia",
        family_name="Garcia",
        birth_date=dt.date(1970, 1, 1),
        today=TODAY,
    )

    patient.refresh_from_db()
    assert patient.record_number == "MRN-1"


def test_every_replan_change_raises_the_calendar_sequence() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))
    postop = book_directly(
        visits_by_rule(procedure)["postop_control", 1], dt.date(2026, 11, 10)
    )
    month = visits_by_rule(procedure)["one_month_control", 1]

    services.correct_procedure(
        procedure_id=procedure.pk, surgery_date=dt.date(2026, 11, 9), today=TODAY
    )
    services.cancel_procedure(procedure_id=procedure.pk, reason="Patient moved away")

    postop.refresh_from_db()
    month.refresh_from_db()
    # Flagged, then cancelled: a calendar must replace its copy each time.
    assert postop.sequence == month.sequence == 2
    assert postop.status == month.status == VisitStatus.CANCELLED


def test_correcting_a_patients_name_republishes_their_visits() -> None:
    procedure = make_procedure()
    before = {v.pk: v.sequence for v in Visit.objects.filter(procedure=procedure)}

    services.correct_patient(
        patient_id=procedure.patient_id, today=TODAY, family_name="Garcia-Lopez"
    )

    after = {v.pk: v.sequence for v in Visit.objects.filter(procedure=procedure)}
    assert after == {pk: seq + 1 for pk, seq in before.items()}
    entries = CalendarEntry.objects.filter(visit_id__in=before)
    assert entries.count() == len(before)
    assert set(entries.values_list("export_state", flat=True)) <= {
        "pending",
        "nothing_to_push",
    }


def test_correcting_only_the_birth_date_changes_no_calendar() -> None:
    procedure = make_procedure()
    before = list(
        Visit.objects.filter(procedure=procedure).values_list("sequence", flat=True)
    )

    services.correct_patient(
        patient_id=procedure.patient_id, today=TODAY, birth_date=dt.date(1971, 5, 17)
    )

    assert (
        list(
            Visit.objects.filter(procedure=procedure).values_list("sequence", flat=True)
        )
        == before
    )


def test_a_birth_date_after_the_patients_surgery_is_refused() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 11, 2))

    with pytest.raises(InvalidInput, match="is after the patient's surgery on"):
        services.correct_patient(
            patient_id=procedure.patient_id,
            today=TODAY,
            birth_date=dt.date(2026, 11, 10),
        )

    procedure.patient.refresh_from_db()
    assert procedure.patient.birth_date == dt.date(1970, 5, 17)


def test_cancelling_a_procedure_with_every_visit_done_still_updates_the_feeds() -> None:
    procedure = make_procedure(surgery_date=dt.date(2026, 10, 1))
    visits = visits_by_rule(procedure)
    complete_directly(visits["postop_control", 1], dt.date(2026, 10, 11))
    complete_directly(visits["one_month_control", 1], dt.date(2026, 11, 2))
    key = feed_key("patient", procedure.patient_id)
    before = FeedVersion.objects.get(key=key).version

    services.cancel_procedure(procedure_id=procedure.pk, reason="Entered twice")

    # The patient's feed drops the procedure's milestones: a new version.
    assert FeedVersion.objects.get(key=key).version > before
