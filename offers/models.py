"""A freed slot, and the offers made of it.

- `FreedSlot`: a booked slot a visit gave back ahead of time (a cancel, an
  unbook, a reschedule away, a reply X, the link's "I can't come"). One row
  per change that freed it: the visit and its sequence after the change
  are unique, so the same change told twice makes no second row, and no
  second batch of offers. `refilled_at`: when a booking took the time
  again, whoever made it; `offers_ended_at`: when no more offers will be
  made of it (refilled, too near, or nobody left to offer it to).
- `Offer`: the slot offered to one visit's patient, `OFFER_BATCH` at a
  time, for `OFFER_HOLD_MINUTES`. The database holds each patient to one
  pending offer, and each freed slot to one offer per patient.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q

from clinic.models import Patient, Surgeon
from followup.models import Visit
from messaging.models import Message


class FreedSlot(models.Model):
    surgeon = models.ForeignKey(Surgeon, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    freed_at = models.DateTimeField()
    visit = models.ForeignKey(
        Visit,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The visit that gave the slot back.",
    )
    visit_sequence = models.PositiveIntegerField(
        help_text="The visit's sequence after the change that freed the slot."
    )
    action = models.CharField(max_length=32, help_text="How: unbooked, cancelled...")
    offered = models.BooleanField(
        help_text="Freed far enough ahead (OFFER_MIN_LEAD_HOURS) to be offered."
    )
    refilled_at = models.DateTimeField(null=True, blank=True)
    refilled_by = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offers_ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-freed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "visit_sequence"], name="freed_slot_once_per_change"
            ),
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="freed_slot_ends_after"
            ),
        ]
        indexes = [
            # A booking looks for the open freed slots it covers.
            models.Index(
                fields=["surgeon", "start"],
                condition=Q(refilled_at__isnull=True),
                name="freed_slot_open_by_surgeon",
            ),
            # The report counts them by when they were freed.
            models.Index(fields=["freed_at"], name="freed_slot_by_time"),
        ]

    def __str__(self) -> str:
        return f"Slot freed at {self.start:%Y-%m-%d %H:%M} ({self.pk})"

    @property
    def hours_to_refill(self) -> float | None:
        if self.refilled_at is None:
            return None
        return (self.refilled_at - self.freed_at) / dt.timedelta(hours=1)


class OfferStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLAIMED = "claimed", "Claimed"
    TAKEN = "taken", "Taken by another"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class OfferQuerySet(models.QuerySet["Offer"]):
    def pending(self) -> OfferQuerySet:
        return self.filter(status=OfferStatus.PENDING)


class Offer(models.Model):
    freed_slot = models.ForeignKey(
        FreedSlot, on_delete=models.CASCADE, related_name="offers"
    )
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    batch = models.PositiveSmallIntegerField(help_text="1: the first batch offered.")
    status = models.CharField(
        max_length=16, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="pending"),
                name="offer_one_pending_per_patient",
            ),
            models.UniqueConstraint(
                fields=["freed_slot", "patient"], name="offer_once_per_slot_patient"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OfferStatus.values), name="offer_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "-created_at"], name="offer_by_patient"),
            models.Index(fields=["visit", "-created_at"], name="offer_by_visit"),
            # The sweep's scan: pending offers by when they end.
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending"),
                name="offer_pending_by_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk}: {self.get_status_display().lower()}"

    def state(self, now: dt.datetime) -> str:
        """Its status as of `now`: a pending offer past its end is expired,
        before the sweep says so."""
        if self.status == OfferStatus.PENDING and self.expires_at <= now:
            return OfferStatus.EXPIRED
        return self.status
