"""CalDAV failures in words an admin can act on, and the admin's "Test
connection". Real servers: Radicale (one without and one with passwords),
behind a proxy that can be stopped or made slow."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client
from django.utils.html import escape

from clinic.models import Surgeon
from feeds.caldav import client as caldav_client
from feeds.caldav import errors as caldav_errors
from feeds.models import CalendarEntry, ExportState, SurgeonCalendar
from feeds.tasks import export_visits
from tests.factories import SurgeonFactory
from tests.feeds.conftest import (
    RADICALE_PASSWORD,
    RADICALE_USER,
    CalDAVProxy,
    Radicale,
    at,
    book,
    free_port,
    postop_visit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.caldav]
MakeCalendar = Callable[..., SurgeonCalendar]


@pytest.fixture
def surgeon() -> Surgeon:
    return SurgeonFactory.create(given_name="Ana", family_name="Alvarez")


def stored_error(calendar: SurgeonCalendar) -> str:
    """Book a visit for the calendar's surgeon, export it, read what is kept."""
    visit = book(postop_visit(calendar.surgeon), at(9, 9))
    # An unreachable server raises, for the task to retry; a refusal does not.
    with contextlib.suppress(caldav_client.CalDAVUnavailable):
        export_visits([visit.pk])
    entry = CalendarEntry.objects.get(pk=visit.pk)
    assert entry.export_state == ExportState.FAILED
    return entry.export_error


# --- what the export stores --------------------------------------------------


def test_a_missing_collection_is_stored_and_listed_in_words(
    surgeon: Surgeon, radicale: Radicale, clinic_admin: User
) -> None:
    url = f"{radicale.url}nobody/none/"
    calendar = SurgeonCalendar.objects.create(surgeon=surgeon, url=url)
    words = (
        f"The calendar collection does not exist at {url} (409 Conflict): "
        "create it on the server first, or correct the URL."
    )

    assert stored_error(calendar) == words
    admin = Client()
    admin.force_login(clinic_admin)
    assert escape(words) in admin.get("/admin/feeds/calendarentry/").content.decode()


def test_a_refused_connection_is_stored_in_words_without_credentials(
    surgeon: Surgeon, caldav_proxy: CalDAVProxy, make_surgeon_calendar: MakeCalendar
) -> None:
    calendar = make_surgeon_calendar(
        surgeon, base_url=caldav_proxy.url, username="ana", password="pw-secret-1"
    )
    caldav_proxy.down()

    error = stored_error(calendar)

    assert error == (
        f"Could not connect to the CalDAV server at 127.0.0.1:{caldav_proxy.port} "
        "(connection refused): check the URL's host and port, and that the "
        "server is running."
    )
    assert "pw-secret-1" not in error


def test_a_slow_server_is_stored_as_a_timeout_in_words(
    surgeon: Surgeon,
    caldav_proxy: CalDAVProxy,
    make_surgeon_calendar: MakeCalendar,
    settings: object,
) -> None:
    calendar = make_surgeon_calendar(surgeon, base_url=caldav_proxy.url)
    settings.CALDAV_TIMEOUT_SECONDS = 1  # type: ignore[attr-defined]
    caldav_proxy.delay = 3

    assert stored_error(calendar) == (
        f"The CalDAV server at 127.0.0.1:{caldav_proxy.port} did not answer "
        "within the 1 s timeout: it may be overloaded or unreachable; the export "
        "tries again on its own."
    )


def test_an_unknown_host_name_is_stored_in_words(surgeon: Surgeon) -> None:
    # .invalid never resolves (RFC 6761).
    calendar = SurgeonCalendar.objects.create(
        surgeon=surgeon, url="http://calendar.clinic.invalid/ana/clinic/"
    )

    assert stored_error(calendar) == (
        "The server name calendar.clinic.invalid could not be found (DNS lookup "
        "failed): check the host name in the calendar URL."
    )


def test_a_wrong_password_is_stored_in_words_without_the_password(
    surgeon: Surgeon, radicale_with_login: Radicale
) -> None:
    calendar = SurgeonCalendar.objects.create(
        surgeon=surgeon,
        url=f"{radicale_with_login.url}{RADICALE_USER}/clinic/",
        username=RADICALE_USER,
        password="not-the-password",
    )

    error = stored_error(calendar)

    assert error == (
        f"The CalDAV server at 127.0.0.1:{radicale_with_login.port} did not "
        "accept the user name and password (401 Unauthorized): correct them in "
        "this surgeon's calendar settings."
    )
    assert "not-the-password" not in error


