"""See before you change: a correction's dry run writes nothing and tells
exactly what the correction then does (issue "Nobody lost to follow-up").

The property: for any surgery date and kind, the preview's visit ids per
action, and the dates it announces, are what `correct_procedure` then does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import hypothesis
import pytest
from django.db import transaction
from hypothesis import HealthCheck
from hypothesis import strategies as st

from clinic.models import ProcedureKind
from feeds.models import CalendarEntry, FeedVersion
from followup import services
from followup.models import Visit, VisitEvent
from tests.factories import TODAY, make_procedure
from tests.followup.world import madrid

pytestmark = pytest.mark.django_db
SURGERY = dt.date(2026, 10, 20)
# The results of a correction, by the preview's names for them.
RESULT_NAMES = {
    "created": "created",
    "moved": "moved",
    "flagged_for_rebooking": "flagged",
    "cancelled": "cancelled",
    "reopened": "reopened",
}


def everything() -> tuple[object, ...]:
    """What 'writes nothing' means: every row a correction could touch."""
    return (
        list(Visit.objects.order_by("pk").values()),
        VisitEvent.objects.count(),
        list(FeedVersion.objects.order_by("pk").values_list("key", "version")),
        list(CalendarEntry.objects.order_by("pk").values_list("pk", "export_state")),
    )


def stem_cell_with_history(front_desk: object) -> int:
    """A stem-cell procedure whose post-op control was seen and whose
    one-month control is booked: corrections move, flag, create, cancel."""
    procedure = make_procedure(
        surgery_date=SURGERY, kind=ProcedureKind.ENDOSCOPIC_STEM_CELL
    )
    postop = procedure.visits.get(rule__code="postop_control")
    monthly = procedure.visits.get(rule__code="one_month_control")
    seen = madrid(2026, 10, 28, 9)
    services.book_visit(
        visit_id=postop.pk,
        start=seen,
        surgeon_id=procedure.surgeon_id,
        actor=None,
        now=seen - dt.timedelta(days=2),
    )
    services.check_in_visit(visit_id=postop.pk, actor=None, now=seen)
    services.complete_visit(visit_id=postop.pk, actor=None, now=seen)
    services.book_visit(
        visit_id=monthly.pk,
        start=madrid(2026, 11, 20, 9),
        surgeon_id=procedure.surgeon_id,
        actor=None,
        now=seen,
    )
    return procedure.pk


def test_a_dry_run_writes_nothing(front_desk: object) -> None:
    procedure_id = stem_cell_with_history(front_desk)
    before = everything()

    preview = services.preview_correction(
        procedure_id=procedure_id,
        today=TODAY,
        surgery_date=dt.date(2026, 9, 1),
        kind=ProcedureKind.ENDOSCOPIC,
    )

    assert {item.action for item in preview} >= {"cancelled", "unchanged"}
    assert everything() == before


@hypothesis.settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    surgery=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 6, 30)),
    kind=st.sampled_from(list(ProcedureKind)),
)
def test_the_dry_run_is_what_the_correction_then_does(
    surgery: dt.date, kind: ProcedureKind, front_desk: object
) -> None:
    with transaction.atomic():
        procedure_id = stem_cell_with_history(front_desk)
        preview = services.preview_correction(
            procedure_id=procedure_id, today=TODAY, surgery_date=surgery, kind=kind
        )
        result = services.correct_procedure(
            procedure_id=procedure_id, today=TODAY, surgery_date=surgery, kind=kind
        )

        done = result.as_dict()
        for action, name in RESULT_NAMES.items():
            announced = [i for i in preview if i.action == action]
            if action == "created":
                assert len(announced) == len(done[name])
            else:
                assert sorted(i.visit_id or 0 for i in announced) == sorted(done[name])
        visits = {v.pk: v for v in Visit.objects.filter(procedure_id=procedure_id)}
        created = [visits[pk] for pk in done["created"]]
        assert sorted(
            (i.rule, i.occurrence, dataclasses.astuple(i.after))
            for i in preview
            if i.action == "created" and i.after is not None
        ) == sorted(
            (v.rule.code, v.occurrence, (v.due_date, v.window_start, v.window_end))
            for v in created
        )
        for item in preview:
            if item.visit_id is None or item.after is None:
                continue
            row = visits[item.visit_id]
            assert (row.due_date, row.window_start, row.window_end) == (
                item.after.due_date,
                item.after.window_start,
                item.after.window_end,
            )
        transaction.set_rollback(True)
