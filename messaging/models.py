"""Messages to and from patients (SPEC section 8) and the schedule that writes them.

A `Message` is written, rendered, when a visit change makes it due (the
outbox, `messaging.outbox`), and sent by the beat task (the sender,
`messaging.services`).
It keeps what its visit was when it was written (`visit_sequence`,
`visit_status`, `visit_start`, its window): at send time a visit that no
longer is that cancels the message instead of sending it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from clinic.models import Patient
from followup.models import Visit


class Direction(models.TextChoices):
    OUT = "out", "To the patient"
    IN = "in", "From the patient"


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class Kind(models.TextChoices):
    INVITATION = "invitation", "Invitation to book"
    REMINDER = "reminder", "Reminder"
    OVERDUE = "overdue", "Overdue"
    OFFER = "offer", "Offer of a freed slot"
    REPLY = "reply", "Reply"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    RECEIVED = "received", "Received"


class Intent(models.TextChoices):
    """What a patient's reply means (SPEC section 8's reply table)."""

    CONFIRM = "confirm", "Confirmed"
    CHANGE = "change", "Wants another time"
    CANCEL = "cancel", "Cannot come"
    OPT_OUT = "opt_out", "Stopped texts"
    OPT_IN = "opt_in", "Started texts again"
    UNCLEAR = "unclear", "Unclear"


# Replies that need a person: the front desk's *Replies* list, with failed
# deliveries (`MessageQuerySet.needing_person`).
INTENTS_NEEDING_PERSON = (Intent.CHANGE, Intent.UNCLEAR)


# What each scheduled kind's offset counts from.
ANCHORS = {
    Kind.INVITATION: "the day the visit's window opens",
    Kind.REMINDER: "the booked start",
    Kind.OVERDUE: "the day the window closes, or the day of a missed visit",
}
SCHEDULED_KINDS = (Kind.INVITATION, Kind.REMINDER, Kind.OVERDUE)


class MessageTemplate(models.Model):
    """One kind of message on one channel: when it is due and what it says.

    Clinic admins edit these in the admin. The text is rendered when a
    message is written and stored on it, so an edit changes no message
    already written.
    """

    kind = models.CharField(
        max_length=20, choices=[(k.value, k.label) for k in SCHEDULED_KINDS]
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    active = models.BooleanField(
        default=True, help_text="Unticked: no message of this kind is written."
    )
    offset_days = models.IntegerField(
        help_text="Days from the anchor (negative: before it). Invitation: the "
        "day the window opens; reminder: the booked start; overdue: the day "
        "the window closes, or the day of a missed visit."
    )
    send_time = models.TimeField(
        null=True,
        blank=True,
        help_text="Clinic time of day it is due. Blank: the anchor's own time "
        "(a reminder goes at the booked time of day).",
    )
    subject = models.CharField(
        max_length=200, blank=True, help_text="Email only: the subject line."
    )
    text = models.TextField(
        help_text="Placeholders: {{ given_name }}, {{ visit }}, {{ window_start }}, "
        "{{ window_end }}, {{ day }}, {{ time }}, {{ surgeon }}, {{ clinic_phone }}, "
        "{{ link }} (the visit's booking link, put in when the message is sent)."
    )

    class Meta:
        ordering = ["kind", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "channel"], name="message_template_one_per_kind_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()}"


class MessageQuerySet(models.QuerySet["Message"]):
    def due(self, now: object) -> MessageQuerySet:
        """Queued messages out whose time (and retry time) has come."""
        return self.filter(
            status=Status.QUEUED,
            direction=Direction.OUT,
            scheduled_for__lte=now,
        ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))

    def needing_person(self) -> MessageQuerySet:
        """What the *Replies* list shows, open or resolved: change requests,
        unclear replies and failed deliveries, newest first."""
        reply = Q(direction=Direction.IN, intent__in=INTENTS_NEEDING_PERSON)
        failed = Q(direction=Direction.OUT, status=Status.FAILED)
        return (
            self.filter(reply | failed)
            .select_related("visit__rule", "patient")
            .order_by("-created_at", "-id")
        )

    def open(self) -> MessageQuerySet:
        return self.filter(resolved_at__isnull=True)

    def needing_person_open(self) -> int:
        """How many wait for a person: the *Replies* tab's count."""
        return self.needing_person().open().order_by().count()

    def of_patient(
        self, patient_id: int, visits: models.QuerySet[Visit]
    ) -> MessageQuerySet:
        """The patient's messages about `visits` (those the reader may
        see), newest first, with each visit's rule."""
        return (
            self.filter(patient_id=patient_id, visit__in=visits)
            .select_related("visit__rule")
            .order_by(F("sent_at").desc(nulls_last=True), "-scheduled_for", "-id")
        )


