"""`manage.py export_status`: the export backlog per surgeon, as a table and
as JSON."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic.models import Surgeon
from feeds.models import CalendarEntry, ExportState
from tests.factories import SurgeonFactory, make_procedure

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_status", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def backlog() -> tuple[Surgeon, Surgeon]:
    """Ana: two pending (the oldest 2 h 5 min) and one failed. Bruno:
    everything exported. Carla: no visit at all."""
    ana = SurgeonFactory.create(given_name="Ana", family_name="Alvarez")
    bruno = SurgeonFactory.create(given_name="Bruno", family_name="Blanco")
    SurgeonFactory.create(given_name="Carla", family_name="Castro")
    make_procedure(surgeon=ana)
    make_procedure(surgeon=ana)
    make_procedure(surgeon=bruno)
    CalendarEntry.objects.update(export_state=ExportState.EXPORTED)
    ids = list(
        CalendarEntry.objects.filter(visit__procedure__surgeon=ana)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    CalendarEntry.objects.filter(pk=ids[0]).update(export_state=ExportState.FAILED)
    CalendarEntry.objects.filter(pk=ids[1]).update(
        export_state=ExportState.PENDING,
        pending_since=now - dt.timedelta(hours=2, minutes=5, seconds=10),
    )
    CalendarEntry.objects.filter(pk=ids[2]).update(
        export_state=ExportState.PENDING, pending_since=now - dt.timedelta(minutes=3)
    )
    return ana, bruno


def test_the_table_lists_each_surgeon_with_a_backlog(
    backlog: tuple[Surgeon, Surgeon],
) -> None:
    ana, _ = backlog

    lines = run().splitlines()

    assert lines[0].split() == ["surgeon", "pending", "failed", "oldest", "pending"]
    assert lines[1].split() == [
        "Dr.", "Ana", "Alvarez", f"(#{ana.pk})", "2", "1", "2h", "05m",
    ]  # fmt: skip
    assert lines[2].split() == ["total", "2", "1", "2h", "05m"]
    assert len(lines) == 3  # Bruno (all exported) and Carla (nothing) left out


def test_json_gives_the_same_figures_in_seconds(
    backlog: tuple[Surgeon, Surgeon],
) -> None:
    ana, _ = backlog

    document = json.loads(run("--json"))

    [row] = document["surgeons"]
    assert row["surgeon_id"] == ana.pk
    assert row["surgeon"] == "Dr. Ana Alvarez"
    assert (row["pending"], row["failed"]) == (2, 1)
    assert 7510 <= row["oldest_pending_age_seconds"] < 7570
    assert (document["pending"], document["failed"]) == (2, 1)
    assert document["oldest_pending_age_seconds"] == row["oldest_pending_age_seconds"]


def test_nothing_waiting_prints_zero_totals() -> None:
    assert run().splitlines()[1].split() == ["total", "0", "0", "-"]
    assert json.loads(run("--json")) == {
        "surgeons": [],
        "pending": 0,
        "failed": 0,
        "oldest_pending_age_seconds": None,
    }
