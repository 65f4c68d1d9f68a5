"""The link's guards: guesses and polls throttled like the feeds', and the
token kept out of every log line."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from booking_links.models import BookingLinkUse
from tests.booking_links.conftest import Linked, patient_client

pytestmark = pytest.mark.django_db


def test_guessing_tokens_from_one_address_is_throttled(
    settings: Any, linked: Linked
) -> None:
    settings.BOOKING_LINK_GUESSES_PER_IP_HOUR = 3
    client = patient_client()
    answers = [
        client.get(f"/p/{str(n) * 43}/", REMOTE_ADDR="203.0.113.9").status_code
        for n in range(5)
    ]

    assert answers == [404, 404, 404, 429, 429]
    # A guesser's address does not lock others out of their own link.
    assert patient_client().get(linked.url).status_code == 200


def test_polling_one_link_too_often_is_throttled(settings: Any, linked: Linked) -> None:
    settings.BOOKING_LINK_REQUESTS_PER_TOKEN_HOUR = 2
    client = patient_client()

    answers = [client.get(linked.url).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    refused = client.get(linked.url)
    assert int(refused["Retry-After"]) > 0
    assert refused["Cache-Control"] == "no-store"


def test_the_token_never_reaches_a_log_line(
    linked: Linked, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = patient_client()
    client.get(linked.url)
    client.get(f"/p/{'z' * 43}/")
    client.post(linked.url, {"start": "nonsense"})  # refused by the CSRF check
    client.get(f"{linked.url}visit.ics")

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert linked.token not in logged
    assert "z" * 43 not in logged


def assert_the_patients_400(refused: Any) -> None:
    """The patient's own 400: in their words, as private as the page, and
    under the site's frame and content policies."""
    assert refused.status_code == 400
    assert "This link was changed on its way" in refused.text
    assert refused["Cache-Control"] == "no-store"
    assert refused["Referrer-Policy"] == "no-referrer"
    assert refused["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in refused["Content-Security-Policy"]


@pytest.mark.parametrize("suffix", ["", "visit.ics"])
def test_an_address_with_a_null_is_refused_in_the_patients_words_and_kept_private(
    linked: Linked, suffix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    refused = patient_client().get(f"{linked.url}{suffix}?x=%00")

    assert_the_patients_400(refused)
    assert "href=" not in refused.text  # not the staff's page, with its links
    assert not BookingLinkUse.objects.exists()
    assert linked.token not in "\n".join(r.getMessage() for r in caplog.records)


# Requests Django itself refuses to read: more fields than it reads
# (DATA_UPLOAD_MAX_NUMBER_FIELDS, 1000), a form without its boundary.
TOO_MANY = "&".join(f"f{n}=1" for n in range(1001))
UNREADABLE = {
    "too many fields in the address": ("GET", f"?{TOO_MANY}", b"", ""),
    "too many fields in the form": (
        "POST",
        "",
        TOO_MANY.encode(),
        "application/x-www-form-urlencoded",
    ),
    "a form without its boundary": ("POST", "", b"x", "multipart/form-data"),
}


@pytest.mark.parametrize("what", UNREADABLE)
def test_a_request_django_cannot_read_is_refused_in_the_patients_words_and_private(
    linked: Linked, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    method, query, body, content_type = UNREADABLE[what]

    refused = patient_client().generic(
        method, f"{linked.url}{query}", body, content_type=content_type
    )

    assert_the_patients_400(refused)
    assert "<script" not in refused.text  # not the staff's page
    assert refused.cookies == {}  # nor its CSRF cookie
    assert not BookingLinkUse.objects.exists()
    assert linked.token not in "\n".join(r.getMessage() for r in caplog.records)
