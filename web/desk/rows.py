"""The desk's presentation: a tab, a page. Its rows are the visit rows
every list shares (`web.visit_rows`). The reads that choose the visits are
`VisitQuerySet`'s (`followup.models.worklist`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from django.urls import reverse

from clinic.models import Patient
from clinic.roles import Staff
from followup.models import worklist
from followup.models.worklist import CALL, TODAY, Bucket

if TYPE_CHECKING:
    from web.desk.state import DeskState

PAGE_SIZE = 50
# Patients a search lists by name above the visits, then says there are more.
PATIENTS_SHOWN = 10

BUCKET_LABELS = {
    Bucket.ALL: "All",
    Bucket.OPEN: "Window open",
    Bucket.CLOSING: f"Closing ≤ {worklist.CLOSING_DAYS} days",
    Bucket.OVERDUE: "Overdue",
    Bucket.NOT_OPEN: "Not yet open",
    Bucket.REBOOKING: "Needs rebooking",
}
CALL_LABEL = "Call list"


def count_text(count: int) -> str:
    """A count as a tab shows it: "1,000+" once past the cap."""
    cap = worklist.COUNT_CAP
    return f"{cap:,}+" if count > cap else str(count)


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    count: int
    url: str
    current: bool

    @property
    def count_text(self) -> str:
        return count_text(self.count)


def tab_labels() -> dict[str, str]:
    # Today first: a list of its own, set apart from the buckets to book; the
    # call list last, the patients to phone rather than to book.
    labels: dict[str, str] = {TODAY: "Today"}
    labels.update({str(key): label for key, label in BUCKET_LABELS.items()})
    labels[CALL] = CALL_LABEL
    return labels


REPLIES = "replies"
REPLIES_LABEL = "Replies"


def tabs(
    state: DeskState, counts: dict[str, int], *, replies: int, on_replies: bool = False
) -> list[Tab]:
    """The worklist's tabs: its lists of visits, then *Replies* (its own
    page, `web.replies`), with `replies` open ones."""
    shown = [
        Tab(key, label, counts[key], state.tab_url(key), state.tab == key)
        for key, label in tab_labels().items()
    ]
    if on_replies:
        shown = [replace(tab, current=False) for tab in shown]
    return [
        *shown,
        Tab(REPLIES, REPLIES_LABEL, replies, reverse("desk-replies"), on_replies),
    ]


@dataclass(frozen=True)
class Page:
    """A page of a tab. `count` is exact up to `worklist.COUNT_CAP`; above
    it, it is exact only when a page past the cap was asked for (see `page_of`)."""

    number: int
    count: int
    size: int = PAGE_SIZE
    exact: bool = True

    @property
    def count_text(self) -> str:
        return str(self.count) if self.exact else count_text(self.count)

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_item(self) -> int:
        return self.offset + 1 if self.count else 0

    @property
    def last_item(self) -> int:
        return min(self.offset + self.size, self.count)

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_of(number: int, count: int) -> Page:
    """The page asked for, within the pages there are; the count is the tab's,
    already known from `counts`, so paging costs no query of its own. A
    capped count (`COUNT_CAP + 1`) is replaced by the exact one beforehand
    only for a page past the cap (`needs_exact_count`)."""
    last = Page(1, count, size=PAGE_SIZE).pages
    return Page(
        min(max(number, 1), last),
        count,
        size=PAGE_SIZE,
        exact=count <= worklist.COUNT_CAP,
    )


def exact_page_of(number: int, count: int) -> Page:
    return replace(page_of(number, count), exact=True)


def needs_exact_count(number: int, count: int) -> bool:
    """Whether page `number` lies past what a capped `count` vouches for."""
    cap = worklist.COUNT_CAP
    return count > cap and (number - 1) * PAGE_SIZE >= cap


def patients_found(staff: Staff, matching: list[int]) -> list[Patient]:
    """The patients a search found (`matching`: their ids, from
    `worklist.matching_patients`), whatever their visits: the one who has
    nothing to book is opened from here. `PATIENTS_SHOWN` and one more, to
    tell that there are more."""
    if not matching:
        return []
    # In name order already: whoever sees everyone sees the first ones.
    shown = matching[: PATIENTS_SHOWN + 1] if staff.sees_everything else matching
    found = Patient.objects.visible_to(staff).filter(pk__in=shown)
    ordered = found.order_by("family_name", "given_name", "record_number")
    return list(ordered[: PATIENTS_SHOWN + 1])
