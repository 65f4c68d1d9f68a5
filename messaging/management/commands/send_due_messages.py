"""`manage.py send_due_messages`: send the messages due now, as beat does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clinic import clock
from messaging.services import send_due_messages


class Command(BaseCommand):
    help = "Send the messages to patients that are due now (the beat task's code)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = send_due_messages(now=clock.now())
        self.stdout.write(str(report))
