"""No log line carries a feed token or a search term.

Through the URLs a person would use: GET, POST, OPTIONS and PUT on a feed
URL, a page search (`?q=Garcia`), the development server's access lines and
gunicorn's, started as the Dockerfile starts it.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from clinic.models import Surgeon
from feeds import links
from tests.processes import free_port

# A fresh feed cache and process memory: feed versions repeat across tests.
pytestmark = pytest.mark.usefixtures("own_feed_cache")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog, also on django.server, which does not propagate to the root."""
    server = logging.getLogger("django.server")
    server.addHandler(caplog.handler)
    with caplog.at_level(logging.DEBUG):
        yield caplog
    server.removeHandler(caplog.handler)


def token_of(issued: links.IssuedLink) -> str:
    return issued.path.removeprefix("/calendar/").removesuffix(".ics")


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "options", "put", "delete", "patch"])
def test_other_methods_on_a_feed_get_a_plain_405_and_leave_no_token(
    method: str, surgeon_a: Surgeon, every_log: pytest.LogCaptureFixture
) -> None:
    issued = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    # enforce_csrf_checks: a POST must not die in the CSRF check, which logs
    # the path too.
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(issued.path)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert token_of(issued).encode() not in response.content
    assert token_of(issued) not in every_log.text
    assert Client().get(issued.path).status_code == 200  # nothing changed


@pytest.mark.django_db
def test_reading_a_feed_and_a_missing_feed_page_leave_no_token(
    surgeon_a: Surgeon, every_log: pytest.LogCaptureFixture
) -> None:
    issued = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    token = token_of(issued)

    assert Client().get(issued.path).status_code == 200
    # No .ics: Django's own 404, whose one line is the server's access line.
    assert Client().get(f"/calendar/{token}").status_code == 404
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /calendar/{token} HTTP/1.1", "404", "179"
    )

    assert every_log.records, "the 404 was logged, redacted"
    assert token not in every_log.text
    assert "/calendar/[redacted]" in every_log.text


@pytest.mark.django_db
def test_a_page_search_term_is_not_logged(
    front_desk: User, every_log: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(front_desk)
    assert client.get("/desk/?q=Garcia").status_code == 200

    # What the development server writes for each request it serves.
    logging.getLogger("django.server").info(
        '"%s" %s %s', "GET /desk/?page=2&q=Garcia HTTP/1.1", "200", "1234"
    )

    assert "Garcia" not in every_log.text
    assert "q=[redacted]" in every_log.text


def request(url: str, method: str = "GET") -> int:
    try:
        loopback = urllib.request.Request(url, method=method)  # noqa: S310
        # The first request waits for gunicorn's worker to boot and load the
        # app: it once took more than 10 s on a CI machine busy with tests.
        with urllib.request.urlopen(loopback, timeout=60) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.django_db(transaction=True)
def test_gunicorn_as_deployed_writes_no_token_and_no_search_term(
    surgeon_a: Surgeon,
) -> None:
    issued = links.create_link(scope="surgeon", surgeon_id=surgeon_a.pk)
    token = token_of(issued)
    port = free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "config/gunicorn.py",
            "config.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        statuses = [
            request(base + issued.path),
            request(base + issued.path, "POST"),
            request(base + issued.path, "OPTIONS"),
            request(base + "/calendar/" + "B" * 43 + ".ics"),
            request(base + "/desk/?q=Garcia"),
        ]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    text = output.decode()

    assert statuses == [200, 405, 405, 404, 200], text  # the login page
    assert "/calendar/[redacted]" in text
    assert token not in text
    assert "B" * 43 not in text
    assert "Garcia" not in text


@pytest.mark.parametrize(
    "line",
    [
        "GET /api/patients/?phone=%2B34612345678&email=jose%40example.es",
        "Refused: phone +34612345678 for patient 12",
        "Refused: email jose.garcia@example.es for patient 12",
    ],
)
def test_a_patients_phone_or_email_never_reaches_a_log_line(line: str) -> None:
    from core.redaction import redact

    cleaned = redact(line)

    assert "612345678" not in cleaned
    assert "example.es" not in cleaned
    assert "[redacted]" in cleaned


@pytest.mark.django_db
@pytest.mark.postgres
def test_messages_carrying_a_booking_link_leave_no_token_in_any_log_line(
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    every_log: pytest.LogCaptureFixture,
) -> None:
    """An SMS to the log (the demo), an email through a real SMTP server and
    an SMS through Twilio's stand-in, each carrying its visit's link: the raw
    records, before any redaction, hold none of their tokens."""
    from booking_links.models import BookingLink
    from booking_links.services import derived_token
    from clinic import clock
    from clinic.models import Reminders
    from messaging.services import send_due_messages
    from tests.followup.world import NOW, WEEKDAYS_9_TO_14
    from tests.messaging import stand_ins
    from tests.messaging.conftest import visit_of

    monkeypatch.setattr(clock, "now", lambda: NOW)
    settings.CLINIC_TIME_ZONE = "Europe/Madrid"
    settings.CLINIC_HOURS = WEEKDAYS_9_TO_14
    settings.MESSAGE_QUIET_HOURS = ""
    settings.SMS_BACKEND = "console"
    by_log = visit_of()  # its invitation is due now, as is the email's
    visit_of(Reminders.EMAIL)
    bodies: list[str] = []
    for mailbox, port in stand_ins.smtp_server():
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        send_due_messages(now=NOW)
        bodies += [text for _, text in mailbox.received]
    for twilio in stand_ins.twilio_server():
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
        settings.TWILIO_AUTH_TOKEN = "secret-token"
        settings.TWILIO_FROM = "+34911111111"
        settings.TWILIO_API_BASE_URL = twilio.url
        visit_of()
        send_due_messages(now=NOW)
        bodies += [call["Body"] for call in twilio.requests]

    tokens = [t for body in bodies for t in re.findall(r"/p/([\w-]{43})/", body)]
    assert len(tokens) == 2  # the email's and Twilio's
    logged = derived_token(BookingLink.objects.get(visit=by_log))
    assert logged is not None
    assert "SMS to" in every_log.text and "[booking link]" in every_log.text
    for token in [*tokens, logged]:
        assert token not in every_log.text
