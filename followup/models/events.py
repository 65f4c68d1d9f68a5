"""A visit's history: one `VisitEvent` per change, written only by
`followup.services.history.record_event` (and the plan's bulk writes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from followup.models.authorship import actor_name_of

# An unbooking the patient asked for themselves (SPEC section 8): the event's
# `details["reason"]`. It puts the visit on the call list.
PATIENT_REQUEST = "patient_request"


class VisitEvent(models.Model):
    """One change of a visit: its history and the audit trail."""

    visit = models.ForeignKey(
        "followup.Visit", on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the system made the change (generation, beat task).",
    )
    # Kept when the account is deleted, which empties `actor`.
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=500, blank=True)
    start_before = models.DateTimeField(null=True, blank=True)
    end_before = models.DateTimeField(null=True, blank=True)
    start_after = models.DateTimeField(null=True, blank=True)
    end_after = models.DateTimeField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        # The order the changes were made in; `at` is the caller's clock.
        ordering = ["id"]
        indexes = [models.Index(fields=["visit", "at"])]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status or '-'} -> {self.to_status}"

    @property
    def actor_name(self) -> str | None:
        """Who made the change, even once their account is deleted; None: the
        system."""
        return actor_name_of(self.actor_username, self.actor)
