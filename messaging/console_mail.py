"""The demo's email backend: Django's console backend, each email written
with its secrets redacted (`core.redaction`): a booking link's token, the
patient's address and number. The console is the demo's log, and a log is no
place for a secret; the SMS console backend writes a booking link as its
placeholder for the same reason (`messaging.providers.send_to_log`)."""

from __future__ import annotations

import copy

from django.core.mail import EmailMessage
from django.core.mail.backends import console

from core.redaction import redact


class EmailBackend(console.EmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        # The body before it is encoded (a quoted-printable line break could
        # split a token), the headers after.
        shown = copy.copy(message)
        shown.body = redact(str(message.body))
        msg = shown.message()
        charset = msg.get_charset()
        text = msg.as_bytes().decode(
            charset.get_output_charset() or "utf-8" if charset else "utf-8"
        )
        self.stream.write(f"{redact(text)}\n{'-' * 79}\n")
