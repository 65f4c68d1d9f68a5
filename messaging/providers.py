"""Sending one message: email through Django's email backend, SMS through
Twilio (`SMS_BACKEND=twilio`) or the log (`console`, the demo's default).

A provider returns its id for the message, or raises `Transient` (try again
later: a timeout, a 5xx, a rate limit) or `Permanent` (never: an invalid
number, a blocked sender), whose text says the provider's code in words.
Settings are read when a message is sent, never at import.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
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


def send(message: Message) -> str:
    """Hand `message` to its channel's provider; its id there."""
    if message.channel == Channel.EMAIL:
        return send_email(message)
    backend = str(getattr(settings, "SMS_BACKEND", "console"))
    if backend == "console":
        return send_to_log(message)
    if backend == "twilio":
        return send_twilio(message)
    raise ImproperlyConfigured(f"SMS_BACKEND={backend!r} is not console or twilio")


def send_to_log(message: Message) -> str:
    """The demo's SMS: the log line is the message; it counts as sent."""
    logger.info(
        "SMS to %s (message %s): %s",
        message.to,
        message.pk,
        message.text,
        extra={"message_id": message.pk},
    )
    return f"console-{uuid.uuid4().hex}"


# The mail connection the sends of one batch share (`batch`), per thread.
_mail = threading.local()


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """The emails sent inside go through one SMTP session, opened at the
    first and closed at the end, instead of one session each."""
    _mail.sharing, _mail.connection = True, None
    try:
        yield
    finally:
        _mail.sharing = False
        _drop_mail_connection()


def _mail_connection() -> BaseEmailBackend | None:
    """The batch's open connection; None outside a batch (each email then
    opens and closes its own)."""
    if not getattr(_mail, "sharing", False):
        return None
    if _mail.connection is None:
        connection = get_connection()
        connection.open()
        _mail.connection = connection
    return _mail.connection  # type: ignore[no-any-return]


def _drop_mail_connection() -> None:
    """After a failure the session may be broken: the next email opens anew."""
    connection, _mail.connection = getattr(_mail, "connection", None), None
    if connection is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()


def send_email(message: Message) -> str:
    msgid = make_msgid(domain=str(settings.CLINIC_CALENDAR_DOMAIN))
    try:
        EmailMessage(
            subject=message.subject or "Your follow-up visit",
            body=message.text,
            to=[message.to],
            headers={"Message-ID": msgid},
            connection=_mail_connection(),
        ).send()
    except smtplib.SMTPRecipientsRefused as exc:
        _drop_mail_connection()
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise Permanent(
            f"the mail server refused the address (SMTP {', '.join(map(str, codes))})"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        _drop_mail_connection()
        raise Transient(f"the mail server did not take it: {exc}") from None
    return msgid


# Each thread's Twilio client, with the settings it was made for: its HTTP
# session keeps its connection to Twilio open from one text to the next.
_clients = threading.local()


def twilio_client() -> object:
    """A Twilio client for the settings as they are now (read at every
    send, never at import): the thread's own, made again when they change."""
    from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
    from twilio.rest import Client  # type: ignore[import-untyped]

    config = (
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.MESSAGE_PROVIDER_TIMEOUT_SECONDS,
        str(getattr(settings, "TWILIO_API_BASE_URL", "")),
    )
    held = getattr(_clients, "held", None)
    if held is not None and held[0] == config:
        return held[1]
    sid, token, timeout, base_url = config
    client = Client(sid, token, http_client=TwilioHttpClient(timeout=timeout))
    if base_url:
        # A stand-in on loopback (tests, benchmarks) instead of api.twilio.com.
        client.api.base_url = base_url
    _clients.held = (config, client)
    return client


def send_twilio(message: Message) -> str:
    from twilio.base.exceptions import TwilioException, TwilioRestException  # type: ignore[import-untyped]

    client = twilio_client()
    try:
        sent = client.messages.create(  # type: ignore[attr-defined]
            to=message.to, from_=settings.TWILIO_FROM, body=message.text
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
