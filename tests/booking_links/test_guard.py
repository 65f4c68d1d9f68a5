"""The link's guards: guesses and polls throttled like the feeds', and the
token kept out of every log line."""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import pytest

from booking_links.models import BookingLinkUse
from tests.booking_links.conftest import Linked, patient_client

pytestmark = pytest.mark.django_db


def test_guessing_tokens_from_one_address_is_throttled(
    settings: Any, linked: Linked
) -> None:
    settings.BOOKING_LINK_GUESSES_PER_IP_HOUR = 3
    settings.CLINIC_PHONE = "+34 910 000 000"
    client = patient_client()
    answers = [
        client.get(f"/p/{str(n) * 43}/", REMOTE_ADDR="203.0.113.9").status_code
        for n in range(5)
    ]

    assert answers == [404, 404, 404, 429, 429]
    assert_the_patients_429(client.get(linked.url, REMOTE_ADDR="203.0.113.9"))
    # A guesser's address does not lock others out of their own link.
    assert patient_client().get(linked.url).status_code == 200


def test_polling_one_link_too_often_is_throttled(settings: Any, linked: Linked) -> None:
    settings.BOOKING_LINK_REQUESTS_PER_TOKEN_HOUR = 2
    settings.CLINIC_PHONE = "+34 910 000 000"
    client = patient_client()

    answers = [client.get(linked.url).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    refused = client.get(linked.url)
    assert int(refused["Retry-After"]) > 0
    assert_the_patients_429(refused)
    assert "Ana" not in refused.text  # nothing of the link


def assert_the_patients_429(refused: Any) -> None:
    """A page on the patient's phone: too many tries, when to try again (as
    `Retry-After` says, in minutes), or the clinic's number; as private as
    the page."""
    assert refused.status_code == 429
    assert refused["Content-Type"] == "text/html; charset=utf-8"
    page = refused.text
    assert "<h1>Too many tries</h1>" in page
    minutes = math.ceil(int(refused["Retry-After"]) / 60)
    assert f"Please try again in {minutes} minute" in page
    assert re.search(r'Or call the clinic on <a [^>]*href="tel:\+34910000000">', page)
    assert "<script" not in page
    assert_private(refused)


def test_the_token_never_reaches_a_log_line(
    linked: Linked, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = patient_client()
    client.get(linked.url)
    client.get(f"/p/{'z' * 43}/")
    client.post(linked.url, {"start": "nonsense"})  # refused by the CSRF check
    client.get(f"{linked.url}visit.ics")
    client.get(linked.url.rstrip("/"))  # its last slash cut
    client.get(f"{linked.url}visit")  # no such address

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert linked.token not in logged
    assert "z" * 43 not in logged


def assert_private(response: Any) -> None:
    """As private as the page: never cached, no referrer, no cookie (not the
    staff's pages, with their CSRF cookie)."""
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response.cookies == {}


def test_a_link_whose_last_slash_was_cut_opens_the_page_privately(
    linked: Linked,
) -> None:
    # A messages app cut the last slash of an offer's link.
    client = patient_client()
    cut = f"{linked.url.rstrip('/')}?offer=12"

    sent = client.get(cut)

    assert sent.status_code == 301
    assert sent["Location"] == f"{linked.url}?offer=12"
    assert_private(sent)
    assert "Hello Ana" in client.get(sent["Location"]).text


@pytest.mark.parametrize(
    "path",
    ["{url}visit", "{url}visit.ics/", "{url}visit/", "{url}a/b", "/p/", "/p//x/"],
)
def test_any_other_address_under_p_is_the_unknown_links_404(
    linked: Linked, path: str
) -> None:
    client = patient_client()
    unknown = client.get(f"/p/{'y' * 43}/")

    answer = client.get(path.format(url=linked.url))

    assert answer.status_code == unknown.status_code == 404
    assert answer.content == unknown.content
    assert "This link does not work" in answer.text
    assert_private(answer)
    assert answer["Content-Type"] == unknown["Content-Type"]
    assert answer["X-Frame-Options"] == "DENY"


def assert_the_patients_400(refused: Any) -> None:
    """The patient's own 400: in their words, as private as the page, and
    under the site's frame and content policies."""
    assert refused.status_code == 400
    assert "This link was changed on its way" in refused.text
    # Not left without a way back: the clinic's number, to call.
    assert 'Or call the clinic on <a class="booking__phone"' in refused.text
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
    assert "your home page" not in refused.text  # not the staff's page
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
