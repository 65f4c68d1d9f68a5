"""Each visit's calendar entry, rendered once and stored; feeds join them.

A visit's VEVENT is the same in every feed that lists it, so it is rendered
when the visit changes (by the export task, or on the read path when the
task has not caught up) and stored in `CalendarEntry.body`. It holds the
minimum necessary: the visit kind (rule name), the patient label, the MRI
flag and the surgeon's name; never a diagnosis, a cancel reason or any other
free text.

- `UID` is stable per visit; `SEQUENCE` is the visit's own (it rises on every
  reschedule); `DTSTAMP` and `LAST-MODIFIED` come from `visit.updated_at`, so
  an unchanged visit renders to the same bytes on every poll.
- A booked (checked-in, completed) visit is a timed event in the clinic's
  zone; a cancelled one that had a slot keeps it with `STATUS:CANCELLED`; a
  visit still to book (or to rebook after a no-show) is an all-day event
  spanning its booking window.

A patient's own feed goes to whichever calendar provider the patient uses:
it names no patient at all (no label, so no record number), and its few
entries are rendered for it on read (a patient has a handful of visits) and
cached with the feed's body like any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import formats, timezone

from clinic.clock import clinic_zone
from clinic.models import Procedure, Surgeon
from core.digits import ascii_number
from feeds import ical
from feeds.models import CalendarEntry, LinkScope
from followup import rules
from followup.models import (
    SLOT_HOLDING_STATUSES,
    RecoveryMilestone,
    Visit,
    VisitStatus,
    plan_input,
)

PRODID = "-//Spine clinic//Follow-up calendar 1.0//EN"
# Raise it when the bytes a visit renders to change: it is part of every
# feed's cache key and ETag, and a stored entry of another format is stale.
FORMAT_VERSION = 5
# A schedule (surgeon, clinic) lists booked visits and the cancellations of
# bookings, so subscribed calendars drop them.
_IN_SCHEDULE = Q(status__in=sorted(SLOT_HOLDING_STATUSES)) | Q(
    status=VisitStatus.CANCELLED, start__isnull=False
)
# A patient also sees what is still to book (after a no-show: to rebook).
_IN_PATIENT_PLAN = _IN_SCHEDULE | Q(
    status__in=[VisitStatus.TO_BOOK, VisitStatus.NO_SHOW]
)


def uid_for(kind: str, key: object) -> str:
    return f"{kind}-{key}@{settings.CLINIC_CALENDAR_DOMAIN}"


def visit_uid(visit: Visit | int) -> str:
    """The visit's UID in every feed and CalDAV calendar; never changes."""
    return uid_for("visit", visit if isinstance(visit, int) else visit.pk)


def visit_id_of_uid(uid: str) -> int | None:
    """The visit a `visit_uid` names; None for any other UID (a surgeon's
    own event, another clinic's, a milestone's)."""
    kind, _, rest = uid.partition("-")
    key, at, domain = rest.partition("@")
    if kind != "visit" or not at or domain != settings.CLINIC_CALENDAR_DOMAIN:
        return None
    # ASCII digits only, no sign, no leading zero: exactly what `visit_uid` writes.
    number = ascii_number(key, max_digits=19)
    return number if number is not None and str(number) == key else None


def mri_warning(visit: Visit) -> str:
    """ "MRI missing" (or "MRI report pending") for a visit read with
    `with_mri_status()` whose scan is not ready; "" otherwise. An entry is
    rendered once, not every day, so it carries the scan's state and not
    `Visit.mri_flag(today)`'s day range; recording a study or its report
    re-renders the patient's reviews (`services.mri`)."""
    status = visit.mri_not_ready()
    return status.flag_text if status else ""


def _summary(
    visit: Visit, *, prefix: str = "", for_patient: bool = False, warning: str = ""
) -> str:
    parts = [f"{prefix}{visit.rule.name}"]
    if not for_patient:
        parts.append(visit.procedure.patient.label())
    if visit.requires_mri:
        parts.append(warning or "MRI")
    return " · ".join(parts)


