"""A service's refusal in the clinic's words, for the pages.

The API answers with the service's message and `code`, which name fields
(`call_back_on`), visits by id and dates as YYYY-MM-DD: a program's words.
A page says the same refusal the way the clinic does: `say(error)` words it
by its `code`, from the values the service gave (`DomainError.params`), in
the clinic's date format ("Tue 8 Dec 2026, 10:00"). It never names another
visit: a slot held by someone else is "taken", with the time asked for.

A code without wording here keeps the service's message when that message
is already in words (no field code, no id, no ISO date, `plain`), else a
sentence that only says what to do next.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

from clinic.clock import local
from clinic.models import RECORD_NUMBER_RULE
from core.errors import DomainError
from followup.models import ContactOutcome
from web.dates import written

Params = Mapping[str, object]

# The services' field names, as the pages label them.
LABELS = {
    "birth_date": "Birth date",
    "call_back_on": "Call-back date",
    "channel": "Channel",
    "date": "End date",
    "family_name": "Family name",
    "given_name": "Given name",
    "kind": "Kind of surgery",
    "note": "Note",
    "outcome": "Outcome",
    "performed_on": "Scan date",
    "reason": "Reason",
    "reopen_reason": "Why reopen it",
    "record_number": "Record number",
    "reference": "Study reference",
    "report_received_on": "Report date",
    "start": "Time",
    "surgeon": "Surgeon",
    "surgery_date": "Surgery date",
}

# What is missing, said as what to give, where "is required" is not enough.
REQUIRED = {
    "reason": "Say why the visit is no longer needed.",
    "reopen_reason": "Say why the visit is reopened: its history keeps it.",
    "start": "Choose one of the proposed slots.",
    "call_back_on": "Give the day to call the patient back.",
}

GENERIC = {
    400: "That was not accepted. Check what was entered and try again.",
    409: (
        "That can no longer be done: the visit or the patient changed. "
        "Reload the page to see them as they are now."
    ),
}

_CODE_WORD = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_AN_ID = re.compile(
    r"\b(?:visit|patient|procedure|surgeon|study|import|calendar link)s? #?\d+\b",
    re.IGNORECASE,
)


def plain(text: str) -> bool:
    """Whether `text` is in a clinic's words: no field code, no id, no ISO date."""
    return not (
        _CODE_WORD.search(text) or _ISO_DATE.search(text) or _AN_ID.search(text)
    )


def day(value: object) -> str:
    """A date as the pages write it: "Tue 8 Dec 2026"."""
    if isinstance(value, dt.datetime):
        value = local(value).date()
    return written(value, "DATE_FORMAT") if isinstance(value, dt.date) else ""


def when(value: object) -> str:
    """A time as the pages write it: "Tue 8 Dec 2026, 10:00"."""
    if not isinstance(value, dt.datetime):
        return day(value)
    return written(local(value), "DATETIME_FORMAT")


def label(params: Params) -> str:
    """The field a refusal is about, as the form labels it."""
    field = str(params.get("field", ""))
    return LABELS.get(field, field.replace("_", " ").capitalize() or "This field")


def _required(p: Params) -> str:
    return REQUIRED.get(str(p.get("field")), f"{label(p)} is required.")


def _slot_taken(p: Params) -> str:
    if "start" not in p:
        return "That time was taken a moment ago. Choose another slot."
    said = f"That time, {when(p['start'])}, is taken: "
    if p.get("held_by") == "patient":
        said += f"the patient already has a visit then, with {p['surgeon']}."
    else:
        said += f"{p['surgeon']} already has a visit then."
    return f"{said} Choose another slot."


def _outside_window(p: Params) -> str:
    said = (
        f"{day(p['day'])} is outside the visit's window, "
        f"{day(p['first'])} to {day(p['last'])}."
    )
    if p.get("may_override"):
        return f"{said} Give a reason to book it outside the window anyway."
    return f"{said} Only a clinic admin can book outside the window."


