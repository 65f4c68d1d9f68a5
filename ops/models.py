from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic process proved it runs (Celery beat: "beat").

    A row in the database rather than a cache key: the health check already
    asks the database, and the file cache of the demo is not shared between
    machines.
    """

    name = models.CharField(max_length=32, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
