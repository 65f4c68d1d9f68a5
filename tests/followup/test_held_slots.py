"""Held slots: a booked, checked-in or completed visit keeps its time.

A patient seen at 09:00 was seen at 09:00: completing the visit early must
not give 09:00 to someone else. The service's check gives the message; on
PostgreSQL the exclusion constraints (migration 0006) give the guarantee
even when the check is bypassed. A no-show frees its slot.
"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction

from followup import services
from followup.exceptions import Conflict
from followup.models import SLOT_HOLDING_STATUSES, Visit, VisitStatus
from followup.services import booking
from tests.factories import SurgeonFactory
from tests.followup.world import FRIDAY_9, book, other_postop, postop, snapshot

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module(
    "followup.migrations.0006_completed_visits_hold_their_slot"
)


def seen_early(desk: User, surgeon: User) -> Visit:
    """Booked at Friday 09:00, checked in at 08:40 and completed by 08:55."""
    visit = book(postop(), FRIDAY_9, actor=desk)
    services.check_in_visit(
        visit_id=visit.pk, actor=desk, now=FRIDAY_9 - dt.timedelta(minutes=20)
    )
    return services.complete_visit(
        visit_id=visit.pk, actor=surgeon, now=FRIDAY_9 - dt.timedelta(minutes=5)
    )


def test_the_migration_holds_the_same_statuses_as_the_model() -> None:
    assert tuple(str(s) for s in SLOT_HOLDING_STATUSES) == MIGRATION.HELD_STATUSES
    assert VisitStatus.COMPLETED in SLOT_HOLDING_STATUSES
    assert VisitStatus.NO_SHOW not in SLOT_HOLDING_STATUSES


def test_a_visit_completed_early_keeps_its_slot_from_the_surgeons_next_patient(
    front_desk: User,
) -> None:
    done = seen_early(front_desk, front_desk)
    visit = postop(surgeon=done.surgeon)
    before = snapshot(visit)

    with pytest.raises(Conflict, match=rf"is already booked .* \(visit {done.pk}\)"):
        book(visit, FRIDAY_9, actor=front_desk)

    assert snapshot(visit) == before
    offered = services.free_slots(visit=visit, now=FRIDAY_9 - dt.timedelta(hours=1))
    assert FRIDAY_9 not in {slot.start for slot in offered}
    assert offered[0].start == FRIDAY_9 + dt.timedelta(minutes=20)


def test_a_patients_completed_visit_keeps_its_slot_from_their_other_visits(
    front_desk: User,
) -> None:
    done = seen_early(front_desk, front_desk)
    other = other_postop(done.patient, surgeon=SurgeonFactory.create())
    before = snapshot(other)

    with pytest.raises(Conflict, match="The patient already has a visit") as err:
        book(other, FRIDAY_9, actor=front_desk)

    assert err.value.code == "slot_taken"
    assert snapshot(other) == before


@pytest.mark.postgres
@pytest.mark.parametrize("owner", ["surgeon", "patient"])
def test_the_database_alone_refuses_a_booking_over_a_completed_visit(
    owner: str, front_desk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = seen_early(front_desk, front_desk)
    visit = (
        postop(surgeon=done.surgeon)
        if owner == "surgeon"
        else other_postop(done.patient, surgeon=SurgeonFactory.create())
    )
    before = snapshot(visit)
    monkeypatch.setattr(booking, "check_free", lambda *args: None)

    with pytest.raises(Conflict, match="Someone booked an overlapping visit") as err:
        book(visit, FRIDAY_9 + dt.timedelta(minutes=10), actor=front_desk)

    assert err.value.code == "slot_taken"
    assert snapshot(visit) == before
    with (
        pytest.raises(IntegrityError, match=f"no_overlapping_bookings_per_{owner}"),
        transaction.atomic(),
    ):
        Visit.objects.filter(pk=visit.pk).update(
            status=VisitStatus.COMPLETED,
            start=FRIDAY_9,
            end=FRIDAY_9 + dt.timedelta(minutes=20),
            surgeon=visit.procedure.surgeon,
        )


def test_a_no_show_frees_its_slot_for_the_next_patient(front_desk: User) -> None:
    missed = book(postop(), FRIDAY_9, actor=front_desk)
    services.mark_no_show(visit_id=missed.pk, actor=front_desk, now=FRIDAY_9)
    visit = postop(surgeon=missed.surgeon)

    book(visit, FRIDAY_9, actor=front_desk, now=FRIDAY_9 - dt.timedelta(hours=1))

    assert Visit.objects.get(pk=visit.pk).start == FRIDAY_9


@pytest.mark.postgres
def test_the_migration_lists_overlapping_held_visits_and_changes_nothing(
    front_desk: User,
) -> None:
    """As before 0006: a completed visit gave its slot to a second booking."""
    with connection.schema_editor() as editor:
        MIGRATION.loosen(apps, editor)
    done = seen_early(front_desk, front_desk)
    second = postop(surgeon=done.surgeon)
    Visit.objects.filter(pk=second.pk).update(
        status=VisitStatus.BOOKED,
        start=FRIDAY_9,
        end=FRIDAY_9 + dt.timedelta(minutes=20),
        surgeon=done.surgeon,
    )
    rows = list(Visit.objects.order_by("pk").values_list("pk", "status", "start"))

    with (
        pytest.raises(MIGRATION.OverlappingBookings) as err,
        connection.schema_editor() as editor,
    ):
        MIGRATION.tighten(apps, editor)

    assert f"visits {done.pk} and {second.pk} (same surgeon)" in str(err.value)
    assert "Nothing was changed" in str(err.value)
    assert list(Visit.objects.order_by("pk").values_list("pk", "status", "start")) == (
        rows
    )