class Message(models.Model):
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    to = models.CharField(
        max_length=254,
        help_text="The number or address, as it was when written; a reply: the "
        "number it came from.",
    )
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # What it says ends then (an offer's hold): a sender that comes late, a
    # worker down or a retry, cancels it rather than send it after.
    send_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Never sent from this moment on: what it offers has ended.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A reply: what it means, the message it answers, what came of it.
    intent = models.CharField(max_length=10, choices=Intent.choices, blank=True)
    answers = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=300, blank=True)
    # Someone at the front desk dealt with it (the *Replies* list).
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What the visit was when the message was written.
    visit_sequence = models.PositiveIntegerField(null=True, blank=True)
    visit_status = models.CharField(max_length=20, blank=True)
    visit_start = models.DateTimeField(null=True, blank=True)
    visit_window_start = models.DateField(null=True, blank=True)
    visit_window_end = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="message_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(direction=Direction.OUT, status=Status.QUEUED)
                | Q(scheduled_for__isnull=False),
                name="message_queued_has_time",
            ),
            models.CheckConstraint(
                condition=Q(intent="") | Q(intent__in=Intent.values),
                name="message_intent_known",
            ),
            # Twilio retries a webhook it timed out on: one reply per text.
            models.UniqueConstraint(
                fields=["provider_id"],
                condition=Q(direction="in") & ~Q(provider_id=""),
                name="message_reply_once_per_sid",
            ),
        ]
        indexes = [
            # The sender's scan: queued messages by due time.
            models.Index(
                fields=["scheduled_for"],
                condition=Q(status="queued"),
                name="message_queued_by_time",
            ),
            models.Index(fields=["visit", "kind"], name="message_by_visit"),
            models.Index(fields=["patient", "-created_at"], name="message_by_patient"),
            # A reply finds the latest text sent to its number.
            models.Index(
                fields=["to", "-sent_at"],
                condition=Q(direction="out", channel="sms"),
                name="message_sms_by_number",
            ),
            # The *Replies* tab and its count: what still needs a person.
            models.Index(
                fields=["-created_at"],
                condition=Q(resolved_at__isnull=True)
                & (
                    Q(direction="in", intent__in=["change", "unclear"])
                    | Q(direction="out", status="failed")
                ),
                name="message_needing_person",
            ),
            # A status callback finds its message.
            models.Index(
                fields=["provider_id"],
                condition=~Q(provider_id=""),
                name="message_by_provider_id",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {self.get_status_display().lower()} ({self.pk})"
        )


def visit_as_written(visit: Visit) -> dict[str, object]:
    """A message's record of what its visit was when it was written: at send
    time a visit that no longer is that cancels the message."""
    return {
        "visit_sequence": visit.sequence,
        "visit_status": visit.status,
        "visit_start": visit.start,
        "visit_window_start": visit.window_start,
        "visit_window_end": visit.window_end,
    }


class SmsOptOut(models.Model):
    """A number that replied STOP (or another opt-out word): no text goes to
    it until it replies START. One row per number; START deletes it."""

    phone = models.CharField(max_length=32, unique=True)
    at = models.DateTimeField()
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "SMS opt-out"

    def __str__(self) -> str:
        return f"{self.phone} (since {self.at:%Y-%m-%d})"
