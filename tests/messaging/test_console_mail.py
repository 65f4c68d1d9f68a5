"""The demo's emails on the console: what a clinic sees there, without the
secrets a log must not hold."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from django.core.mail import EmailMessage

from messaging.console_mail import EmailBackend

TOKEN = "Qx7" + "a" * 40


def test_the_demo_writes_emails_to_the_console_without_link_address_or_number() -> None:
    stream = io.StringIO()
    long_line = "Your visit, " + "and more words " * 12  # folded when encoded
    email = EmailMessage(
        subject="Your follow-up visit",
        body=f"Hello Lucía, {long_line}: https://clinic.example/p/{TOKEN}/ "
        "or call +34612345678.",
        to=["lucia@example.org"],
    )

    sent = EmailBackend(stream=stream).send_messages([email])

    written = stream.getvalue()
    assert sent == 1
    assert "Subject: Your follow-up visit" in written
    assert "Hello Luc" in written
    assert "/p/[redacted]" in written
    for secret in (TOKEN, "lucia@example.org", "612345678"):
        assert secret not in written


def test_it_is_the_demos_email_backend() -> None:
    # Read in a process of its own: the tests' settings swap in Django's
    # in-memory backend.
    show = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    environ = {k: v for k, v in os.environ.items() if k != "EMAIL_BACKEND"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=Path(__file__).resolve().parents[2],
        env={**environ, "DJANGO_DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "messaging.console_mail.EmailBackend"