def render_entry(visit: Visit, *, for_patient: bool = False) -> str:
    """The visit's VEVENT: content lines, folded, each ending in CRLF.

    `for_patient`: for the patient's own feed, which names no patient.
    Reads `visit.rule`, `visit.procedure.patient` and `visit.surgeon`: select
    them with the visit; and `mri_status` (`with_mri_status()`), for a booked
    review's "MRI missing". Never a contact attempt or its note.
    """
    cancelled = visit.status == VisitStatus.CANCELLED
    lines = [
        "BEGIN:VEVENT",
        f"UID:{visit_uid(visit)}",
        f"DTSTAMP:{ical.utc_stamp(visit.updated_at)}",
        f"LAST-MODIFIED:{ical.utc_stamp(visit.updated_at)}",
        f"CREATED:{ical.utc_stamp(visit.created_at)}",
        f"SEQUENCE:{visit.sequence}",
    ]
    timed = visit.start is not None and visit.end is not None
    if timed and (visit.status in SLOT_HOLDING_STATUSES or cancelled):
        lines += _timed_lines(visit, cancelled=cancelled, for_patient=for_patient)
    else:
        lines += _window_lines(visit, cancelled=cancelled, for_patient=for_patient)
    lines.append("END:VEVENT")
    return ical.join_lines(lines)


def _timed_lines(visit: Visit, *, cancelled: bool, for_patient: bool) -> list[str]:
    """A booked (or cancelled booked) visit: its slot, in the clinic's zone."""
    assert visit.start is not None and visit.end is not None  # noqa: S101
    zone = clinic_zone()
    tzid = settings.CLINIC_TIME_ZONE
    warning = "" if cancelled else mri_warning(visit)
    lines = [
        f"DTSTART;TZID={tzid}:{ical.local_stamp(visit.start, zone)}",
        f"DTEND;TZID={tzid}:{ical.local_stamp(visit.end, zone)}",
        "SUMMARY:"
        + ical.escape_text(
            _summary(
                visit,
                prefix="Cancelled: " if cancelled else "",
                for_patient=for_patient,
                warning=warning,
            )
        ),
        "STATUS:" + ("CANCELLED" if cancelled else "CONFIRMED"),
        "TRANSP:OPAQUE",
    ]
    details = [f"With {visit.surgeon}." if visit.surgeon_id else ""]
    if warning:
        details.append(f"{warning}: no reported scan in time for this review.")
    elif visit.requires_mri:
        details.append("Bring the MRI scan.")
    if for_patient:
        details.append(_call_the_clinic("To change or cancel it"))
    description = " ".join(filter(None, details))
    if description:
        lines.append(f"DESCRIPTION:{ical.escape_text(description)}")
    return lines


def _window_lines(visit: Visit, *, cancelled: bool, for_patient: bool) -> list[str]:
    """Still to book: the window, as an all-day event (DTEND is exclusive)."""
    prefix = "To book: "
    if cancelled:
        prefix = "Cancelled: "
    elif visit.status == VisitStatus.NO_SHOW:
        prefix = "To rebook: "
    return [
        f"DTSTART;VALUE=DATE:{ical.date_stamp(visit.window_start)}",
        "DTEND;VALUE=DATE:" + ical.date_stamp(visit.window_end + dt.timedelta(days=1)),
        "SUMMARY:"
        + ical.escape_text(_summary(visit, prefix=prefix, for_patient=for_patient)),
        "STATUS:" + ("CANCELLED" if cancelled else "TENTATIVE"),
        "TRANSP:TRANSPARENT",
        "DESCRIPTION:" + ical.escape_text(_book_between(visit, for_patient)),
    ]


def _book_between(visit: Visit, for_patient: bool) -> str:
    """A window's text; the patient's in the clinic's date format, with the
    number to call."""
    if not for_patient:
        return (
            f"Book this visit between {visit.window_start.isoformat()} "
            f"and {visit.window_end.isoformat()}."
        )
    return " ".join(
        filter(
            None,
            [
                f"Book this visit between {formats.date_format(visit.window_start)} "
                f"and {formats.date_format(visit.window_end)}.",
                _call_the_clinic("To book it"),
            ],
        )
    )


