"""Twilio's webhooks: signed requests are acted on, anything else is a 403
that records nothing; delivery statuses move sent messages on.

World: tests/messaging/conftest.py; a reminder sent on Wed 25 Nov at 09:00.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.throttling import ScopedRateThrottle
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from followup.models import Visit, VisitStatus
from messaging.models import Direction, Intent, Message, Status
from messaging.services import send_due_messages
from tests.followup.world import FRIDAY_9, book, madrid
from tests.messaging.conftest import MOBILE, Clock, visit_of

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = [pytest.mark.postgres]
TOKEN = "twilio-auth-token-for-tests"
INBOUND = "/hooks/sms/twilio/"
STATUS = "/hooks/sms/twilio/status/"
FORM = "application/x-www-form-urlencoded"
NINE = madrid(2026, 11, 25, 9)
TEN = madrid(2026, 11, 25, 10)


@pytest.fixture(autouse=True)
def _twilio(settings: SettingsWrapper) -> None:
    settings.TWILIO_AUTH_TOKEN = TOKEN


def signature(path: str, form: dict[str, str], token: str = TOKEN) -> str:
    url = f"http://testserver{path}"
    return str(RequestValidator(token).compute_signature(url, form))


def post(
    path: str, form: dict[str, str], *, signed: dict[str, str] | None = None
) -> _MonkeyPatchedWSGIResponse:
    """POST `form` as Twilio does, signed over `signed` (default: `form`)."""
    return send(path, form, HTTP_X_TWILIO_SIGNATURE=signature(path, signed or form))


def send(path: str, form: dict[str, str], **meta: Any) -> _MonkeyPatchedWSGIResponse:
    """POST `form` url-encoded, as Twilio does, with no CSRF token."""
    client = Client(enforce_csrf_checks=True)
    return client.generic("POST", path, urlencode(form), content_type=FORM, **meta)


def inbound(body: str, sid: str = "SM" + "1" * 32) -> dict[str, str]:
    return {"From": MOBILE, "To": "+34910000000", "Body": body, "MessageSid": sid}


@pytest.fixture
def reminder_sent(desk: User, pinned: Clock) -> tuple[Visit, Message]:
    """A booked visit whose reminder went at 09:00; the clock at 10:00."""
    visit = book(visit_of(), FRIDAY_9, actor=desk)
    send_due_messages(now=NINE)
    pinned.moment = TEN
    return visit, Message.objects.get(visit=visit, kind="reminder")


@pytest.mark.django_db
def test_a_signed_reply_is_acted_on_and_twilio_gets_empty_twiml(
    reminder_sent: tuple[Visit, Message],
) -> None:
    visit, reminder = reminder_sent

    response = post(INBOUND, inbound("x"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.endswith(b"<Response/>")
    answer = Message.objects.get(direction=Direction.IN)
    assert (answer.intent, answer.answers_id) == (Intent.CANCEL, reminder.pk)
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.TO_BOOK


@pytest.mark.django_db
def test_a_signed_reply_is_acted_on_whatever_the_caller_accepts(
    reminder_sent: tuple[Visit, Message],
) -> None:
    visit, _ = reminder_sent
    form = inbound("x")

    # TwiML's own type: DRF found no renderer for it and answered 406 unread.
    response = send(
        INBOUND,
        form,
        HTTP_X_TWILIO_SIGNATURE=signature(INBOUND, form),
        HTTP_ACCEPT="text/xml",
    )

    assert response.status_code == 200
    assert response.content.endswith(b"<Response/>")
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.TO_BOOK


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda form: {}, id="no signature"),
        pytest.param(
            lambda form: {"HTTP_X_TWILIO_SIGNATURE": signature(INBOUND, form, "wrong")},
            id="another account's token",
        ),
        pytest.param(
            lambda form: {
                "HTTP_X_TWILIO_SIGNATURE": signature(INBOUND, {**form, "Body": "C"})
            },
            id="tampered body",
        ),
        pytest.param(
            lambda form: {"HTTP_X_TWILIO_SIGNATURE": signature(STATUS, form)},
            id="signed for another URL",
        ),
    ],
)
@pytest.mark.django_db
def test_an_unsigned_or_forged_reply_is_refused_and_changes_nothing(
    reminder_sent: tuple[Visit, Message], forge: object
) -> None:
    visit, _ = reminder_sent
    form = inbound("X")

    response = send(INBOUND, form, **forge(form))  # type: ignore[operator]

    assert response.status_code == 403
    assert not Message.objects.filter(direction=Direction.IN).exists()
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED


@pytest.mark.parametrize("method", ["OPTIONS", "GET", "HEAD", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", [INBOUND, STATUS])
@pytest.mark.django_db
def test_a_hook_answers_post_alone_and_never_describes_itself(
    reminder_sent: tuple[Visit, Message], path: str, method: str
) -> None:
    visit, reminder = reminder_sent
    form = {**inbound("X"), "MessageStatus": "delivered"}
    client = Client(enforce_csrf_checks=True)

    # Signed as Twilio signs, asked for as a browser asks for a page.
    response = client.generic(
        method,
        path,
        urlencode(form),
        content_type=FORM,
        HTTP_X_TWILIO_SIGNATURE=signature(path, form),
        HTTP_ACCEPT="text/html",
    )

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Content-Type"] == "application/json"
    # DRF's metadata and browsable page named the view and what it parses.
    said = response.content.decode()
    for description in ("Inbound Sms", "Sms Status", "parses", "renders", "<html"):
        assert description not in said
    assert not Message.objects.filter(direction=Direction.IN).exists()
    assert Message.objects.get(pk=reminder.pk).status == Status.SENT
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.BOOKED


@pytest.mark.django_db
def test_without_an_auth_token_every_hook_is_refused(
    settings: SettingsWrapper,
) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    form = inbound("C")

    response = send(INBOUND, form, HTTP_X_TWILIO_SIGNATURE=signature(INBOUND, form, ""))

    assert response.status_code == 403
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_signed_reply_without_its_sender_is_a_400() -> None:
    form = {"Body": "C", "MessageSid": "SM" + "2" * 32}

    response = post(INBOUND, form)

    assert response.status_code == 400
    assert b"From" in response.content
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_an_empty_reply_is_recorded_as_unclear(
    reminder_sent: tuple[Visit, Message],
) -> None:
    response = post(INBOUND, {k: v for k, v in inbound("").items() if k != "Body"})

    assert response.status_code == 200
    answer = Message.objects.get(direction=Direction.IN)
    assert (answer.intent, answer.text) == (Intent.UNCLEAR, "")


@pytest.mark.django_db
def test_the_status_callback_marks_a_sent_text_delivered(
    reminder_sent: tuple[Visit, Message],
) -> None:
    _, reminder = reminder_sent
    form = {"MessageSid": reminder.provider_id, "MessageStatus": "delivered"}

    response = post(STATUS, form)

    assert response.status_code == 200
    reminder.refresh_from_db()
    assert (reminder.status, reminder.delivered_at) == (Status.DELIVERED, TEN)


@pytest.mark.django_db
def test_the_status_callback_marks_a_failed_text_with_the_code_in_words(
    reminder_sent: tuple[Visit, Message],
) -> None:
    _, reminder = reminder_sent
    form = {
        "MessageSid": reminder.provider_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30007",
    }

    post(STATUS, form)

    reminder.refresh_from_db()
    assert (reminder.status, reminder.error) == (
        Status.FAILED,
        "the carrier filtered the message as spam (Twilio error 30007)",
    )
    assert list(Message.objects.needing_person().open()) == [reminder]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["²", "9" * 5000, "-1", "30007x"])
def test_a_failed_status_with_an_error_code_that_is_no_number_is_failed_without_one(
    reminder_sent: tuple[Visit, Message], code: str
) -> None:
    _, reminder = reminder_sent
    form = {
        "MessageSid": reminder.provider_id,
        "MessageStatus": "failed",
        "ErrorCode": code,
    }

    response = post(STATUS, form)

    assert response.status_code == 200
    reminder.refresh_from_db()
    assert (reminder.status, reminder.error) == (
        Status.FAILED,
        "Twilio could not deliver the message (no error code given)",
    )


@pytest.mark.django_db
def test_a_forged_status_callback_changes_nothing(
    reminder_sent: tuple[Visit, Message],
) -> None:
    _, reminder = reminder_sent
    form = {"MessageSid": reminder.provider_id, "MessageStatus": "failed"}

    response = post(STATUS, form, signed={**form, "MessageStatus": "delivered"})

    assert response.status_code == 403
    reminder.refresh_from_db()
    assert reminder.status == Status.SENT


@pytest.mark.django_db
def test_a_status_for_an_unknown_text_is_acknowledged_and_ignored() -> None:
    form = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}

    response = post(STATUS, form)

    assert response.status_code == 200
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_the_hooks_are_throttled_per_address(
    reminder_sent: tuple[Visit, Message], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"sms_hooks": "2/min"})
    cache.clear()
    answers = [
        post(INBOUND, inbound("hola", sid=f"SM{n:032}")).status_code for n in range(3)
    ]

    assert answers == [200, 200, 429]
    assert Message.objects.filter(direction=Direction.IN).count() == 2
