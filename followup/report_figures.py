"""Figures other apps add to the follow-up report: the one seam upwards.

The report (`followup.reports`) owns the cohort and the rows; an app that
knows something about the cohort's visits (the messages sent to their
patients, the bookings made through links) registers a `FigureProvider`
once, in its `AppConfig.ready`, as `followup.changes` handlers are: follow-up
never imports it. The API, its CSV and the `/reports/` page then carry the
provider's figures after follow-up's own, with its definitions in words.

A provider gets a `ReportScope`: the report's cohort (already scoped to the
reader and narrowed by rule and surgeon, each visit annotated with
`row_surgeon`) and its dates. It answers `ProvidedFigures`: named values for
the totals and for each row, a row keyed by (rule code, surgeon id). A value
is a count (int), a number (float), a `Rate` (a percentage and its 95 %
Wilson interval) or None (nothing to measure). A row the provider leaves
out gets None for each of its figures; a row the report does not have is
ignored. Totals are the provider's own, so a median can be a figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from followup.stats import Rate

if TYPE_CHECKING:
    from followup.models import VisitQuerySet

Value = int | float | Rate | None
RowKey = tuple[str, int]  # (rule code, surgeon id)
Kind = Literal["count", "number", "rate"]


@dataclass(frozen=True)
class FigureDefinition:
    """One figure: its name in the API and CSV, its label and meaning in
    plain words on the page, and what it is (a rate gets `<name>_ci_low`
    and `<name>_ci_high` beside it). `beside` names a figure the page shows
    it next to, for comparison (the call-based twin of a message-based
    rate)."""

    name: str
    label: str
    meaning: str
    kind: Kind = "rate"
    beside: str = ""


@dataclass(frozen=True)
class ReportScope:
    cohort: VisitQuerySet
    start: dt.date
    end: dt.date


@dataclass
class ProvidedFigures:
    totals: dict[str, Value] = field(default_factory=dict)
    rows: dict[RowKey, dict[str, Value]] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureProvider:
    """A section of the report: its heading, its figures in order, and the
    function that measures them."""

    key: str
    title: str
    figures: tuple[FigureDefinition, ...]
    measure: Callable[[ReportScope], ProvidedFigures]

    def names(self) -> list[str]:
        return [figure.name for figure in self.figures]


_providers: dict[str, FigureProvider] = {}


def register(provider: FigureProvider) -> None:
    """Add `provider`'s figures to every report; registering a key again
    replaces the provider (a reload), it never adds a second section."""
    _providers[provider.key] = provider


def registered() -> list[FigureProvider]:
    """The providers in registration order."""
    return list(_providers.values())


def unregister(key: str) -> None:
    _providers.pop(key, None)


def columns(definitions: Iterable[FigureDefinition]) -> list[str]:
    """The flat names the API and CSV carry: a rate's interval beside it."""
    out: list[str] = []
    for figure in definitions:
        out.append(figure.name)
        if figure.kind == "rate":
            out += [f"{figure.name}_ci_low", f"{figure.name}_ci_high"]
    return out


def flatten(
    definitions: Iterable[FigureDefinition], values: Mapping[str, Value]
) -> dict[str, int | float | None]:
    """`values` as the API and CSV carry them (`columns`): a `Rate` as its
    percentage and its interval's bounds."""
    out: dict[str, int | float | None] = {}
    for figure in definitions:
        value = values.get(figure.name)
        if figure.kind != "rate":
            out[figure.name] = None if isinstance(value, Rate) else value
            continue
        rate = value if isinstance(value, Rate) else None
        out[figure.name] = rate.pct if rate else None
        out[f"{figure.name}_ci_low"] = rate.ci_low if rate else None
        out[f"{figure.name}_ci_high"] = rate.ci_high if rate else None
    return out