def _call_the_clinic(to_do: str) -> str:
    """ "To book it, call the clinic on +34 …." ("" with no CLINIC_PHONE):
    read when used, so a changed setting reaches the next render."""
    phone = settings.CLINIC_PHONE
    return f"{to_do}, call the clinic on {phone}." if phone else ""


def _visits_for_rendering(visit_ids: Iterable[int]) -> list[Visit]:
    return list(
        Visit.objects.filter(pk__in=list(visit_ids))
        .select_related("rule", "procedure__patient", "surgeon")
        .with_mri_status()
        .order_by("pk")
    )


def store_entries(visits: Iterable[Visit]) -> dict[int, str]:
    """Render these visits (with their relations selected) and store them.

    One upsert; the export fields of an existing entry are left alone.
    Returns the bodies by visit id.
    """
    entries = [
        CalendarEntry(
            visit_id=visit.pk,
            body=render_entry(visit),
            rendered_from=visit.updated_at,
            rendered_sequence=visit.sequence,
            rendered_format=FORMAT_VERSION,
            feed_surgeon_id=visit.surgeon_id,
        )
        for visit in visits
    ]
    if entries:
        CalendarEntry.objects.bulk_create(
            entries,
            batch_size=_batch_size(),
            update_conflicts=True,
            unique_fields=["visit"],
            update_fields=[
                "body",
                "rendered_from",
                "rendered_sequence",
                "rendered_format",
                "feed_surgeon",
            ],
        )
    return {entry.visit_id: entry.body for entry in entries}


def refresh_entries(visits: Iterable[Visit]) -> list[CalendarEntry]:
    """Render these visits from the database as it is now and store them.

    Three queries whatever the number: read the visits with their relations,
    upsert the entries, read the entries back (export fields included).
    """
    ids = [visit.pk for visit in visits]
    if not ids:
        return []
    store_entries(_visits_for_rendering(ids))
    return list(CalendarEntry.objects.filter(visit_id__in=ids).order_by("visit_id"))


def render_calendar_object(visit: Visit) -> bytes:
    """A whole VCALENDAR holding this visit, for a CalDAV PUT (no METHOD)."""
    lines = ical.join_lines(
        ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    )
    text = (
        lines
        + timezone_block()
        + render_entry(visit)
        + ical.join_lines(["END:VCALENDAR"])
    )
    return text.encode()


def timezone_block() -> str:
    return ical.vtimezone(settings.CLINIC_TIME_ZONE, timezone.now().year)


