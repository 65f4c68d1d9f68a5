"""A visit's booking link, and each use of it.

- `BookingLink`: one secret URL of a visit; only the token's SHA-256 is
  stored (`core.tokens`, like calendar links), with the random `nonce` the
  token is derived from (`core.tokens.derive_token`), so that the server can
  put the visit's live link in a message at send time without storing it.
  A link made before nonces has none: it still opens, it is not derivable.
  `ended_at` is set when a newer link is made for the visit, or when the
  patient's number is reported to reach someone else. The other
  ends (the visit completed or cancelled, or 60 days past its window) are
  read from the visit at every lookup (`BookingLinkQuerySet.live`), so no
  change of a visit can forget to end its link.
- `BookingLinkUse`: the audit trail of a link: each page view, booking,
  move, "I can't come", refusal and calendar download, with when.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from followup.models import Visit, VisitStatus

# A link stops working this many days after its visit's window closed.
DAYS_AFTER_WINDOW = 60
# A visit in one of these has nothing left to book: its link has ended.
ENDED_STATUSES = (VisitStatus.COMPLETED, VisitStatus.CANCELLED)


def last_linkable_day(visit: Visit) -> dt.date:
    """The last day a link of `visit` works, its status allowing."""
    return visit.window_end + dt.timedelta(days=DAYS_AFTER_WINDOW)


def may_have_link(visit: Visit, today: dt.date) -> bool:
    """Whether `visit` may have a live link on `today`: the rule `live`
    applies in SQL, for one visit read."""
    return visit.status not in ENDED_STATUSES and today <= last_linkable_day(visit)


class BookingLinkQuerySet(models.QuerySet["BookingLink"]):
    def live(self, today: dt.date) -> BookingLinkQuerySet:
        """Links that still work on `today`: not ended by a newer link, their
        visit neither completed nor cancelled nor 60 days past its window."""
        return self.filter(
            ended_at=None,
            visit__window_end__gte=today - dt.timedelta(days=DAYS_AFTER_WINDOW),
        ).exclude(visit__status__in=ENDED_STATUSES)


class BookingLink(models.Model):
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="booking_links"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The token is HMAC(SECRET_KEY, nonce); blank: a link that is not derivable.
    nonce = models.CharField(max_length=32, blank=True, default="", editable=False)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = BookingLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit"],
                condition=Q(ended_at=None),
                name="booking_link_one_open_per_visit",
            ),
        ]

    def __str__(self) -> str:
        return f"Booking link of visit {self.visit_id}"


class LinkUse(models.TextChoices):
    VIEWED = "viewed", "Page viewed"
    BOOKED = "booked", "Booked"
    MOVED = "moved", "Moved"
    GAVE_UP = "gave_up", "Gave the time up"
    REFUSED = "refused", "Refused"
    CALENDAR = "calendar", "Calendar downloaded"


class BookingLinkUse(models.Model):
    link = models.ForeignKey(BookingLink, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField()
    what = models.CharField(max_length=16, choices=LinkUse.choices)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_what_display()} at {self.at:%Y-%m-%d %H:%M}"
