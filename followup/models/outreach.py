"""Contact attempts on a visit: the call list's record.

The note is staff-only: it never reaches a feed, a CalDAV event or a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import (
    Count,
    IntegerField,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from followup.models.authorship import actor_name_of

if TYPE_CHECKING:
    pass


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"
    IN_PERSON = "in_person", "In person"


class ContactOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    WILL_BOOK = "will_book", "Will book"
    CALL_BACK_LATER = "call_back_later", "Call back later"
    DECLINED = "declined", "Declined this follow-up"
    MOVED_AWAY = "moved_away", "Moved away"
    DECEASED = "deceased", "Deceased"


# Attempts that did not reach the patient; enough of them in a row make the
# visit unreachable. Any other outcome reached someone and ends the row.
UNSUCCESSFUL_OUTCOMES = (
    ContactOutcome.NO_ANSWER,
    ContactOutcome.LEFT_MESSAGE,
    ContactOutcome.WRONG_NUMBER,
)
# How close a window's end brings a visit still to book onto the call list.
CALL_LIST_DAYS = 7


def count_of(rows: models.QuerySet) -> Coalesce:
    """The number of `rows` (correlated with the outer query) as a subquery."""
    counted = rows.order_by().values("visit_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class ContactAttempt(models.Model):
    """One try to reach a patient about a visit, and what came of it.

    Written only by `followup.services.outreach`. The note is staff-only: it
    is never copied to the visit or its history, so no calendar, feed or
    CalDAV event can show it, and it is never logged.
    """

    visit = models.ForeignKey(
        "followup.Visit", on_delete=models.CASCADE, related_name="contact_attempts"
    )
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=20, choices=ContactOutcome.choices)
    note = models.TextField(
        blank=True, help_text="Staff-only: never in a calendar, a feed or a log."
    )
    call_back_on = models.DateField(
        null=True, blank=True, help_text="Call back from this date (call back later)."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept when the account is deleted, which empties `actor`.
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    at = models.DateTimeField()

    class Meta:
        # The order the attempts were recorded in ("in a row" follows it).
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=ContactChannel.values),
                name="contact_attempt_channel_known",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=ContactOutcome.values),
                name="contact_attempt_outcome_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    outcome=ContactOutcome.CALL_BACK_LATER, call_back_on__isnull=False
                )
                | (
                    ~Q(outcome=ContactOutcome.CALL_BACK_LATER)
                    & Q(call_back_on__isnull=True)
                ),
                name="contact_attempt_call_back_date_with_call_back_only",
            ),
        ]

    def __str__(self) -> str:
        # Never the note: this string reaches the admin and log lines.
        return f"{self.get_channel_display()}: {self.get_outcome_display()}"

    @property
    def actor_name(self) -> str | None:
        """Who recorded it, even once their account is deleted."""
        return actor_name_of(self.actor_username, self.actor)