def test_another_users_calendar_is_stored_as_forbidden_in_words(
    surgeon: Surgeon, radicale_with_login: Radicale
) -> None:
    url = f"{radicale_with_login.url}{RADICALE_USER}/clinic/"
    calendar = SurgeonCalendar.objects.create(
        surgeon=surgeon, url=url, username="bruno", password="bruno-pw-1"
    )

    assert stored_error(calendar) == (
        f"The CalDAV account may not use the calendar at {url} (403 Forbidden): "
        "give the user write access to it on the server, or enter another "
        "account."
    )


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (404, "The calendar collection does not exist at {url} (404 Not Found): "),
        (
            412,
            "refused to store the event because its own copy differs from what "
            "the clinic expected (412 Precondition Failed): re-send the visit",
        ),
        (500, "failed (500 Internal Server Error): a problem on the server's side"),
        (503, "failed (503 Service Unavailable): a problem on the server's side"),
        (429, "asks for fewer requests (429 Too Many Requests)"),
    ],
)
def test_answers_radicale_never_gives_are_explained_too(
    status: int, words: str
) -> None:
    url = "https://cal.example/ana/clinic/"

    failure = caldav_errors.explain_status(status, url=url)

    assert words.format(url=url) in failure.message
    assert failure.retry is (status >= 429)


# --- the admin's "Test connection" -------------------------------------------


@pytest.fixture
def admin_client(clinic_admin: User) -> Client:
    client = Client()
    client.force_login(clinic_admin)
    return client


def run_test_connection(admin_client: Client, calendar: SurgeonCalendar) -> list[str]:
    response = admin_client.post(
        "/admin/feeds/surgeoncalendar/",
        {"action": "test_connection", "_selected_action": [calendar.pk]},
    )
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_test_connection_succeeds_against_a_real_calendar_and_sends_nothing(
    admin_client: Client,
    surgeon: Surgeon,
    make_surgeon_calendar: MakeCalendar,
    radicale: Radicale,
) -> None:
    calendar = make_surgeon_calendar(surgeon)
    book(postop_visit(surgeon), at(9, 9))

    assert run_test_connection(admin_client, calendar) == [
        "CalDAV calendar of Dr. Ana Alvarez: connected; the calendar collection "
        "exists and the credentials were accepted."
    ]
    assert radicale.events(calendar.url) == []


def test_test_connection_accepts_the_right_password(
    admin_client: Client, surgeon: Surgeon, radicale_with_login: Radicale
) -> None:
    calendar = SurgeonCalendar.objects.create(
        surgeon=surgeon,
        url=f"{radicale_with_login.url}{RADICALE_USER}/clinic/",
        username=RADICALE_USER,
        password=RADICALE_PASSWORD,
    )

    (message,) = run_test_connection(admin_client, calendar)

    assert message.endswith(
        ": connected; the calendar collection exists and the credentials were accepted."
    )


def test_test_connection_explains_a_missing_collection(
    admin_client: Client, surgeon: Surgeon, radicale: Radicale
) -> None:
    url = f"{radicale.url}nobody/none/"
    calendar = SurgeonCalendar.objects.create(surgeon=surgeon, url=url)

    assert run_test_connection(admin_client, calendar) == [
        f"CalDAV calendar of Dr. Ana Alvarez: The calendar collection does not "
        f"exist at {url} (404 Not Found): create it on the server first, or "
        "correct the URL."
    ]


def test_test_connection_explains_a_url_that_is_not_a_calendar(
    admin_client: Client,
    surgeon: Surgeon,
    make_surgeon_calendar: MakeCalendar,
) -> None:
    calendar = make_surgeon_calendar(surgeon)
    owner_url = calendar.url.removesuffix("clinic/")
    SurgeonCalendar.objects.filter(pk=calendar.pk).update(url=owner_url)
    calendar.refresh_from_db()

    (message,) = run_test_connection(admin_client, calendar)

    assert f"{owner_url} exists but is not a calendar collection" in message


def test_test_connection_explains_a_refused_connection(
    admin_client: Client, surgeon: Surgeon
) -> None:
    port = free_port()  # nothing listens there
    calendar = SurgeonCalendar.objects.create(
        surgeon=surgeon, url=f"http://127.0.0.1:{port}/ana/clinic/"
    )

    assert run_test_connection(admin_client, calendar) == [
        f"CalDAV calendar of Dr. Ana Alvarez: Could not connect to the CalDAV "
        f"server at 127.0.0.1:{port} (connection refused): check the URL's host "
        "and port, and that the server is running."
    ]
