"""What the desk reads of a visit's booking link: the live one's age, who
made it and how often the patient opened it, or why the visit has none.

Never the token, which is not stored (only its hash): a desk that needs the
address again makes a new link. The states of many visits are read in one
query (`states_of`), the page views counted in SQL from the audit trail
(`BookingLinkUse`), so a page of 500 visits costs what a page of 5 does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Max, Q

from booking_links.models import (
    DAYS_AFTER_WINDOW,
    ENDED_STATUSES,
    BookingLink,
    LinkUse,
    last_linkable_day,
    may_have_link,
)
from followup.models import Visit, VisitStatus

_VIEWED = Q(uses__what=LinkUse.VIEWED)


@dataclass(frozen=True)
class LinkState:
    """A visit's booking link as the desk sees it: `link`, its open link
    (none yet when None); `ended`, why it no longer works ("" while it may)."""

    visit_id: int
    link: BookingLink | None = None
    opened: int = 0  # page views
    last_opened: dt.datetime | None = None
    ended: str = ""
    ended_at: dt.datetime | dt.date | None = None  # when known

    @property
    def may_link(self) -> bool:
        """Whether a new link may be made for the visit now."""
        return not self.ended

    @property
    def live(self) -> bool:
        return self.link is not None and not self.ended

    @property
    def made_by(self) -> str:
        """Who made the link: a person, else the clinic's system (a message
        carrying the link, or the `booking_link` command)."""
        user = self.link.created_by if self.link is not None else None
        if user is None:
            return "automatically"
        return f"by {user.get_full_name() or user.get_username()}"


def why_ended(visit: Visit, today: dt.date) -> tuple[str, dt.date | None]:
    """Why `visit` may have no live link on `today`, and from which day when
    the visit alone says it; ("", None) when it may have one."""
    if may_have_link(visit, today):
        return "", None
    if visit.status in ENDED_STATUSES:
        return f"the visit is {VisitStatus(visit.status).label.lower()}", None
    ended_on = last_linkable_day(visit) + dt.timedelta(days=1)
    return f"{DAYS_AFTER_WINDOW} days past the visit's window", ended_on


def states_of(visits: Iterable[Visit], *, today: dt.date) -> dict[int, LinkState]:
    """Each visit's link state on `today`, by visit id, in one query."""
    visits = list(visits)
    links = (
        BookingLink.objects.filter(visit_id__in=[v.pk for v in visits], ended_at=None)
        .select_related("created_by")
        .annotate(opened=Count("uses", filter=_VIEWED))
        .annotate(last_opened=Max("uses__at", filter=_VIEWED))
        .order_by()
    )
    open_links = {link.visit_id: link for link in links} if visits else {}
    states = {}
    for visit in visits:
        link = open_links.get(visit.pk)
        ended, ended_on = why_ended(visit, today)
        states[visit.pk] = LinkState(
            visit_id=visit.pk,
            link=link,
            opened=getattr(link, "opened", 0),
            last_opened=getattr(link, "last_opened", None),
            ended=ended,
            ended_at=ended_on,
        )
    return states
