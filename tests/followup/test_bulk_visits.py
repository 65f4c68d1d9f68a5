"""`bulk_create_visits`, the one insert path of generation and the CSV import."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from clinic.models import Procedure, ProcedureKind
from feeds.models import CalendarEntry, ExportState, FeedVersion
from followup import rules
from followup.models import FollowUpRule, Visit, VisitEvent, plan_input
from followup.services import bulk_create_visits
from followup.services.plan import horizon, new_visit
from tests.factories import TODAY, PatientFactory, SurgeonFactory, UserFactory

pytestmark = pytest.mark.django_db


def planned_visits(procedure: Procedure) -> list[Visit]:
    """The visits a create would generate, built but not saved."""
    rule_rows = {rule.code: rule for rule in FollowUpRule.objects.active()}
    return [
        new_visit(procedure, rule_rows[planned.rule_code], planned)
        for planned in rules.plan(
            plan_input(procedure),
            [rule.as_spec() for rule in rule_rows.values()],
            horizon=horizon(TODAY),
        )
    ]


def bare_procedure(**fields: object) -> Procedure:
    # Saved directly so that no visit exists yet.
    return Procedure.objects.create(
        patient=PatientFactory.create(),
        surgeon=SurgeonFactory.create(),
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2024, 1, 31),
        **fields,
    )


def test_bulk_created_visits_carry_the_ids_and_values_of_their_rows() -> None:
    procedure = bare_procedure()
    built = planned_visits(procedure)

    created = bulk_create_visits(built, actor=None)

    assert [v.pk for v in created] == sorted(v.pk for v in created)
    stored = {v.pk: v for v in Visit.objects.filter(procedure=procedure)}
    assert set(stored) == {v.pk for v in created}
    for visit in created:
        row = stored[visit.pk]
        assert not visit._state.adding
        assert (row.rule_id, row.occurrence, row.due_date) == (
            visit.rule_id,
            visit.occurrence,
            visit.due_date,
        )
        assert (row.window_start, row.window_end) == (
            visit.window_start,
            visit.window_end,
        )
        assert (row.status, row.sequence, row.surgeon_id, row.patient_id) == (
            "to_book",
            0,
            procedure.surgeon_id,
            procedure.patient_id,
        )
        assert row.requires_mri is visit.requires_mri
        assert (row.created_at, row.updated_at) == (
            visit.created_at,
            visit.updated_at,
        )
        assert row.created_at is not None


def test_each_bulk_created_visit_gets_one_event_with_actor_and_due_date() -> None:
    clerk = UserFactory.create()
    created = bulk_create_visits(
        planned_visits(bare_procedure()), actor=clerk, action="generated"
    )

    events = VisitEvent.objects.filter(visit__in=created)

    assert sorted(e.visit_id for e in events) == [v.pk for v in created]
    due = {v.pk: v.due_date.isoformat() for v in created}
    for event in events:
        assert (event.actor_id, event.action, event.from_status) == (
            clerk.pk,
            "generated",
            "",
        )
        assert event.to_status == "to_book"
        assert event.details == {"due_date": due[event.visit_id]}
        assert event.at is not None


def test_bulk_created_visits_reach_the_calendars_in_the_same_transaction() -> None:
    procedure = bare_procedure()

    created = bulk_create_visits(planned_visits(procedure), actor=None)

    entries = CalendarEntry.objects.filter(visit__in=created)
    assert set(entries.values_list("export_state", flat=True)) == {ExportState.PENDING}
    assert entries.count() == len(created)
    assert set(
        FeedVersion.objects.filter(version__gte=1).values_list("key", flat=True)
    ) >= {
        "clinic",
        f"patient:{procedure.patient_id}",
        f"surgeon:{procedure.surgeon_id}",
    }


def test_a_batch_with_one_duplicate_visit_writes_none_of_its_visits() -> None:
    procedure = bare_procedure()
    bulk_create_visits(planned_visits(procedure)[:1], actor=None)
    before = Visit.objects.count(), VisitEvent.objects.count()

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_create_visits(planned_visits(procedure), actor=None)

    assert (Visit.objects.count(), VisitEvent.objects.count()) == before


def test_bulk_create_of_no_visits_writes_nothing() -> None:
    assert bulk_create_visits([], actor=None) == []
    assert not Visit.objects.exists()
