"""The calendars: feeds, links, rendering and the CalDAV export.

`feeds` sits above `followup` and `clinic`: it reads their models and is
told of every visit change through `followup.changes`, registered here.
Neither of them imports `feeds`.
"""

from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "Calendars"

    def ready(self) -> None:
        from feeds import export  # models are ready only now
        from followup import changes

        changes.on_visits_changed(export.visits_changed)

        from auditlog.registry import auditlog

        from feeds.models import CalendarLink

        # The audit trail of links (clinic.audit): who created, rotated and
        # revoked which. Never the token's hash; the poll's last-use time
        # and the feed stamp are written by .update(), outside the trail.
        auditlog.register(
            CalendarLink,
            exclude_fields=[
                "token_hash",
                "feed",
                "feed_version",
                "feed_changed_at",
                "last_used_at",
            ],
        )
