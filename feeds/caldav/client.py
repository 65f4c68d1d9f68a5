"""The CalDAV HTTP client: PUT, DELETE, PROPFIND and REPORT on a surgeon's
calendar.

It knows the server and nothing of visits or export state
(`feeds.caldav.push`). Objects are named by their UID and stored byte for
byte (`increase_seqno=False`, `raw_data=`): the database owns SEQUENCE, and
caldav never rewrites an object. Every failure is raised as a `CalDAVError`
in words an admin can act on (`feeds.caldav.errors`), whose text never holds
credentials: URLs lose their userinfo and the stored password is masked
(`scrub`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape

import icalendar
from caldav.calendarobjectresource import Event
from caldav.davclient import DAVClient
from caldav.lib import error as caldav_error
from caldav.response import DAVResponse
from django.conf import settings

from feeds.caldav import errors as caldav_errors
from feeds.models import SurgeonCalendar

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]*@")
_MAX_ERROR_LENGTH = 2000


class CalDAVError(Exception):
    """A push failed. The message is safe to store and show: no credentials."""


class CalDAVUnavailable(CalDAVError):
    """The server was unreachable or failed (5xx): retry later, stop the batch."""


class CalDAVRefused(CalDAVError):
    """The server refused this object (4xx): other visits may still go."""


def scrub(text: str, *secrets: str) -> str:
    """Text fit for a log line or the admin: no userinfo, no secret values."""
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:_MAX_ERROR_LENGTH]


@dataclass(frozen=True)
class CalendarTarget:
    url: str
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def of(cls, calendar: SurgeonCalendar) -> CalendarTarget:
        return cls(
            url=calendar.url, username=calendar.username, password=calendar.password
        )


# Objects are named by their UID, so `If-None-Match: *` on the URL is the
# whole "create, never overwrite" check: without this hint caldav first runs
# a UID search REPORT, which Radicale answers by reading every object of the
# calendar (measured: ~1 s per create in a calendar of 100 events).
_SERVER_FEATURES = {"save.no-uid-conflict": {"support": "full"}}


def _client(target: CalendarTarget) -> DAVClient:
    return DAVClient(
        url=target.url,
        username=target.username or None,
        password=target.password or None,
        timeout=settings.CALDAV_TIMEOUT_SECONDS,
        features=_SERVER_FEATURES,
    )


def _object_name(uid: str) -> str:
    # The object's name is its UID, quoted as caldav itself names objects
    # ("/" double-quoted, "@" as %40).
    return quote(uid.replace("/", "%2F"), safe="") + ".ics"


def _uid_of_path(path: str) -> str:
    """The UID an object's (unquoted) path names: `_object_name` undone."""
    return path.rpartition("/")[2].removesuffix(".ics").replace("%2F", "/")


def _event(client: DAVClient, target: CalendarTarget, uid: str) -> Event:
    calendar = client.calendar(url=target.url)
    # Without a URL caldav's delete() silently does nothing.
    name = _object_name(uid)
    return Event(client=client, parent=calendar, url=calendar.url.join(name), id=uid)


@contextlib.contextmanager
def _translated_errors(target: CalendarTarget) -> Iterator[None]:
    # `from None`: the original exception and its chain carry the request URL
    # (and so any userinfo); only the scrubbed text may travel further.
    try:
        yield
    # OSError: niquests/requests connection errors and timeouts.
    except (caldav_error.DAVError, OSError) as exc:
        failure = caldav_errors.explain(
            exc, url=target.url, timeout=settings.CALDAV_TIMEOUT_SECONDS
        )
        raise _error_of(failure, target) from None


def _error_of(failure: caldav_errors.Failure, target: CalendarTarget) -> CalDAVError:
    message = scrub(failure.message, target.password)
    return CalDAVUnavailable(message) if failure.retry else CalDAVRefused(message)


def put_event(target: CalendarTarget, *, uid: str, ical: bytes, create: bool) -> None:
    """Store the VCALENDAR under its UID, exactly as given."""
    with _translated_errors(target):
        client = _client(target)
        if create:
            try:
                _event(client, target, uid).save(
                    no_overwrite=True, increase_seqno=False, raw_data=ical
                )
                return
            except caldav_error.ConsistencyError:
                # Stored by an attempt whose outcome was never recorded (its
                # worker died): overwrite it like any update.
                pass
        _event(client, target, uid).save(increase_seqno=False, raw_data=ical)


def delete_event(target: CalendarTarget, *, uid: str) -> None:
    """Remove the object with this UID; already gone (404) is success."""
    with _translated_errors(target):
        client = _client(target)
        _event(client, target, uid).delete()


_PROPFIND_RESOURCETYPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>'
)
_CALDAV_CALENDAR = "{urn:ietf:params:xml:ns:caldav}calendar"


