"""A visit row's actions, one form each, wherever the row is shown (the
desk, the appointments, a visit's own page): book, reschedule, unbook,
cancel, check in, no-show and a contact attempt.

A form's `clean` reads its fields with the services' own parsers, so a
value is refused in the same words as through the API. `save` calls the one
service of the action and says what was done; the service checks everything
again inside its transaction, and its refusal lands on the form
(`refuse`), which keeps what was typed for the row to show again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar

from django import forms
from django.contrib.auth.models import User
from django.template.defaultfilters import pluralize
from django.utils.formats import date_format

from clinic.clock import local
from core.quoting import quoted
from followup import services
from followup.exceptions import DomainError
from followup.models import ContactOutcome, Visit
from followup.services.parsing import (
    parse_aware_datetime,
    reason_text,
)
from web.forms import (
    ContactAttemptForm,
    attempt_said,
    checked,
    confirm_care_ending,
    raw_text,
    sequence_seen,
)
from web.query_text import whole_number
from web.refusals import say


class RowForm(forms.Form):
    """A row action: its name (the access rule's), the panel a refusal
    reopens, and the status a refusal answers with."""

    action: ClassVar[str] = ""
    panel: ClassVar[str] = ""
    status = 400
    # The visit's sequence as the row showed it: a visit changed since is
    # refused as stale by the service (`followup.services.staleness`).
    sequence = raw_text()

    def clean_sequence(self) -> int | None:
        return sequence_seen(self.cleaned_data["sequence"])

    def refuse(self, error: DomainError) -> None:
        """The service's refusal, beside the row, with its status."""
        self.add_error(None, say(error))
        self.status = error.status

    @property
    def message(self) -> str:
        """Every refusal of the form, in the order its fields are shown."""
        said = list(self.non_field_errors())
        for name in self.fields:
            said.extend(self.errors.get(name, []))
        return " ".join(str(message) for message in said)

    def save(self, *, visit: Visit, actor: User, now: dt.datetime) -> str:
        raise NotImplementedError


def _when(moment: dt.datetime | None) -> str:
    return date_format(local(moment), "DATETIME_FORMAT") if moment else ""


class BookForm(RowForm):
    action = "book"
    panel = "slots"
    service: ClassVar[Callable[..., Visit]] = services.book_visit
    start = raw_text()
    surgeon = raw_text()
    # Whose slots were shown, to show them again after a refusal.
    slots_surgeon = raw_text()

    def clean_start(self) -> dt.datetime:
        start = self.cleaned_data["start"].strip()
        if not start:
            raise forms.ValidationError("Choose one of the proposed slots.")
        return checked(parse_aware_datetime, start)  # type: ignore[no-any-return]

    def clean_surgeon(self) -> int:
        raw = self.cleaned_data["surgeon"]
        surgeon = whole_number(raw)
        if surgeon is None:
            raise forms.ValidationError(
                f"Choose a surgeon for the slot, not {quoted(raw)}."
            )
        return surgeon

    def clean_slots_surgeon(self) -> int | None:
        return whole_number(self.cleaned_data["slots_surgeon"])

    def save(self, *, visit: Visit, actor: User, now: dt.datetime) -> str:
        placed = type(self).service(
            visit_id=visit.pk,
            start=self.cleaned_data["start"],
            surgeon_id=self.cleaned_data["surgeon"],
            actor=actor,
            now=now,
            sequence=self.cleaned_data["sequence"],
        )
        return self.saying(placed)

    def saying(self, booked: Visit) -> str:
        days = booked.late_by_days
        late = f", {days} day{pluralize(days)} late" if days else ""
        return f"Booked for {_when(booked.start)} with {booked.surgeon}{late}."


class RescheduleForm(BookForm):
    action = "reschedule"
    service = services.reschedule_visit

    def saying(self, moved: Visit) -> str:
        return f"Moved to {_when(moved.start)} with {moved.surgeon}."


class MoveForm(RowForm):
    """A move that takes nothing but the visit: its service, and what it
    says once done."""

    service: ClassVar[Callable[..., Visit]]
    said: ClassVar[str]

    def save(self, *, visit: Visit, actor: User, now: dt.datetime) -> str:
        type(self).service(
            visit_id=visit.pk,
            actor=actor,
            now=now,
            sequence=self.cleaned_data["sequence"],
        )
        return self.said


class UnbookForm(MoveForm):
    action = "unbook"
    panel = "change"
    service = services.unbook_visit
    said = "Unbooked: the visit is to book again."


class CancelForm(RowForm):
    action = "cancel"
    panel = "change"
    reason = raw_text()

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"]
        return checked(reason_text, reason, field_name="reason", required=True)  # type: ignore[no-any-return]

    def save(self, *, visit: Visit, actor: User, now: dt.datetime) -> str:
        services.cancel_visit(
            visit_id=visit.pk,
            reason=self.cleaned_data["reason"],
            actor=actor,
            now=now,
            sequence=self.cleaned_data["sequence"],
        )
        return "Cancelled."


class CheckInForm(MoveForm):
    action = "check_in"
    service = services.check_in_visit
    said = "Checked in."


class NoShowForm(MoveForm):
    action = "no_show"
    service = services.mark_no_show
    said = "Marked as a no-show: the visit is to book again."


class ContactForm(RowForm, ContactAttemptForm):
    action = "contact"
    panel = "contact"

    def save(self, *, visit: Visit, actor: User, now: dt.datetime) -> str:
        confirm_care_ending(self, visit)
        attempt = self.record(visit_id=visit.pk, actor=actor, now=now)
        return attempt_said(attempt)


# The call list's one-click outcomes: a phone call that did not reach the
# patient, each a form of its own posting to `ContactForm`. None of them ends
# care (declined, moved away, deceased ask first) or needs more input (call
# back later needs its date), and "Will book" is better answered by booking.
QUICK_OUTCOMES: tuple[ContactOutcome, ...] = (
    ContactOutcome.NO_ANSWER,
    ContactOutcome.LEFT_MESSAGE,
    ContactOutcome.WRONG_NUMBER,
)


FORMS: dict[str, type[RowForm]] = {
    form.action: form
    for form in (
        BookForm,
        RescheduleForm,
        UnbookForm,
        CancelForm,
        CheckInForm,
        NoShowForm,
        ContactForm,
    )
}
