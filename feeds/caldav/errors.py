"""CalDAV failures in words an admin can act on.

The export stores these sentences on the visit's calendar entry and the
admin's "Test connection" shows them: what went wrong, where, and what to
do, e.g. "The calendar collection does not exist at <URL> (409 Conflict):
create it on the server first, or correct the URL." Never an exception's
repr. Each failure also says whether waiting can fix it (`retry`): an
unreachable or failing server can come back, wrong credentials or a missing
collection need a person.

The caller scrubs the text (`caldav_push.scrub`): the URL given here may
still hold credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from caldav.lib import error as caldav_error
from caldav.lib.http_sync import requests as http

_DNS_FAILURE = (
    "NameResolutionError",
    "Failed to resolve",
    "Name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "Temporary failure in name resolution",
)


@dataclass(frozen=True)
class Failure:
    message: str
    retry: bool


def _host(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def explain_status(status: int, *, url: str, server_text: str = "") -> Failure:
    """An HTTP error answer of the CalDAV server for the calendar at `url`."""
    code = _status_text(status)
    host = _host(url)
    if status == 401:
        return Failure(
            f"The CalDAV server at {host} did not accept the user name and "
            f"password ({code}): correct them in this surgeon's calendar "
            "settings.",
            retry=False,
        )
    if status == 403:
        return Failure(
            f"The CalDAV account may not use the calendar at {url} ({code}): "
            "give the user write access to it on the server, or enter another "
            "account.",
            retry=False,
        )
    if status in (404, 409, 410):
        return Failure(
            f"The calendar collection does not exist at {url} ({code}): "
            "create it on the server first, or correct the URL.",
            retry=False,
        )
    if status == 412:
        return Failure(
            f"The CalDAV server at {host} refused to store the event because "
            f"its own copy differs from what the clinic expected ({code}): "
            "re-send the visit from the admin; if it fails again, delete the "
            "event on the server, then re-send.",
            retry=False,
        )
    if status == 429:
        return Failure(
            f"The CalDAV server at {host} asks for fewer requests ({code}): "
            "the export tries again on its own.",
            retry=True,
        )
    if status >= 500:
        return Failure(
            f"The CalDAV server at {host} failed ({code}): a problem on the "
            "server's side; the export tries again on its own, and if it "
            "lasts, the server's administrator needs to look at it.",
            retry=True,
        )
    detail = server_text.strip().splitlines()[0] if server_text.strip() else ""
    return Failure(
        f"The CalDAV server refused the request for {url} ({code})"
        + (f": the server says {detail!r}." if detail else "."),
        retry=False,
    )


def _server_text(exc: caldav_error.DAVError) -> str:
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return body if isinstance(body, str) and not body.lstrip().startswith("<") else ""


def explain(exc: BaseException, *, url: str, timeout: float) -> Failure:
    """Any failure of a request to the calendar at `url`."""
    host = _host(url)
    if isinstance(exc, caldav_error.UidConflictError):
        return Failure(
            f"The calendar at {url} already holds another event with this "
            f"visit's UID ({_status_text(exc.status or 409)}): delete that event "
            "on the server, then re-send the visit from the admin.",
            retry=False,
        )
    if isinstance(exc, caldav_error.DAVError):
        if exc.status is not None:
            return explain_status(exc.status, url=url, server_text=_server_text(exc))
        return Failure(
            f"The CalDAV server at {host} gave an answer the clinic could not "
            f"use ({type(exc).__name__}): check that {url} is a CalDAV calendar.",
            retry=True,
        )
    if isinstance(exc, http.exceptions.Timeout):
        return Failure(
            f"The CalDAV server at {host} did not answer within the "
            f"{timeout:g} s timeout: it may be overloaded or unreachable; the "
            "export tries again on its own.",
            retry=True,
        )
    if isinstance(exc, http.exceptions.SSLError):
        return Failure(
            f"The secure connection to {host} failed (TLS certificate or "
            "protocol error): check the URL's scheme and the server's "
            "certificate.",
            retry=True,
        )
    text = str(exc)
    if any(marker in text for marker in _DNS_FAILURE):
        return Failure(
            f"The server name {urlsplit(url).hostname} could not be found (DNS "
            "lookup failed): check the host name in the calendar URL.",
            retry=True,
        )
    if isinstance(exc, ConnectionRefusedError) or "refused" in text.lower():
        return Failure(
            f"Could not connect to the CalDAV server at {host} (connection "
            "refused): check the URL's host and port, and that the server is "
            "running.",
            retry=True,
        )
    return Failure(
        f"Could not reach the CalDAV server at {host} ({type(exc).__name__}): "
        "check the calendar URL and the network.",
        retry=True,
    )
