"""Sending one message: email through Django's email backend (SMTP, or an
email service's API through django-anymail), SMS through Twilio
(`SMS_BACKEND=twilio`) or the log (`console`, the demo's default).

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

import contextlib
import logging
import smtplib
import threading
import uuid
from collections.abc import Iterator

from anymail.exceptions import (  # type: ignore[import-untyped]
    AnymailAPIError,
    AnymailError,
    AnymailRecipientsRefused,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid
from django.urls import reverse
from requests.exceptions import ConnectTimeout
from urllib3.exceptions import NewConnectionError

from messaging.models import Channel, Message

logger = logging.getLogger(__name__)


class Transient(Exception):
    """The provider could not take the message now; try again later."""


class Permanent(Exception):
    """The provider will never deliver the message; `str()` says why."""


class Unconfirmed(Exception):
    """The request reached the provider, which never said whether it took
    the message (its answer came too late, or the connection broke after
    the request went). It may have gone: sending it again might send it
    twice, so it is not retried. `str()` says why."""


# What a request raises when it never reached the provider: the connection
# was refused, its host unknown or its connect timed out (requests wraps
# urllib3's error, which `reached` finds in the chain).
NOT_SENT = (ConnectTimeout, NewConnectionError, ConnectionRefusedError)


def reached(exc: BaseException) -> bool:
    """Whether a request that raised `exc` may have reached the provider:
    anything but a failure to connect (refused, unknown host, a connect
    timeout), after which nothing was sent and trying again is safe."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        error = pending.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, NOT_SENT):
            return False
        pending += [error.__cause__, error.__context__, getattr(error, "reason", None)]
        pending += list(error.args)
    return True


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


def send_email(message: Message, *, text: str) -> str:
    """The email's id: the email service's when it gives one (django-anymail
    sets `anymail_status`), else the Message-ID it went with (SMTP)."""
    msgid = make_msgid(domain=str(settings.CLINIC_CALENDAR_DOMAIN))
    connection = _mail_connection() or get_connection()
    email = EmailMessage(
        subject=message.subject or "Your follow-up visit",
        body=text,
        to=[message.to],
        headers={"Message-ID": msgid},
        connection=connection,
    )
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        _drop_mail_connection()
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise Permanent(
            f"the mail server refused the address (SMTP {', '.join(map(str, codes))})"
        ) from None
    except AnymailError as exc:  # before OSError: requests' errors are OSErrors
        service = getattr(connection, "esp_name", "")
        raise _anymail_failure(exc, email, service=service) from None
    except (smtplib.SMTPException, OSError) as exc:
        _drop_mail_connection()
        raise Transient(f"the mail server did not take it: {exc}") from None
    status = getattr(email, "anymail_status", None)
    service_id = getattr(status, "message_id", None)
    return service_id if isinstance(service_id, str) and service_id else msgid


# What an email service says of an address it will not send to, in words
# (django-anymail's recipient statuses).
EMAIL_REFUSALS = {
    "invalid": "the address is not a valid email address",
    "rejected": (
        "the email service will not send to the address: it bounced before, "
        "or its owner marked the clinic's mail as spam"
    ),
}


def _anymail_failure(
    exc: AnymailError, email: EmailMessage, *, service: str
) -> Exception:
    """An email service's refusal, read as SMTP's are: the address refused,
    a 4xx or a message it cannot take, never (`Permanent`); a 5xx, a rate
    limit or no answer, later (`Transient`)."""
    service = exc.esp_name or service or "the email service"
    if isinstance(exc, AnymailRecipientsRefused):
        status = getattr(email, "anymail_status", None)
        recipients = status.recipients.values() if status is not None else []
        refused = sorted({str(r.status) for r in recipients}) or ["refused"]
        words = EMAIL_REFUSALS.get(refused[0], "the email service refused the address")
        return Permanent(f"{words} ({service}: {', '.join(refused)})")
    if not isinstance(exc, AnymailAPIError):
        # The email itself: an address it cannot read, a feature it lacks.
        said = exc.args[0] if exc.args else type(exc).__name__
        return Permanent(f"{service} cannot send this email: {said}")
    code = exc.status_code
    if code is None:
        return _unanswered(service, exc.__cause__ or exc)
    if code in {408, 429} or code >= 500:
        return Transient(f"{service} answered {code}; trying again later")
    if code in {401, 403}:
        return Permanent(
            f"{service} refused the clinic's credentials ({service} answered "
            f"{code}): check the ANYMAIL_ settings"
        )
    return Permanent(
        f"{service} refused the message ({service} answered {code}"
        f"{_service_words(exc)})"
    )


def _service_words(exc: AnymailAPIError) -> str:
    """What the service said, when its answer has a `Message` or `message`
    field (Postmark's, Mailgun's...); empty otherwise."""
    try:
        answer = exc.response.json()
    except (AttributeError, ValueError):
        return ""
    if not isinstance(answer, dict):
        return ""
    said = answer.get("Message") or answer.get("message")
    return f": {str(said)[:200]}" if said else ""


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


def send_twilio(message: Message, *, text: str) -> str:
    from twilio.base.exceptions import TwilioException, TwilioRestException  # type: ignore[import-untyped]

    client = twilio_client()
    try:
        sent = client.messages.create(  # type: ignore[attr-defined]
            to=message.to,
            from_=settings.TWILIO_FROM,
            body=text,
            **_status_callback(),
        )
    except TwilioRestException as exc:
        raise _twilio_failure(exc) from None
    except OSError as exc:  # requests' errors among them
        raise _unanswered("Twilio", exc) from None
    except TwilioException as exc:
        raise Transient(f"Twilio could not be reached: {type(exc).__name__}") from None
    return str(sent.sid)


def _unanswered(service: str, exc: BaseException) -> Exception:
    """A request with no answer: to try again when it never left, else
    `Unconfirmed`."""
    cause = type(exc).__name__
    if not reached(exc):
        return Transient(f"{service} could not be reached: {cause}")
    return Unconfirmed(
        f"{service} did not say whether it took the message ({cause}); it may "
        "have gone, so it is not sent again"
    )


def _status_callback() -> dict[str, str]:
    """Where Twilio posts the text's delivery status: the status webhook on
    `SITE_URL`, the URL the signature check then expects; without SITE_URL,
    nowhere (the text stays `sent`)."""
    base = str(getattr(settings, "SITE_URL", "") or "").strip().rstrip("/")
    if not base:
        return {}
    return {"status_callback": base + reverse("sms-status")}


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
