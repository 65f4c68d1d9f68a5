"""`manage.py booking_link [VISIT_ID]`: make a visit's booking link and print
its URL, once (the visit's older links end).

Without an id, the visit still to book whose window closes soonest, not
yet closed:
`make run` prints one, so a newcomer can open the patient's page of the
demo clinic. `--base-url` is where the site is served (default `SITE_URL`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from booking_links import services
from clinic import clock
from followup.exceptions import DomainError
from followup.models import Visit, VisitStatus


class Command(BaseCommand):
    help = "Make a visit's booking link and print its URL (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("visit_id", nargs="?", type=int)
        parser.add_argument("--base-url", default=None, help="Default: SITE_URL.")

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["base_url"]
        base = services.site_url() if given is None else str(given).rstrip("/")
        visit_id = options["visit_id"] or self._soonest_to_book()
        try:
            issued = services.issue_link(visit_id=visit_id, actor=None, now=clock.now())
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{base}{issued.path}")

    @staticmethod
    def _soonest_to_book() -> int:
        today = clock.today()
        visit_id = (
            Visit.objects.filter(status=VisitStatus.TO_BOOK, window_end__gte=today)
            .order_by("window_end", "id")
            .values_list("pk", flat=True)
            .first()
        )
        if visit_id is None:
            raise CommandError("No visit is to book in a window not yet closed.")
        return visit_id
