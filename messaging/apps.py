"""The outbox is told of every visit change through `followup.changes`."""

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messages to patients"

    def ready(self) -> None:
        from followup import changes
        from messaging import outbox  # models are ready only now

        changes.on_visits_changed(outbox.visits_changed)
        # Registers the beat task in every process, not only workers.
        from messaging import tasks  # noqa: F401
