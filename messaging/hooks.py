"""Twilio's webhooks: a patient's text (`POST /hooks/sms/twilio/`) and a
delivery status (`POST /hooks/sms/twilio/status/`).

Both are refused with 403, recording nothing, unless `X-Twilio-Signature` is
Twilio's signature, with `TWILIO_AUTH_TOKEN`, of the URL it called
(`request.build_absolute_uri()`: behind a TLS proxy, set the proxy headers
so that it is the external URL) and the form fields. No login and no CSRF
token (Twilio has neither); throttled per client address (`sms_hooks`).
Twilio gets an empty TwiML `<Response/>`: the thank-you goes out through the
outbox like every message, never as the webhook's answer. Twilio calls them
with POST only: any other method, OPTIONS included, is the API's 405 with
`Allow: POST`, never DRF's description of the endpoint (its OPTIONS
metadata, its browsable page) to whoever probes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clinic import clock
from messaging import replies

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def signed_by_twilio(request: Request) -> bool:
    """Whether the request carries Twilio's signature of its URL and form."""
    from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

    token = str(getattr(settings, "TWILIO_AUTH_TOKEN", ""))
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = request.build_absolute_uri()
    return bool(RequestValidator(token).validate(url, request.data, signature))


def _twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _refusal(status: int, words: str) -> HttpResponse:
    return HttpResponse(words, status=status, content_type="text/plain")


class JsonWhateverAccepted(DefaultContentNegotiation):
    """The hook's own answers are TwiML or words whatever the client
    accepts, so DRF's are JSON whatever it accepts too: not a 406 for a
    browser's `Accept: text/html`."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


@extend_schema(exclude=True)
class TwilioHook(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "sms_hooks"
    # DRF's own answers (a 405, a throttled request) are the API's JSON
    # error, never its browsable page; OPTIONS is not one of the methods.
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonWhateverAccepted
    http_method_names = ["post"]  # and DRF's `Allow` header names it alone
    required: tuple[str, ...] = ("MessageSid",)

    def post(self, request: Request) -> HttpResponse:
        if not signed_by_twilio(request):
            return _refusal(403, "The request is not signed by Twilio.")
        missing = [name for name in self.required if not request.data.get(name)]
        if missing:
            return _refusal(400, f"Missing form fields: {', '.join(missing)}.")
        self.handle(request.data)
        return _twiml()

    def handle(self, form: Any) -> None:
        raise NotImplementedError


class InboundSms(TwilioHook):
    required = ("MessageSid", "From")

    def handle(self, form: Any) -> None:
        replies.receive_sms(
            number=str(form["From"]).strip(),
            body=str(form.get("Body", "")),
            sid=str(form["MessageSid"]),
            now=clock.now(),
        )


class SmsStatus(TwilioHook):
    required = ("MessageSid", "MessageStatus")

    def handle(self, form: Any) -> None:
        replies.record_status(
            sid=str(form["MessageSid"]),
            status=str(form["MessageStatus"]),
            error_code=str(form.get("ErrorCode", "")),
            now=clock.now(),
        )
