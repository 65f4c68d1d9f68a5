"""Ending an annual programme may end its overdue review too (issue 19, D10).

A stem-cell implant on 1 October 2025 has its first annual review due on 1
October 2026, window closed on 31 October; "now" is 25 November 2026. The
programme ends today: the review was due before, so the plan keeps it,
overdue, unless the surgeon says it ends too.
"""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import ProcedureKind
from followup import services
from followup.models import Visit, VisitStatus
from tests.factories import make_procedure
from tests.followup.world import NOW

pytestmark = pytest.mark.django_db
TODAY = NOW.date()


def overdue_review() -> Visit:
    procedure = make_procedure(
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2025, 10, 1),
        today=TODAY,
    )
    review = Visit.objects.get(
        procedure=procedure, rule__code="annual_mri_review", occurrence=1
    )
    assert review.is_overdue(TODAY)
    return review


@pytest.mark.parametrize("end_overdue", [True, False])
def test_the_overdue_review_ends_only_when_asked(end_overdue: bool) -> None:
    review = overdue_review()

    result = services.end_annual_reviews(
        procedure_id=review.procedure_id,
        end_date=TODAY,
        reason="Healed",
        today=TODAY,
        end_overdue=end_overdue,
    )

    review.refresh_from_db()
    if end_overdue:
        assert (review.status, review.cancelled_by) == (
            VisitStatus.CANCELLED,
            "programme_ended",
        )
        assert review.pk in result.cancelled
        assert review.events.latest("pk").reason == "Healed"
    else:
        assert review.status == VisitStatus.TO_BOOK
        assert review.pk not in result.cancelled
    # Either way the controls after surgery, also overdue, stay.
    controls = Visit.objects.filter(
        procedure_id=review.procedure_id, rule__requires_mri=False
    )
    assert {v.status for v in controls} == {VisitStatus.TO_BOOK}
