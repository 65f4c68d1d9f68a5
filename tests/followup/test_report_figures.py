"""Other apps add figures to the follow-up report through
`followup.report_figures`, and follow-up never imports them.

The report is the hand-built history of tests/followup/report_history.py
(surgeon A's row: 10 visits, surgeon B's: 6; 16 in all).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db.models import Count

from clinic.models import Surgeon
from followup import report_figures, reports
from followup.models import Visit
from followup.report_figures import (
    FigureDefinition,
    FigureProvider,
    ProvidedFigures,
    ReportScope,
)
from followup.reports import follow_up_report
from followup.stats import Rate
from tests.followup.report_history import FROM, TO, History, build_history

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
seen: list[ReportScope] = []
# A tuple: the stubs cannot see the cohort's annotation by name.
ROW = ("rule__code", "row_surgeon")


def _measure(scope: ReportScope) -> ProvidedFigures:
    """The cohort's visits holding a time, by its own query; it answers for
    the busiest row only, and for a row the report does not have."""
    seen.append(scope)
    counted = (
        scope.cohort.filter(start__isnull=False)
        .order_by()
        .values_list(*ROW)
        .annotate(n=Count("pk"))
    )
    by_row = {(code, surgeon): n for code, surgeon, n in counted}
    busiest = max(by_row, key=by_row.__getitem__)
    total = sum(by_row.values())
    return ProvidedFigures(
        totals={"with_a_time": total, "pct_with_a_time": Rate(total, 16)},
        rows={
            busiest: {"with_a_time": by_row[busiest], "pct_with_a_time": Rate(6, 10)},
            ("no_such_rule", 0): {"with_a_time": 99},
        },
    )


PROVIDER = FigureProvider(
    key="test",
    title="Times",
    figures=(
        FigureDefinition(
            "with_a_time", "With a time", "visits with a slot.", kind="count"
        ),
        FigureDefinition("pct_with_a_time", "% with a time", "of the visits due."),
    ),
    measure=_measure,
)


@pytest.fixture
def history(desk: User, surgeon_a: Surgeon, surgeon_b: Surgeon) -> History:
    return build_history(desk=desk, surgeon_a=surgeon_a, surgeon_b=surgeon_b)


@pytest.fixture
def registered() -> Iterator[FigureProvider]:
    seen.clear()
    report_figures.register(PROVIDER)
    yield PROVIDER
    report_figures.unregister(PROVIDER.key)


def test_a_registered_provider_adds_its_figures_to_the_totals_and_each_row(
    history: History, registered: FigureProvider
) -> None:
    report = follow_up_report(visits=Visit.objects.all(), start=FROM, end=TO).as_dict()

    # A's row: 1, 2, 3, 7, 9, 14 hold a time; B's: 11, 12, 17, 18.
    assert {
        k: report["totals"][k] for k in report_figures.columns(PROVIDER.figures)
    } == {
        "with_a_time": 10,
        "pct_with_a_time": 62.5,
        "pct_with_a_time_ci_low": 38.6,
        "pct_with_a_time_ci_high": 81.5,
    }
    row_a, row_b = report["rows"]
    assert (row_a["with_a_time"], row_a["pct_with_a_time"]) == (6, 60.0)
    assert (row_a["pct_with_a_time_ci_low"], row_a["pct_with_a_time_ci_high"]) == (
        31.3,
        83.2,
    )
    # A row the provider left out: nothing measured, not zero.
    assert (row_b["with_a_time"], row_b["pct_with_a_time_ci_low"]) == (None, None)
    assert list(report["totals"])[-4:] == report_figures.columns(PROVIDER.figures)
    [scope] = seen
    assert (scope.start, scope.end, scope.cohort.count()) == (FROM, TO, 16)


def test_the_csv_carries_a_providers_figures_after_follow_ups_own(
    history: History, registered: FigureProvider
) -> None:
    report = follow_up_report(visits=Visit.objects.all(), start=FROM, end=TO)

    header, row_a, row_b, total = reports.csv_rows(report.as_dict())

    assert header[-4:] == [
        "with_a_time",
        "pct_with_a_time",
        "pct_with_a_time_ci_low",
        "pct_with_a_time_ci_high",
    ]
    assert header[4 : 4 + len(reports.COLUMNS)] == list(reports.COLUMNS)
    assert row_a[-4:] == [6, 60.0, 31.3, 83.2]
    assert row_b[-4:] == ["", "", "", ""]
    assert total[-4:] == [10, 62.5, 38.6, 81.5]


def test_registering_a_provider_again_replaces_it(
    history: History, registered: FigureProvider
) -> None:
    report_figures.register(PROVIDER)

    report = follow_up_report(visits=Visit.objects.all(), start=FROM, end=TO)

    assert [s.provider.key for s in report.sections].count("test") == 1
    assert len(seen) == 1


def test_a_report_asked_without_providers_measures_none(
    history: History, registered: FigureProvider
) -> None:
    report = follow_up_report(
        visits=Visit.objects.all(), start=FROM, end=TO, providers=()
    ).as_dict()

    assert "with_a_time" not in report["totals"]
    assert seen == []


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("app", "above"),
    [
        ("followup", {"messaging", "booking_links", "feeds", "web"}),
        ("booking_links", {"messaging", "web"}),
    ],
)
def test_an_app_never_imports_the_apps_built_on_it(app: str, above: set[str]) -> None:
    offending = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & above)
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and _imports(path) & above
    }

    assert offending == {}
