from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Follow-up"

    def ready(self) -> None:
        # Registers the tasks, which the services send by name
        # (`core.queue`), in every process, not only workers.
        from followup import tasks  # noqa: F401
