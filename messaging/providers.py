"""Sending one message: email through Django's email backend, SMS through
Twilio (`SMS_BACKEND=twilio`) or the log (`console`, the demo's default).

A provider returns its id for the message, or raises `Transient` (try again
later: a timeout, a 5xx, a rate limit) or `Permanent` (never: an invalid
number, a blocked sender), whose text says the provider's code in words.
Settings are read when a message is sent, never at import.

`send` takes the text that goes out (`text`: the stored text with the
visit's booking link in it) apart from the message row, whose text holds
the link's placeholder only: the console backend logs the stored text, so
no log line ever holds a booking link's token.
"""

from __future__ import annotations

import logging
import smtplib
import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid

from messaging.models import Channel, Message

logger = logging.getLogger(__name__)


class Transient(Exception):
    """The provider could not take the message now; try again later."""


class Permanent(Exception):
    """The provider will never deliver the message; `str()` says why."""


# Twilio's error codes a clinic meets, in words (twilio.com/docs/api/errors).
TWILIO_ERRORS = {
    21211: "the number is not a valid phone number",
    21408: "sending to this country is not enabled on the Twilio account",
    21610: "the patient has replied STOP to this number: Twilio blocks it",
    21612: "Twilio cannot send to this number from the clinic's number",
    21614: "the number is not a mobile number",
    30003: "the phone is switched off or out of reach",
    30004: "the patient's carrier blocked the message",
    30005: "the number does not exist",
    30006: "the number is a landline or its carrier takes no texts",
    30007: "the carrier filtered the message as spam",
    30034: "the clinic's sender number is not registered with the carriers",
}


def send(message: Message, *, text: str) -> str:
    """Hand `message`, saying `text`, to its channel's provider; its id there."""
    if message.channel == Channel.EMAIL:
        return send_email(message, text=text)
    backend = str(getattr(settings, "SMS_BACKEND", "console"))
    if backend == "console":
        return send_to_log(message)
    if backend == "twilio":
        return send_twilio(message, text=text)
    raise ImproperlyConfigured(f"SMS_BACKEND={backend!r} is not console or twilio")


def send_to_log(message: Message) -> str:
    """The demo's SMS: the log line is the message as stored (a booking link
    as its placeholder: a log line is no place for a secret); it counts as
    sent."""
    logger.info(
        "SMS to %s (message %s): %s",
        message.to,
        message.pk,
        message.text,
        extra={"message_id": message.pk},
    )
    return f"console-{uuid.uuid4().hex}"


def send_email(message: Message, *, text: str) -> str:
    msgid = make_msgid(domain=str(settings.CLINIC_CALENDAR_DOMAIN))
    email = EmailMessage(
        subject=message.subject or "Your follow-up visit",
        body=text,
        to=[message.to],
        headers={"Message-ID": msgid},
    )
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise Permanent(
            f"the mail server refused the address (SMTP {', '.join(map(str, codes))})"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise Transient(f"the mail server did not take it: {exc}") from None
    return msgid


def twilio_client() -> object:
    from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
    from twilio.rest import Client  # type: ignore[import-untyped]

    client = Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=settings.MESSAGE_PROVIDER_TIMEOUT_SECONDS),
    )
    base_url = str(getattr(settings, "TWILIO_API_BASE_URL", ""))
    if base_url:
        # A stand-in on loopback (tests, benchmarks) instead of api.twilio.com.
        client.api.base_url = base_url
    return client


def send_twilio(message: Message, *, text: str) -> str:
    from twilio.base.exceptions import TwilioException, TwilioRestException  # type: ignore[import-untyped]

    client = twilio_client()
    try:
        sent = client.messages.create(  # type: ignore[attr-defined]
            to=message.to, from_=settings.TWILIO_FROM, body=text
        )
    except TwilioRestException as exc:
        raise _twilio_failure(exc) from None
    except (TwilioException, OSError) as exc:
        raise Transient(f"Twilio could not be reached: {type(exc).__name__}") from None
    return str(sent.sid)


def _twilio_failure(exc: object) -> Exception:
    from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]

    assert isinstance(exc, TwilioRestException)  # noqa: S101
    if exc.status == 429 or exc.status >= 500:
        return Transient(f"Twilio answered {exc.status}; trying again later")
    if exc.code in TWILIO_ERRORS:
        return Permanent(twilio_error_words(exc.code))
    return Permanent(
        f"Twilio refused the message: {exc.msg} (Twilio error {exc.code or exc.status})"
    )


def twilio_error_words(code: int | None) -> str:
    """Twilio's error `code` in words, the code kept (a delivery failure's
    reason: the sender's refusals and the status callback say it alike)."""
    if code is None:
        return "Twilio could not deliver the message (no error code given)"
    words = TWILIO_ERRORS.get(code, "Twilio could not deliver the message")
    return f"{words} (Twilio error {code})"