def calendar_header(name: str) -> str:
    """The VCALENDAR's opening lines and the clinic zone's VTIMEZONE."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical.escape_text(name)}",
        f"X-WR-TIMEZONE:{settings.CLINIC_TIME_ZONE}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    return ical.join_lines(lines) + timezone_block()


CALENDAR_FOOTER = "END:VCALENDAR" + ical.CRLF


def render_milestones(procedures: Iterable[Procedure]) -> str:
    """The recovery milestones of these procedures, as all-day events.

    An event changes when its procedure does (the surgery date corrected) or
    its milestone does (the admin): LAST-MODIFIED is the later of the two,
    and SEQUENCE the milestone's revision.
    """
    milestones = {m.code: m for m in RecoveryMilestone.objects.filter(active=True)}
    specs = [milestone.as_spec() for milestone in milestones.values()]
    lines: list[str] = []
    for procedure in procedures:
        if not procedure.is_active():
            continue
        for spec, day in rules.milestones(plan_input(procedure), specs):
            milestone = milestones[spec.code]
            stamp = ical.utc_stamp(max(procedure.updated_at, milestone.updated_at))
            lines += [
                "BEGIN:VEVENT",
                f"UID:{uid_for('milestone', f'{procedure.pk}-{spec.code}')}",
                f"DTSTAMP:{stamp}",
                f"LAST-MODIFIED:{stamp}",
                f"SEQUENCE:{milestone.revision}",
                f"DTSTART;VALUE=DATE:{ical.date_stamp(day)}",
                f"DTEND;VALUE=DATE:{ical.date_stamp(day + dt.timedelta(days=1))}",
                f"SUMMARY:{ical.escape_text(spec.title)}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
    return ical.join_lines(lines)


def _batch_size() -> int:
    # Each entry is ~6 parameters; stay under the backend's parameter limit.
    limit = connection.features.max_query_params or 60_000
    return max(1, min(5_000, limit // 8))


# --- whole feeds --------------------------------------------------------------


def feed_visits(scope: str, owner_id: int | None) -> Q:
    """The visits a feed lists."""
    if scope == LinkScope.SURGEON:
        return Q(surgeon_id=owner_id) & _IN_SCHEDULE
    if scope == LinkScope.PATIENT:
        return Q(procedure__patient_id=owner_id) & _IN_PATIENT_PLAN
    return _IN_SCHEDULE


def feed_name(scope: str, owner_id: int | None) -> str:
    clinic = settings.CLINIC_CALENDAR_NAME
    if owner_id is None:
        return f"{clinic} · follow-up visits"
    if scope == LinkScope.SURGEON:
        surgeon = Surgeon.objects.filter(pk=owner_id).first()
        return f"{surgeon or clinic} · follow-up visits"
    # A patient's own feed names no patient: the calendar provider it goes
    # to has no need of a record number.
    return f"{clinic} · follow-up visits"


def build_feed(scope: str, owner_id: int | None) -> bytes:
    """A whole feed from stored entries, rendering only the stale ones.

    An entry is stale when it is missing or was rendered from an older state
    of its visit (the export task has not caught up): it is rendered and
    stored here, so a feed is always current when read.
    """
    if scope == LinkScope.PATIENT and owner_id is not None:
        return _patient_feed(owner_id)
    rows = list(
        Visit.objects.filter(feed_visits(scope, owner_id))
        .order_by("pk")
        .values_list(
            "pk",
            "updated_at",
            "sequence",
            "calendar_entry__body",
            "calendar_entry__rendered_from",
            "calendar_entry__rendered_sequence",
            "calendar_entry__rendered_format",
        )
    )
    stale = [
        pk
        for pk, updated_at, sequence, body, rendered_from, rendered_seq, form in rows
        if not body
        or rendered_from != updated_at
        or rendered_seq != sequence
        or form != FORMAT_VERSION
    ]
    fresh = store_entries(_visits_for_rendering(stale)) if stale else {}
    parts = [calendar_header(feed_name(scope, owner_id))]
    parts.extend(fresh.get(row[0]) or row[3] for row in rows)
    parts.append(CALENDAR_FOOTER)
    return "".join(parts).encode()


def patient_visit_calendar(visit_id: int) -> bytes:
    """One visit as the patient's own feed shows it (no patient named), in
    a calendar of its own: the booking page's download."""
    parts = [calendar_header(settings.CLINIC_CALENDAR_NAME)]
    parts.extend(
        render_entry(visit, for_patient=True)
        for visit in _visits_for_rendering([visit_id])
    )
    parts.append(CALENDAR_FOOTER)
    return "".join(parts).encode()


def _patient_feed(patient_id: int) -> bytes:
    """The patient's own feed: their entries rendered without any label."""
    ids = Visit.objects.filter(feed_visits(LinkScope.PATIENT, patient_id)).values_list(
        "pk", flat=True
    )
    parts = [calendar_header(feed_name(LinkScope.PATIENT, patient_id))]
    parts.extend(
        render_entry(visit, for_patient=True) for visit in _visits_for_rendering(ids)
    )
    parts.append(render_milestones(Procedure.objects.filter(patient_id=patient_id)))
    parts.append(CALENDAR_FOOTER)
    return "".join(parts).encode()
