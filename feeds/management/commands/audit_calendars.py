"""`manage.py audit_calendars`: compare every enabled CalDAV calendar with
the database now and repair what differs, as the hourly beat task does
(`feeds.caldav.audit`): after a CalDAV server or a database is restored.

Prints one line per calendar; the exports it asks for go to the worker.
Exits with an error when a calendar could not be audited.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from feeds import export
from feeds.caldav import audit as caldav_audit


class Command(BaseCommand):
    help = "Compare every enabled CalDAV calendar with the database and repair it."

    def handle(self, *args: Any, **options: Any) -> None:
        reports = caldav_audit.audit_calendars(now=timezone.now())
        for report in reports:
            if report.error:
                self.stderr.write(report.error)
                continue
            self.stdout.write(
                f"{report.surgeon}: {report.checked} "
                f"clinic events found, {len(report.resend)} to export again, "
                f"{len(report.deleted)} deleted, {len(report.skipped)} left to "
                "the pending export."
            )
        resent = export.export_repairs(reports)
        self.stdout.write(f"Audited {len(reports)} calendars; {resent} exports queued.")
        failed = sum(1 for report in reports if report.error)
        if failed:
            raise CommandError(f"{failed} calendar(s) could not be audited.")