def _outside_sessions(p: Params) -> str:
    if "day" in p:
        return (
            f"{p['surgeon']} has no consultation on {day(p['day'])}. "
            "Choose one of the proposed slots."
        )
    return (
        f"{when(p['start'])} is not one of {p['surgeon']}'s slots. "
        "Choose one of the proposed slots."
    )


def _transition(p: Params) -> str:
    said = f"This visit is {p['status']}; it cannot be {p['verb']}."
    return f"{said} {p['hint']}" if p.get("hint") else said


def _check_in(p: Params) -> str:
    if p.get("passed"):
        return (
            f"This visit was booked for {when(p['start'])}, a day that has passed: "
            "reschedule it or mark a no-show."
        )
    return (
        f"This visit is booked for {when(p['start'])}. A patient can be checked "
        "in only on the day of their visit."
    )


CALL_BACK = ContactOutcome.CALL_BACK_LATER.label


def _nothing_done(change: object) -> str:
    """A stale action's refusal, which its row or its list goes on from;
    `change` in words (`staleness.change_in_words`)."""
    return f"This visit changed after it was shown: {change}. Nothing was done"


WORDS: dict[str, Callable[[Params], str]] = {
    # Who changed it is a login name, which may look like a code: said as is.
    "stale": lambda p: f"{_nothing_done(p['change'])}; here it is as it now is.",
    # Who resolved the reply is a login name too: said as is.
    "already_resolved": lambda p: f"Already resolved by {p['by']}.",
    "required": _required,
    "too_long": lambda p: f"{label(p)} is longer than {p['max_length']} characters.",
    "null_character": lambda p: (
        f"{label(p)} contains a null character, which is not text; remove it."
    ),
    "invalid_date": lambda p: f"{label(p)} is not a real date.",
    "invalid_datetime": lambda p: "Choose one of the proposed slots.",
    "naive_datetime": lambda p: "Choose one of the proposed slots.",
    "invalid_name": lambda p: f"{label(p)} needs letters.",
    "invalid_record_number": lambda p: RECORD_NUMBER_RULE,
    "unknown_kind": lambda p: "Choose one of the procedure kinds listed.",
    "unknown_channel": lambda p: "Choose how the patient was contacted.",
    "unknown_outcome": lambda p: "Choose the outcome of the attempt.",
    "unknown_surgeon": lambda p: "Choose one of the clinic's surgeons.",
    "duplicate_procedure": lambda p: (
        f"The patient already has this procedure: {p['kind']} on "
        f"{day(p['surgery_date'])}. It is on their page."
    ),
    "surgeon_inactive": lambda p: (
        f"{p['surgeon']} is no longer active; choose another surgeon."
    ),
    "call_back_not_expected": lambda p: (
        f"A call-back date goes only with the outcome “{CALL_BACK}”."
    ),
    "call_back_date_required": lambda p: (
        f"“{CALL_BACK}” needs the day to call the patient back, after today."
    ),
    "call_back_date_not_future": lambda p: (
        f"The call-back date, {day(p['day'])}, is not after today. To call again "
        "today, record the attempt without a call-back date."
    ),
    "call_back_date_too_far": lambda p: (
        f"The call-back date, {day(p['day'])}, is more than a year ahead; "
        "check the year."
    ),
    "visit_not_open": lambda p: (
        f"This visit is {p['status']}; contact attempts are recorded for visits "
        "still to be seen."
    ),
    "slot_taken": _slot_taken,
    "start_in_past": lambda p: f"{when(p['start'])} has passed; choose a later slot.",
    "outside_window": _outside_window,
    "outside_sessions": _outside_sessions,
    "invalid_transition": _transition,
    "check_in_not_today": _check_in,
    "no_show_too_early": lambda p: (
        f"This visit starts at {when(p['start'])}; it can be marked as a no-show "
        "only once that time has passed."
    ),
    "birth_date_in_future": lambda p: (
        f"The birth date, {day(p['day'])}, is in the future."
    ),
    "birth_date_too_early": lambda p: (
        f"The birth date, {day(p['day'])}, is before 1900; check the year."
    ),
    "birth_after_surgery": lambda p: (
        f"The birth date, {day(p['day'])}, is after the patient's surgery on "
        f"{day(p['surgery_date'])}."
    ),
    "surgery_date_too_far": lambda p: (
        f"The surgery date, {day(p['day'])}, is more than {p['days']} days ahead; "
        "check the year."
    ),
    "surgery_before_birth": lambda p: (
        f"The surgery date, {day(p['day'])}, is before the patient's birth date, "
        f"{day(p['birth_date'])}."
    ),
    "mri_in_future": lambda p: (
        f"The scan date, {day(p['day'])}, is in the future; record a study once "
        "it has been performed."
    ),
    "mri_before_birth": lambda p: (
        f"The scan date, {day(p['day'])}, is before the patient's birth date, "
        f"{day(p['birth_date'])}."
    ),
    "report_before_scan": lambda p: (
        f"The report date, {day(p['day'])}, is before the scan, "
        f"{day(p['performed_on'])}."
    ),
    "report_in_future": lambda p: (
        f"The report date, {day(p['day'])}, is in the future; record the report "
        "once it has arrived."
    ),
    "report_already_recorded": lambda p: (
        f"The report of {p['reference']} was recorded as received on "
        f"{day(p['day'])} after this page was shown; that date is kept. "
        "Nothing was saved."
    ),
    "contact_changed": lambda p: (
        "Someone changed the contact details after this page was shown; they "
        "are shown above as they now are. Nothing was saved: check them, "
        "then save again."
    ),
    "procedure_not_active": lambda p: f"This procedure is {p['status']}.",
    "programme_already_ended": lambda p: (
        f"This programme already ends on {day(p['day'])}: someone ended it "
        "after your page was shown. Nothing was changed."
    ),
    "end_before_surgery": lambda p: (
        f"The programme cannot end on {day(p['day'])}, before the surgery on "
        f"{day(p['surgery_date'])}."
    ),
    "unknown_scope": lambda p: "Choose which calendar the link is for.",
    "invalid_owner": lambda p: "Choose which calendar the link is for.",
    "unknown_patient": lambda p: "That patient is no longer in the clinic's records.",
    "link_revoked": lambda p: (
        f"This link was already revoked, on {when(p['revoked_at'])}: its URL no "
        "longer works. Nothing was changed."
    ),
    "link_rotated": lambda p: (
        "This link was rotated"
        + (f" on {when(p['rotated_at'])}," if p.get("rotated_at") else "")
        + " after your page was shown. Nothing was changed: the URL issued then "
        "is the one that works now; if you still need a new one, rotate the "
        "link again."
    ),
    "link_revoked_since": lambda p: (
        f"This link was revoked on {when(p['revoked_at'])}, after your page was "
        "shown: its URL no longer works and it cannot be rotated. Nothing was "
        "changed; create a new link if one is needed."
    ),
}


def say(error: DomainError) -> str:
    """The refusal as a page shows it: in words, without codes or ids."""
    wording = WORDS.get(error.code)
    if wording is not None:
        try:
            return wording(error.params)
        except KeyError:
            pass  # raised without the values its words need: the message, if plain
    if plain(error.message):
        return error.message[:1].upper() + error.message[1:]
    return GENERIC.get(error.status, GENERIC[400])


def say_of(label: str, error: DomainError) -> str:
    """A refusal shown apart from its visit's row (a Complete on a list the
    visit has left): the patient named, and a stale one without "here it
    is", as the visit may be on no list any more."""
    if error.code == "stale" and "change" in error.params:
        said = f"{_nothing_done(error.params['change'])}."
    else:
        said = say(error)
    return f"{label}: {said}"
