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
