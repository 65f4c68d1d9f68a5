"""Operations: the health check, Celery beat's heartbeat, export status.

`ops` sits at the top with `web`: it reads `feeds` (the export backlog) and
nothing below imports it.
"""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"