def check_calendar(target: CalendarTarget) -> None:
    """Reach the calendar collection with its credentials, changing nothing.

    One PROPFIND (depth 0) of the collection's resource type: raises a
    `CalDAVError` in words when the server is unreachable, the credentials
    are refused, or the URL is not a calendar collection.
    """
    response = _propfind(target, depth=0)
    tree = response.tree
    if tree is None or tree.find(f".//{_CALDAV_CALENDAR}") is None:
        raise _not_a_calendar(target, response.status)


def list_event_uids(target: CalendarTarget) -> set[str]:
    """The UIDs of the objects stored in the calendar, changing nothing.

    One PROPFIND (depth 1) of the collection's members: objects are named
    `<UID>.ics` (as `_event` names them), so the names are the UIDs, and no
    object is downloaded. Members named otherwise (a surgeon's own events
    stored by another client, sub-collections) are left out. Raises a
    `CalDAVError` like `check_calendar`.
    """
    response = _propfind(target, depth=1)
    collection = unquote(urlsplit(target.url).path).rstrip("/")
    is_calendar = False
    uids: set[str] = set()
    tree = response.tree
    for member in [] if tree is None else tree.iter("{DAV:}response"):
        path = unquote(urlsplit(member.findtext("{DAV:}href") or "").path)
        if path.rstrip("/") == collection:
            is_calendar = member.find(f".//{_CALDAV_CALENDAR}") is not None
        elif path.endswith(".ics"):
            uids.add(_uid_of_path(path))
    if not is_calendar:
        raise _not_a_calendar(target, response.status)
    return uids


@dataclass(frozen=True)
class StoredVersion:
    """What one stored object says of its event: SEQUENCE and times."""

    sequence: int
    start: dt.date | None
    end: dt.date | None


_MULTIGET = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:prop><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"
)
_CALENDAR_DATA = "{urn:ietf:params:xml:ns:caldav}calendar-data"


def stored_versions(
    target: CalendarTarget, uids: Collection[str]
) -> dict[str, StoredVersion | None]:
    """The version of the event each of these objects holds, changing nothing.

    One calendar-multiget REPORT of exactly these objects (named by their
    UID, as `_event` names them): no other object of the calendar is read.
    An object whose calendar data cannot be parsed, or holds no single
    VEVENT with a SEQUENCE, maps to None; one gone since it was listed is
    left out. Raises a `CalDAVError` in words like `check_calendar`.
    """
    if not uids:
        return {}
    base = urlsplit(target.url).path.rstrip("/") + "/"
    hrefs = "".join(
        f"<d:href>{escape(base + _object_name(uid))}</d:href>" for uid in sorted(uids)
    )
    with _translated_errors(target):
        response = _client(target).report(
            target.url, _MULTIGET.format(hrefs=hrefs), depth=1
        )
    if response.status >= 400:
        raise _status_error(target, response)
    versions: dict[str, StoredVersion | None] = {}
    tree = response.tree
    for member in [] if tree is None else tree.iter("{DAV:}response"):
        data = member.findtext(f".//{_CALENDAR_DATA}")
        if data is None:
            continue  # gone since the listing (a 404 for this href)
        path = unquote(urlsplit(member.findtext("{DAV:}href") or "").path)
        versions[_uid_of_path(path)] = _version_of(data)
    return versions


def _version_of(data: str) -> StoredVersion | None:
    try:
        events = icalendar.Calendar.from_ical(data).walk("VEVENT")
        if len(events) != 1 or "SEQUENCE" not in events[0]:
            return None
        event = events[0]
        start, end = event.decoded("DTSTART", None), event.decoded("DTEND", None)
        if not all(isinstance(t, dt.date | None) for t in (start, end)):
            return None  # icalendar keeps a broken value as text
        return StoredVersion(
            sequence=int(event.decoded("SEQUENCE")), start=start, end=end
        )
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def _status_error(target: CalendarTarget, response: DAVResponse) -> CalDAVError:
    failure = caldav_errors.explain_status(
        response.status, url=target.url, server_text=str(response.raw or "")
    )
    return _error_of(failure, target)


def _propfind(target: CalendarTarget, *, depth: int) -> DAVResponse:
    with _translated_errors(target):
        response = _client(target).propfind(
            target.url, props=_PROPFIND_RESOURCETYPE, depth=depth
        )
    if response.status >= 400:
        raise _status_error(target, response)
    return response


def _not_a_calendar(target: CalendarTarget, status: int) -> CalDAVRefused:
    return CalDAVRefused(
        scrub(
            f"{target.url} exists but is not a calendar collection "
            f"({status} answer without a calendar resource type): "
            "use the URL of the calendar itself, as the server lists it.",
            target.password,
        )
    )
