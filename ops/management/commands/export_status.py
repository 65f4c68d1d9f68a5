"""`manage.py export_status [--json]`: the CalDAV export backlog per surgeon.

Pending and failed counts and the oldest pending export's age, for each
surgeon with something waiting, and the totals. Counts only, no patient.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from ops.health import export_backlog_by_surgeon


def format_age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours >= 24:
        return f"{hours // 24}d {hours % 24}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s"


class Command(BaseCommand):
    help = "Pending and failed CalDAV exports, and the oldest pending, per surgeon."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = export_backlog_by_surgeon(now=timezone.now())
        ages = [
            row.oldest_pending_age_seconds
            for row in rows
            if row.oldest_pending_age_seconds is not None
        ]
        total = {
            "pending": sum(row.pending for row in rows),
            "failed": sum(row.failed for row in rows),
            "oldest_pending_age_seconds": max(ages, default=None),
        }
        if options["json"]:
            document = {"surgeons": [dataclasses.asdict(r) for r in rows], **total}
            self.stdout.write(json.dumps(document, indent=2))
            return
        table = [("surgeon", "pending", "failed", "oldest pending")]
        table += [
            (
                f"{row.surgeon} (#{row.surgeon_id})",
                str(row.pending),
                str(row.failed),
                format_age(row.oldest_pending_age_seconds),
            )
            for row in rows
        ]
        table.append(
            (
                "total",
                str(total["pending"]),
                str(total["failed"]),
                format_age(total["oldest_pending_age_seconds"]),
            )
        )
        width = max(len(line[0]) for line in table)
        for name, *figures in table:
            self.stdout.write(
                f"{name:<{width}}  {figures[0]:>7}  {figures[1]:>6}  {figures[2]:>14}"
            )
