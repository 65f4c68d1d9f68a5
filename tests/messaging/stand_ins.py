"""Servers on loopback that take the providers' calls: a real SMTP server
(aiosmtpd), a stand-in for Twilio's Messages API and one for Postmark's
email API (an email service, reached through django-anymail)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

# Numbers the Twilio stand-in answers as Twilio would for them.
INVALID_NUMBER = "+34600000001"  # 400, error 21211
TWILIO_DOWN = "+34600000002"  # 500
# Taken, but answered after SLOW_SECONDS: later than a short client timeout.
TWILIO_SLOW = "+34600000003"
SLOW_SECONDS = 1.5

# Addresses the Postmark stand-in answers as Postmark would for them, the
# server token it takes (any other is refused, 401) and the one sender
# address the account has (any other From is refused, 422 error 400).
POSTMARK_TOKEN = "postmark-server-token"
SENDER_SIGNATURE = "clinic@clinic.example"
INVALID_ADDRESS = "lucia@invalid"  # 422, error 300: invalid 'To' address
INACTIVE_ADDRESS = "bounced@example.org"  # 422, error 406: inactive recipient
POSTMARK_DOWN = "down@example.org"  # 500


@dataclass
class Mailbox:
    """What the SMTP server received: (envelope recipients, message text),
    and the client's address and port of each one's session."""

    received: list[tuple[list[str], str]] = field(default_factory=list)
    sessions: list[object] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            (list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace"))
        )
        self.sessions.append(session.peer)
        return "250 Message accepted for delivery"


def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    # The controller checks it is up by connecting to its port: not 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class TwilioStandIn:
    """Twilio's POST /2010-04-01/Accounts/{sid}/Messages.json, on loopback."""

    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    # The server answers each connection on a thread of its own: two
    # senders at once must still get two message ids.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append({"path": path, **form})
            number = len(self.requests)
        to = form.get("To", "")
        if to == INVALID_NUMBER:
            return 400, {
                "code": 21211,
                "message": f"The 'To' number {to} is not a valid phone number.",
                "more_info": "https://www.twilio.com/docs/errors/21211",
                "status": 400,
            }
        if to == TWILIO_DOWN:
            return 500, {
                "code": 20500,
                "message": "Internal Server Error",
                "status": 500,
            }
        if to == TWILIO_SLOW:
            time.sleep(SLOW_SECONDS)
        sid = f"SM{number:032x}"
        return 201, {
            "sid": sid,
            "status": "queued",
            "to": to,
            "from": form.get("From", ""),
            "body": form.get("Body", ""),
            "num_segments": "1",
            "error_code": None,
        }


def twilio_server() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn()

    def answer(
        request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        form = dict(urllib.parse.parse_qsl(body.decode()))
        form["Authorization"] = request.headers.get("Authorization", "")
        return stand_in.answer(request.path, form)

    for url in _serve(answer):
        stand_in.url = url
        yield stand_in


def _serve(
    answer: Callable[[BaseHTTPRequestHandler, bytes], tuple[int, dict[str, Any]]],
) -> Iterator[str]:
    """An HTTP server on loopback answering each POST with `answer(request,
    body)`, a status and its JSON; the server's address while it runs."""

    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as the providers' APIs: a client sends message after
        # message on one connection. Without Nagle's algorithm, or the body
        # (written after the headers) would wait for the client's delayed
        # ACK, 40 ms.
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            status, answered = answer(self, self.rfile.read(length))
            payload = json.dumps(answered).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PostmarkStandIn:
    """Postmark's POST /email (postmarkapp.com/developer/api/email-api), on
    loopback: each request's JSON body and its server token header."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, path: str, token: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append({"path": path, "token": token, **body})
            number = len(self.requests)
        to = str(body.get("To", ""))
        if token != POSTMARK_TOKEN:
            return 401, {
                "ErrorCode": 10,
                "Message": "The Server Token you provided in the "
                "X-Postmark-Server-Token request header was invalid.",
            }
        sender = str(body.get("From", ""))
        if sender != SENDER_SIGNATURE:
            return 422, {
                "ErrorCode": 400,
                "Message": f"The 'From' address you supplied ({sender}) is not a "
                "Sender Signature on your account.",
            }
        if to == INVALID_ADDRESS:
            return 422, {"ErrorCode": 300, "Message": f"Invalid 'To' address: '{to}'."}
        if to == INACTIVE_ADDRESS:
            return 422, {
                "ErrorCode": 406,
                "Message": "You tried to send to recipient(s) that have been "
                f"marked as inactive. Found inactive addresses: {to}. Inactive "
                "recipients are ones that have generated a hard bounce, a spam "
                "complaint, or a manual suppression.",
            }
        if to == POSTMARK_DOWN:
            return 500, {"ErrorCode": 0, "Message": "Internal Server Error"}
        return 200, {
            "To": to,
            "SubmittedAt": "2026-11-25T08:00:00.0000000Z",
            "MessageID": str(uuid.UUID(int=number)),
            "ErrorCode": 0,
            "Message": "OK",
        }


def postmark_server() -> Iterator[PostmarkStandIn]:
    stand_in = PostmarkStandIn()

    def answer(
        request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        token = request.headers.get("X-Postmark-Server-Token", "")
        return stand_in.answer(request.path, token, json.loads(body or b"{}"))

    for url in _serve(answer):
        stand_in.url = url + "/"
        yield stand_in
