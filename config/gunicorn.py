"""gunicorn's settings: `gunicorn -c config/gunicorn.py config.wsgi:application`.

Access and error lines never carry a feed token or a `q=` search term:
`RedactingLogger` redacts every request atom the line writes (the request
line, referrer, user agent, headers) before the line is formatted, and
filters gunicorn's own loggers with core.redaction.RedactSecrets.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any

from gunicorn.glogging import Logger

from core.redaction import RedactSecrets, redact

# Inside its container; the compose file publishes the port.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gunicorn's own advice, (2 x cores) + 1: a sync worker waiting on PostgreSQL
# (every feed poll does, once) leaves its core to another worker.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
# Seconds a sync worker may spend on one request before gunicorn kills and
# replaces it (its default, now stated). The longest request is a CSV import
# of IMPORT_SYNC_MAX_ROWS (2,000) rows: 4.1 s on PostgreSQL with this 2-core
# machine loaded by other test runs (bench/import_procedures.py); bigger
# files go to a Celery job. 30 s leaves seven times that, while a request
# stuck on a lost connection frees its worker within half a minute.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
errorlog = "-"
# The combined format, with the request's duration in microseconds and its
# id (core.logs): the one line a 4xx writes (Django's own is dropped).
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'
    " %({x-request-id}o)s"
)


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(RedactSecrets())
            for handler in log.handlers:
                handler.addFilter(RedactSecrets())

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        found = super().atoms(resp, req, environ, request_time)
        # Only the atoms the line writes: gunicorn makes one for every
        # header too, and redacting them all cost each request ~0.2 ms.
        for key in written_atoms(self.cfg.access_log_format):
            value = found.get(key)
            if isinstance(value, str):
                found[key] = redact(value)
        return found


@functools.lru_cache(maxsize=4)
def written_atoms(line_format: str) -> tuple[str, ...]:
    """The atoms `line_format` writes (`%(name)s`), header atoms lowercased
    as gunicorn keys them."""
    names = re.findall(r"%\(([^)]+)\)", line_format)
    return tuple(name.lower() if name.startswith("{") else name for name in names)


logger_class = RedactingLogger
