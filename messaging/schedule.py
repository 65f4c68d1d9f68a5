"""When a message is due, whether it still applies, quiet hours, and its text.

The schedule is data (`MessageTemplate`): each kind's offset counts from its
anchor (SPEC section 8). A message is written for what the visit is now, and
`still_applies` says, at send time, whether the visit still is that.

`{{ link }}`, the visit's booking link, is written as `LINK_PLACEHOLDER`:
the token is a secret the database never holds, so the sender puts the
live link in at send time (`with_link`), and the patient page shows the
placeholder.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils import formats

from clinic.clock import clinic_zone, local, local_date
from followup.models import Visit, VisitStatus
from messaging.models import Direction, Kind, Message, MessageTemplate, Status

# A date anchor's time of day when its template names none.
DEFAULT_SEND_TIME = dt.time(10, 0)
# A message whose time passed longer ago than this when its visit changed is
# not written: an import of last year's procedures texts nobody.
STALE_AFTER = dt.timedelta(days=14)

# What `{{ link }}` renders to in a stored message; the sender replaces it.
LINK_PLACEHOLDER = "[booking link]"

_ENGINE = Engine(autoescape=False)


@functools.lru_cache(maxsize=64)
def _compiled(text: str) -> Template:
    # An import writes thousands of messages from a handful of texts.
    return _ENGINE.from_string(text)


def due_at(template: MessageTemplate, visit: Visit) -> dt.datetime | None:
    """When `template`'s message for `visit` as it is now is due; None when
    the visit, in its current state, calls for no message of that kind."""
    kind = template.kind
    if kind == Kind.INVITATION and visit.status == VisitStatus.TO_BOOK:
        return _on_day(visit.window_start, template)
    if kind == Kind.OVERDUE and visit.status == VisitStatus.TO_BOOK:
        return _on_day(visit.window_end, template)
    if kind == Kind.OVERDUE and visit.status == VisitStatus.NO_SHOW:
        assert visit.start is not None  # noqa: S101 - a no-show keeps its slot
        return _on_day(local_date(visit.start), template)
    if kind == Kind.REMINDER and visit.status == VisitStatus.BOOKED:
        assert visit.start is not None  # noqa: S101 - a booked visit has a slot
        moment = local(visit.start) + dt.timedelta(days=template.offset_days)
        if template.send_time is None:
            return moment
        return dt.datetime.combine(moment.date(), template.send_time, clinic_zone())
    return None


def _on_day(day: dt.date, template: MessageTemplate) -> dt.datetime:
    when = template.send_time or DEFAULT_SEND_TIME
    shifted = day + dt.timedelta(days=template.offset_days)
    return dt.datetime.combine(shifted, when, clinic_zone())


def visit_changed(message: Message, visit: Visit) -> bool:
    """Whether `visit` is no longer what it was when `message` was written:
    another state, slot, sequence or window."""
    written = (
        message.visit_sequence,
        message.visit_status,
        message.visit_start,
        message.visit_window_start,
        message.visit_window_end,
    )
    current = (
        visit.sequence,
        visit.status,
        visit.start,
        visit.window_start,
        visit.window_end,
    )
    return written != current


# What a message is about, by kind: a reminder for another slot, or an
# invitation for another window, is a new message; a rising sequence alone
# (a corrected name) is not, so nothing already sent is sent again.
OCCASION = {
    Kind.REMINDER: ("status", "start"),
    Kind.INVITATION: ("status", "window_start", "window_end"),
    Kind.OVERDUE: ("status", "start", "window_end"),
}


def same_occasion(message: Message, visit: Visit) -> bool:
    """Whether `message` was written for what `visit` is about now."""
    return all(
        getattr(message, f"visit_{name}") == getattr(visit, name)
        for name in OCCASION[Kind(message.kind)]
    )


def still_applies(message: Message, visit: Visit, now: dt.datetime) -> str:
    """Why `message` must not be sent to `visit` as it is at `now`; empty when
    it may. The visit must be what it was at writing, and the message's
    moment must not have passed."""
    if visit_changed(message, visit):
        return "The visit changed after this message was written."
    if message.kind == Kind.REMINDER and visit.start is not None and now >= visit.start:
        return "The visit had started before the reminder could be sent."
    if message.kind == Kind.INVITATION and local_date(now) > visit.window_end:
        return "The visit's window had closed before the invitation could be sent."
    return ""


# --- quiet hours ---------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    begins: dt.time
    ends: dt.time

    def holds(self, moment: dt.datetime) -> bool:
        time = local(moment).time()
        if self.begins <= self.ends:
            return self.begins <= time < self.ends
        return time >= self.begins or time < self.ends

    def next_morning(self, moment: dt.datetime) -> dt.datetime:
        """The end of the quiet hours that hold at `moment`."""
        wall = local(moment)
        day = wall.date()
        if self.begins > self.ends and wall.time() >= self.begins:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, self.ends, clinic_zone())


def quiet_hours() -> QuietHours | None:
    """`MESSAGE_QUIET_HOURS` ("20:00-09:00", clinic time), read now; None
    when empty."""
    value = str(getattr(settings, "MESSAGE_QUIET_HOURS", "20:00-09:00")).strip()
    if not value:
        return None
    try:
        begins, ends = (
            dt.time.fromisoformat(part.strip()) for part in value.split("-")
        )
    except ValueError:
        raise ImproperlyConfigured(
            f"MESSAGE_QUIET_HOURS={value!r} is not two times like 20:00-09:00"
        ) from None
    if begins == ends:
        raise ImproperlyConfigured(
            f"MESSAGE_QUIET_HOURS={value!r} begins and ends at the same time"
        )
    return QuietHours(begins, ends)


def sending_time(moment: dt.datetime) -> dt.datetime:
    """The first time from `moment` on when the sender may send: `moment`,
    or the end of the quiet hours that hold then. The sender holds what is
    due in quiet hours to it, an offer's hold counts from it, and the pages
    say it: one reckoning of the quiet hours."""
    quiet = quiet_hours()
    if quiet is not None and quiet.holds(moment):
        return quiet.next_morning(moment)
    return moment


def ready_at(message: Message, now: dt.datetime) -> dt.datetime | None:
    """When the sender finds `message`, queued to go out, due (`Message.due`):
    its time, or its retry's after a failed try; `now` once that has passed.
    None for a message that is not waiting to go."""
    if message.direction != Direction.OUT or message.status != Status.QUEUED:
        return None
    if message.scheduled_for is None:
        return None
    retry = message.next_attempt_at or message.scheduled_for
    return max(message.scheduled_for, retry, now)


def goes_at(message: Message, now: dt.datetime) -> dt.datetime | None:
    """When the sender will send `message`, as it stands at `now`: when it is
    due to it, held to the end of the quiet hours; None for a message that
    is not waiting to go."""
    ready = ready_at(message, now)
    return None if ready is None else sending_time(ready)


# --- the text ------------------------------------------------------------------


def render(template_text: str, visit: Visit) -> str:
    """The template's text for `visit`, rendered once, when written."""
    context = {
        "given_name": visit.patient.given_name,
        "visit": visit.kind_label(),
        "window_start": formats.date_format(visit.window_start, "DATE_FORMAT"),
        "window_end": formats.date_format(visit.window_end, "DATE_FORMAT"),
        "day": "",
        "time": "",
        "surgeon": "",
        "clinic_phone": getattr(settings, "CLINIC_PHONE", ""),
        "link": LINK_PLACEHOLDER,
    }
    if visit.start is not None:
        wall = local(visit.start)
        context["day"] = formats.date_format(wall, "DATE_FORMAT")
        context["time"] = formats.time_format(wall, "TIME_FORMAT")
    if visit.surgeon is not None:
        surgeon = visit.surgeon
        context["surgeon"] = f"Dr {surgeon.given_name} {surgeon.family_name}"
    return _compiled(template_text).render(Context(context)).strip()


def with_link(text: str, url: str) -> str:
    """A stored text as it goes out: the booking link's URL in place of its
    placeholder."""
    return text.replace(LINK_PLACEHOLDER, url)


def template_error(text: str) -> str:
    """Why `text` cannot be a message template; empty when it can."""
    try:
        _ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        return f"The text is not a template: {exc}"
    return ""
