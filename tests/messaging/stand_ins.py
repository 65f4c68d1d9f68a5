"""Servers on loopback that take the providers' calls: a real SMTP server
(aiosmtpd) and a stand-in for Twilio's Messages API."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

# Numbers the Twilio stand-in answers as Twilio would for them.
INVALID_NUMBER = "+34600000001"  # 400, error 21211
TWILIO_DOWN = "+34600000002"  # 500


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

    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as Twilio's API: a client sends text after text on one
        # connection. Without Nagle's algorithm, or the body (written after
        # the headers) would wait for the client's delayed ACK, 40 ms.
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            form = dict(urllib.parse.parse_qsl(body))
            form["Authorization"] = self.headers.get("Authorization", "")
            status, answer = stand_in.answer(self.path, form)
            payload = json.dumps(answer).encode()
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
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
