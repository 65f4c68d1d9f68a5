"""The follow-up figures (followup/reports.py) over a hand-built history.

The history and every expected figure, computed by hand, are in
tests/followup/report_history.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from clinic.models import Surgeon
from followup.models import Visit
from followup.reports import follow_up_report
from tests.followup.report_history import (
    FROM,
    ROW_A,
    ROW_B,
    TO,
    TOTALS,
    History,
    build_history,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> History:
    return build_history(desk=desk, surgeon_a=surgeon_a, surgeon_b=surgeon_b)


def figures_of(row: dict[str, object]) -> dict[str, object]:
    return {
        k: v
        for k, v in row.items()
        if k not in ("rule", "rule_name", "surgeon", "surgeon_name")
    }


def test_every_figure_of_the_hand_built_history(history: History) -> None:
    report = follow_up_report(
        visits=Visit.objects.all(), start=FROM, end=TO, providers=()
    ).as_dict()

    assert report["from"] == "2026-10-01"
    assert report["to"] == "2026-10-16"
    assert [(r["rule"], r["surgeon"]) for r in report["rows"]] == [
        ("postop_control", history.surgeon_a.pk),
        ("postop_control", history.surgeon_b.pk),
    ]
    assert figures_of(report["rows"][0]) == ROW_A
    assert figures_of(report["rows"][1]) == ROW_B
    assert report["totals"] == TOTALS


def test_the_report_is_three_queries(
    history: History, django_assert_num_queries: Any
) -> None:
    # The grouped counts, the booking delays, the surgeons' names.
    with django_assert_num_queries(3):
        follow_up_report(visits=Visit.objects.all(), start=FROM, end=TO, providers=())
