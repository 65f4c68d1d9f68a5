"""Import patients and procedures from a CSV file: all rows or none.

The columns are described in README.md ("CSV import"). A rejected file
prints its first 100 problems by line on stderr, with their total, and exits
non-zero; nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from followup import services
from followup.exceptions import DomainError
from followup.services.import_file import read_as_sentence


class Command(BaseCommand):
    help = "Import patients and procedures from a CSV file (- reads stdin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file, or - for standard input")
        parser.add_argument(
            "--user",
            help="username recorded as the author of the generated visits",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data = self._read(options["file"])
        actor = self._actor(options["user"])
        try:
            result = services.import_procedures_csv(
                data=data, actor=actor, today=timezone.localdate()
            )
        except DomainError as exc:
            for item in exc.errors:
                self.stderr.write(f"line {item['line']}: {item['error']}")
            raise CommandError(exc.message) from None
        counts = result.as_dict()
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {counts['rows']} rows: "
                f"{counts['patients_created']} patients, "
                f"{counts['procedures_created']} procedures and "
                f"{counts['visits_created']} visits created; "
                f"{counts['unchanged']} procedures were already registered. "
                + read_as_sentence(result.read_as)
            )
        )

    def _read(self, name: str) -> bytes:
        if name == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(name).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror}.") from None

    def _actor(self, username: str | None) -> User | None:
        if username is None:
            return None
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user is called {username!r}.") from None
