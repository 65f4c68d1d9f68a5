"""Contact attempts: reaching the patients whose follow-up is slipping.

The front desk records each try to reach a patient about a visit (channel,
outcome, a staff-only note) with `record_contact_attempt`. The outcome acts
on the visit, through the visit and procedure services, in the attempt's
own transaction:

- `no_answer`, `left_message`, `wrong_number` reached nobody: enough of them
  in a row (`FOLLOWUP_MAX_FAILED_ATTEMPTS`) make the visit *unreachable*
  (`VisitQuerySet.unreachable`); any other outcome ends the row;
- `will_book` reached the patient; the visit stays on the call list until
  it is booked;
- `call_back_later` needs `call_back_on`, a date after today: the visit
  leaves the call list until that date (`VisitQuerySet.call_list`);
- `declined` cancels the visit, cause `declined`;
- `moved_away` and `deceased` end the patient's care here: every open visit
  is cancelled with that cause and each annual-review programme ends.

A call or a text (`phone`, `sms`) also tells of the patient's number:
`wrong_number` holds every text to it (`Patient.texts_held`: the reminders
and offers would name the patient and their visit to a stranger) until the
number is corrected or a later call reaches the patient; and it ends the
booking links of the patient's visits, which texts already sent to that
stranger carry (`followup.changes.number_reached_someone_else`).

The attempt itself changes no field of the visit, so it writes no
`VisitEvent` and tells no calendar: the attempt row is its own record (who,
when, how). The note is never copied anywhere (visit, history, log line),
so no feed or CalDAV event can carry it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from clinic.clock import local_date
from clinic.models import Patient, Procedure
from followup.changes import number_reached_someone_else, visits_changed
from followup.exceptions import Conflict, InvalidInput, NotFound
from followup.models import (
    OPEN_STATUSES,
    UNSUCCESSFUL_OUTCOMES,
    CancelReason,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    Visit,
    VisitStatus,
)
from followup.models.authorship import username_of
from followup.services.booking import cancel_visit
from followup.services.moves import ACTIONS
from followup.services.parsing import require_aware, text_only
from followup.services.procedures import end_annual_reviews

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser
    from django.db.models import QuerySet

    User = AuthUser | None

NOTE_MAX_LENGTH = 2000
# A call-back further ahead than this is a typo in the year, not a plan.
CALL_BACK_MAX_DAYS_AHEAD = 366
# The outcomes that end the patient's care at the clinic, and their causes.
LEAVES_CARE = {
    ContactOutcome.MOVED_AWAY: CancelReason.MOVED_AWAY,
    ContactOutcome.DECEASED: CancelReason.DECEASED,
}
# A contact attempt is about a visit that can still happen: one to book,
# booked (a reminder), or after a no-show. The same statuses can be cancelled.
CONTACTABLE_STATUSES = ACTIONS["cancel"].sources


# The channels that use the patient's phone: what they find tells of the number.
DIALLED = frozenset({ContactChannel.PHONE, ContactChannel.SMS})
# The outcomes that cancel visits: a page asks before recording them.
ENDS_CARE = frozenset({ContactOutcome.DECLINED, *LEAVES_CARE})


@dataclass(frozen=True)
class CareEnding:
    """What recording an outcome that ends care would cancel: the open visits
    and the procedures whose annual reviews would end."""

    outcome: ContactOutcome
    visits: list[Visit]
    programmes: list[Procedure]

    @property
    def outcome_label(self) -> str:
        return str(self.outcome.label)


def care_ending(*, visit: Visit, outcome: ContactOutcome) -> CareEnding | None:
    """What `record_contact_attempt` with `outcome` would cancel, reading
    only; None for an outcome that cancels nothing."""
    if outcome not in ENDS_CARE:
        return None
    if outcome == ContactOutcome.DECLINED:
        visits = Visit.objects.open().filter(pk=visit.pk)
        programmes = Procedure.objects.none()
    else:
        visits = Visit.objects.open().filter(patient_id=visit.patient_id)
        programmes = Procedure.objects.with_annual_programme().filter(
            patient_id=visit.patient_id
        )
    return CareEnding(
        outcome=outcome,
        visits=list(visits.select_related("rule").order_by("due_date", "pk")),
        programmes=list(programmes.order_by("surgery_date", "pk")),
    )


def _note(value: str | None) -> str:
    text = text_only((value or "").strip(), field_name="note")
    if len(text) > NOTE_MAX_LENGTH:
        # The message never quotes the note: it may reach a log.
        raise InvalidInput(
            f"note is longer than {NOTE_MAX_LENGTH} characters.",
            code="too_long",
            params={"field": "note", "max_length": NOTE_MAX_LENGTH},
        )
    return text


def _call_back_on(
    outcome: ContactOutcome, day: dt.date | None, *, today: dt.date
) -> dt.date | None:
    if outcome != ContactOutcome.CALL_BACK_LATER:
        if day is not None:
            raise InvalidInput(
                "call_back_on goes only with the outcome call_back_later.",
                code="call_back_not_expected",
            )
        return None
    if day is None:
        raise InvalidInput(
            "call_back_later needs call_back_on: the date to call the patient "
            "back (YYYY-MM-DD, after today).",
            code="call_back_date_required",
        )
    if day <= today:
        raise InvalidInput(
            f"call_back_on {day} is not after today ({today}); to call again "
            "today, record the attempt without a call-back.",
            code="call_back_date_not_future",
            params={"day": day},
        )
    if day > today + dt.timedelta(days=CALL_BACK_MAX_DAYS_AHEAD):
        raise InvalidInput(
            f"call_back_on {day} is more than a year ahead; check the year.",
            code="call_back_date_too_far",
            params={"day": day},
        )
    return day


def _lock(visit_id: int, *, whole_patient: bool, patient_row: bool) -> Visit:
    """Lock the visit; for an outcome that ends the patient's care, first
    their procedures, in the order the procedure services take them; and
    before all, for a call or text that tells of their number, the patient
    (as `correct_patient` does before their visits)."""
    try:
        patient_id = (
            Visit.objects.filter(pk=visit_id)
            .values_list("patient_id", flat=True)
            .first()
        )
    except (ValueError, TypeError):
        patient_id = None
    if patient_id is None:
        raise NotFound(f"Visit {visit_id} does not exist.")
    if patient_row:
        # FOR NO KEY UPDATE: a booking of this visit that already holds it
        # takes the patient's key share when its messages commit; a full
        # FOR UPDATE here would wait for it while it waits for us.
        list(
            Patient.objects.select_for_update(no_key=True)
            .filter(pk=patient_id)
            .values("pk")
        )
    if whole_patient:
        list(
            Procedure.objects.select_for_update()
            .filter(patient_id=patient_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    visit = Visit.objects.select_for_update(of=("self",)).get(pk=visit_id)
    if visit.status not in CONTACTABLE_STATUSES:
        status = VisitStatus(visit.status).label.lower()
        raise Conflict(
            f"Visit {visit.pk} is {status}; contact attempts are recorded for "
            "visits still to be seen.",
            code="visit_not_open",
            params={"status": status},
        )
    return visit


def _end_care(
    visit: Visit, *, cause: CancelReason, actor: User, now: dt.datetime
) -> None:
    """Cancel every open visit of the patient and end their annual reviews.

    The visits already due (window open or closed) are cancelled with the
    cause, so the figures count them as lost. Then each annual programme
    ends today, which cancels the reviews it no longer plans (cause
    `programme_ended`, the figures leave them out), and every other open
    visit is cancelled with the cause.
    """
    today = local_date(now)
    reason = cause.label
    open_visits = Visit.objects.filter(
        patient_id=visit.patient_id, status__in=CONTACTABLE_STATUSES
    ).order_by("pk")

    def cancel_each(visits: QuerySet[Visit]) -> None:
        for visit_id in list(visits.values_list("pk", flat=True)):
            cancel_visit(
                visit_id=visit_id, reason=reason, actor=actor, now=now, cause=cause
            )

    cancel_each(open_visits.filter(window_start__lte=today))
    programmes = Procedure.objects.with_annual_programme().filter(
        patient_id=visit.patient_id
    )
    for procedure in programmes.order_by("pk"):
        end_annual_reviews(
            procedure_id=procedure.pk,
            end_date=max(today, procedure.surgery_date),
            reason=reason,
            today=today,
            actor=actor,
        )
    cancel_each(open_visits)


@transaction.atomic
def record_contact_attempt(
    *,
    visit_id: int,
    channel: ContactChannel,
    outcome: ContactOutcome,
    note: str | None = "",
    call_back_on: dt.date | None = None,
    actor: User,
    now: dt.datetime,
    sequence: int | None = None,
) -> ContactAttempt:
    """Record one try to reach the patient of a visit and apply its outcome.

    Refused (nothing written) for an unknown channel or outcome, a
    call-back without a later date (or a date with another outcome), and a
    visit that can no longer happen (checked in, completed, cancelled).
    `sequence`: the visit as the caller saw it; a "declined" from a page
    older than the visit (another clerk booked it meanwhile) is refused as
    stale rather than cancel what the caller never saw.
    """
    now = require_aware(now, field_name="now")
    today = local_date(now)
    text = _note(note)
    call_back = _call_back_on(outcome, call_back_on, today=today)
    visit = _lock(
        visit_id, whole_patient=outcome in LEAVES_CARE, patient_row=channel in DIALLED
    )
    attempt = ContactAttempt(
        visit=visit,
        channel=channel,
        outcome=outcome,
        note=text,
        call_back_on=call_back,
        actor=actor,
        actor_username=username_of(actor),
        at=now,
    )
    attempt.save(force_insert=True)
    if outcome == ContactOutcome.DECLINED:
        cancel_visit(
            visit_id=visit.pk,
            reason=CancelReason.DECLINED.label,
            actor=actor,
            now=now,
            cause=CancelReason.DECLINED,
            sequence=sequence,
        )
    elif outcome in LEAVES_CARE:
        _end_care(visit, cause=LEAVES_CARE[outcome], actor=actor, now=now)
    if channel in DIALLED:
        _note_the_number(visit.patient_id, outcome=outcome, now=now)
    return attempt


def _note_the_number(
    patient_id: int, *, outcome: ContactOutcome, now: dt.datetime
) -> None:
    """A call or text to the patient's phone that reached someone else holds
    every text to that number; one that reached the patient lifts the hold.
    The outbox reads it (`messaging.outbox.address_of`), told through
    `visits_changed` like a corrected number. The patient is locked (`_lock`)."""
    patient = Patient.objects.get(pk=patient_id)
    if outcome == ContactOutcome.WRONG_NUMBER:
        if not patient.phone or patient.texts_held:
            return
        patient.wrong_phone, patient.wrong_phone_at = patient.phone, now
        number_reached_someone_else(patient_id, now)
    elif outcome in UNSUCCESSFUL_OUTCOMES or not patient.texts_held:
        return
    else:
        patient.wrong_phone, patient.wrong_phone_at = "", None
    patient.save(update_fields=["wrong_phone", "wrong_phone_at", "updated_at"])
    visits = Visit.objects.filter(patient_id=patient_id, status__in=OPEN_STATUSES)
    visits_changed(list(visits.values_list("pk", flat=True)))
