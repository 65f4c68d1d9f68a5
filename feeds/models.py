"""Calendar subscriptions, each visit's stored calendar entry, and its export.

- `CalendarLink`: one subscription URL; only the token's SHA-256 is stored.
- `CalendarEntry`: a visit's VEVENT, rendered once when the visit changes, and
  the record of its CalDAV export (the database, not the broker, says what is
  still to export).
- `FeedVersion`: bumped in the transaction of any change of a feed's visits;
  a feed's cache key and ETag derive from it.
- `SurgeonCalendar`: where a surgeon's entries are pushed over CalDAV.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.models import Patient, Surgeon
from feeds.secrets import EncryptedTextField, same_server, validate_caldav_url
from followup.models import Visit


class LinkScope(models.TextChoices):
    SURGEON = "surgeon", "A surgeon's booked visits"
    PATIENT = "patient", "A patient's visits, windows and milestones"
    CLINIC = "clinic", "Every booked visit of the clinic"


class CalendarLink(models.Model):
    scope = models.CharField(max_length=10, choices=LinkScope.choices)
    surgeon = models.ForeignKey(
        Surgeon, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The version row of this link's feed, and a copy of its stamp written in
    # the same transaction as every bump: a poll, a 304 included, is then
    # answered by one single-row lookup of the link (a join cost 40% more).
    feed = models.ForeignKey(
        "FeedVersion",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    feed_version = models.BigIntegerField(default=0, editable=False)
    feed_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="calendar_links",
    )
    # Whether the current URL was issued by a management command rather than
    # a person (set at creation and at each rotation). Said here, never
    # inferred from an empty `created_by`/`rotated_by`: those also become
    # empty when the person's account is deleted, and such a link is dead.
    issued_by_command = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept through rotations and revocation: when the link was last polled.
    last_used_at = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope=LinkScope.SURGEON, surgeon__isnull=False, patient=None)
                    | Q(scope=LinkScope.PATIENT, patient__isnull=False, surgeon=None)
                    | Q(scope=LinkScope.CLINIC, patient=None, surgeon=None)
                ),
                name="calendar_link_owner_matches_scope",
            ),
        ]

    def __str__(self) -> str:
        owner = self.surgeon or self.patient or "clinic"
        return f"{self.get_scope_display()} ({owner})"

    def get_additional_data(self) -> dict[str, int | None]:
        """Stored with each audit entry, so a patient's trail finds it."""
        return {"patient_id": self.patient_id}


class ExportState(models.TextChoices):
    PENDING = "pending", "Pending"
    EXPORTED = "exported", "Exported"
    FAILED = "failed", "Failed"
    # Nothing was sent and nothing needs to be: the visit holds no slot yet
    # (still to book), or its surgeon has no CalDAV calendar.
    NOTHING_TO_PUSH = "nothing_to_push", "Nothing to push"


class CalendarEntry(models.Model):
    visit = models.OneToOneField(
        Visit, primary_key=True, on_delete=models.CASCADE, related_name="calendar_entry"
    )
    # The VEVENT lines (CRLF, folded), ready to be joined into a feed.
    body = models.TextField(blank=True)
    # The visit's `updated_at` this body was rendered from; older means stale.
    rendered_from = models.DateTimeField(null=True, blank=True)
    rendered_sequence = models.PositiveIntegerField(default=0)
    # feeds.rendering.FORMAT_VERSION of the body: a deploy that changes how
    # entries look makes every older body stale.
    rendered_format = models.PositiveSmallIntegerField(default=0)
    # The surgeon whose feed listed this visit when it was last rendered or
    # changed: a booking moved to another surgeon refreshes the old one's feed.
    feed_surgeon = models.ForeignKey(
        Surgeon,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    export_state = models.CharField(
        max_length=16, choices=ExportState.choices, default=ExportState.PENDING
    )
    export_attempts = models.PositiveIntegerField(default=0)
    export_error = models.TextField(blank=True)
    exported_sequence = models.IntegerField(default=-1)
    pending_since = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "calendar entries"
        indexes = [models.Index(fields=["export_state", "pending_since"])]

    def __str__(self) -> str:
        return f"Calendar entry of visit {self.visit_id}"


class FeedVersion(models.Model):
    key = models.CharField(max_length=64, unique=True)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class SurgeonCalendar(models.Model):
    """A surgeon's CalDAV calendar; credentials are never shown or logged."""

    surgeon = models.OneToOneField(
        Surgeon, on_delete=models.CASCADE, related_name="caldav_calendar"
    )
    url = models.URLField(
        help_text="The calendar collection's URL (https://).",
        validators=[validate_caldav_url],
    )
    username = models.CharField(max_length=150, blank=True)
    # Encrypted at rest with CALDAV_ENCRYPTION_KEYS (feeds.secrets).
    password = EncryptedTextField(blank=True)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"CalDAV calendar of {self.surgeon}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._forget_password_sent_elsewhere() and kwargs.get("update_fields"):
            kwargs["update_fields"] = {*kwargs["update_fields"], "password"}
        super().save(*args, **kwargs)

    def _forget_password_sent_elsewhere(self) -> bool:
        """A calendar moved to another server (scheme, host or port) loses
        its stored password unless a new one comes with it: whoever can
        change the URL must not be able to send the old password to a host
        of their own choosing."""
        if self.pk is None or not self.password:
            return False
        stored = (
            SurgeonCalendar.objects.filter(pk=self.pk)
            .values_list("url", "password")
            .first()
        )
        if stored is None or same_server(stored[0], self.url):
            return False
        if self.password != stored[1]:
            return False
        self.password = ""
        return True
