"""A visit's statuses, why one was cancelled, and the groups of them the reads
and the rules name."""

from __future__ import annotations

from django.db import models

from followup import rules


class VisitStatus(models.TextChoices):
    TO_BOOK = rules.TO_BOOK, "To book"
    BOOKED = rules.BOOKED, "Booked"
    CHECKED_IN = rules.CHECKED_IN, "Checked in"
    COMPLETED = rules.COMPLETED, "Completed"
    NO_SHOW = rules.NO_SHOW, "No-show"
    CANCELLED = rules.CANCELLED, "Cancelled"


# FHIR Appointment.status for each of our statuses, for integrators.
FHIR_STATUS = {
    VisitStatus.TO_BOOK: "proposed",
    VisitStatus.BOOKED: "booked",
    VisitStatus.CHECKED_IN: "arrived",
    VisitStatus.COMPLETED: "fulfilled",
    VisitStatus.NO_SHOW: "noshow",
    VisitStatus.CANCELLED: "cancelled",
}
# Statuses whose slot is held: the double-booking guarantee covers them. A
# completed visit keeps its slot (the patient was seen in it); a no-show frees
# it. Migration 0006 copies this tuple; a test checks that they agree.
SLOT_HOLDING_STATUSES = (
    VisitStatus.BOOKED,
    VisitStatus.CHECKED_IN,
    VisitStatus.COMPLETED,
)
# A visit still waiting for a slot: overdue once its window has closed.
AWAITING_BOOKING_STATUSES = (VisitStatus.TO_BOOK, VisitStatus.NO_SHOW)
# Booked and not seen yet: what a surgeon's upcoming list shows.
NOT_YET_SEEN_STATUSES = (VisitStatus.BOOKED, VisitStatus.CHECKED_IN)
OPEN_STATUSES = tuple(VisitStatus(s) for s in sorted(rules.OPEN_STATUSES))


class CancelReason(models.TextChoices):
    """Why a visit was cancelled by the system rather than by a person."""

    REPLANNED = "replanned", "No longer in the plan after a correction"
    PROCEDURE_CANCELLED = "procedure_cancelled", "Procedure cancelled"
    ENTERED_IN_ERROR = "entered_in_error", "Procedure entered in error"
    PROGRAMME_ENDED = "programme_ended", "Annual-review programme ended"
    # A contact attempt's outcome: the patient is lost to this follow-up.
    DECLINED = "declined", "Patient declined this follow-up"
    MOVED_AWAY = "moved_away", "Patient moved away"
    DECEASED = "deceased", "Patient deceased"
    OTHER = "other", "Other"


# A visit cancelled for one of these is lost to follow-up, not merely moved.
LOST_CAUSES = (CancelReason.DECLINED, CancelReason.MOVED_AWAY, CancelReason.DECEASED)
# ...and for these the patient has left the clinic's care: the pages mark them.
LEFT_CARE_CAUSES = (CancelReason.MOVED_AWAY, CancelReason.DECEASED)
