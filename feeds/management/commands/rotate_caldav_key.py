"""`manage.py rotate_caldav_key`: re-encrypt every stored CalDAV password
with the newest key of CALDAV_ENCRYPTION_KEYS.

Rotation: put the new key first in CALDAV_ENCRYPTION_KEYS (keep the old one
after it), restart, run this, then drop the old key. Each row is locked and
rewritten in its own small transaction; a re-run changes nothing visible.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from feeds.models import SurgeonCalendar


class Command(BaseCommand):
    help = "Re-encrypt stored CalDAV passwords with the newest key."

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(
            SurgeonCalendar.objects.exclude(password="").values_list("pk", flat=True)
        )
        for pk in ids:
            with transaction.atomic():
                calendar = SurgeonCalendar.objects.select_for_update().get(pk=pk)
                # Read with any listed key, written with the newest.
                calendar.save(update_fields=["password"])
        self.stdout.write(f"Re-encrypted {len(ids)} CalDAV passwords.")
