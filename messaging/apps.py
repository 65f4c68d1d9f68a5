"""The outbox is told of every visit change through `followup.changes`, and
the follow-up report carries the messaging figures through
`followup.report_figures`."""

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messages to patients"

    def ready(self) -> None:
        from followup import changes, report_figures
        from messaging import figures, outbox  # models are ready only now

        changes.on_visits_changed(outbox.visits_changed)
        report_figures.register(figures.PROVIDER)
        # Registers the beat task in every process, not only workers.
        from messaging import tasks  # noqa: F401
