"""Structured logs: a request id on every line, the visit id where there is one.

- `RequestIdMiddleware` takes the caller's `X-Request-ID` (a load balancer's
  or proxy's, when it is a plain short token) or makes one, keeps it in a
  context variable for the request's duration and returns it in the response.
- Celery tasks carry the id of the request that sent them in a message
  header (`config.celery`), else use their own task id.
- `ContextFilter`, on the handler, puts `request_id` and `visit_id` on every
  record; services and tasks pass `extra={"visit_id": ...}`.
- `JsonFormatter` writes one JSON object a line (`LOG_FORMAT=json`, the
  default with `DJANGO_PRODUCTION=true`).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished, request_started
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
# Anything else a client sends is replaced: a header must not be able to
# forge log lines or smuggle data into them.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str:
    if value and _ACCEPTED_ID.fullmatch(value):
        return value
    return new_request_id()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        # Not reset on the way out: Django logs a 4xx or 5xx ("Not Found: …")
        # after the middleware has returned. `request_finished` clears it.
        request_id.set(rid)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = rid
        return response


def _forget_request_id(**kwargs: object) -> None:
    request_id.set(None)


# Both ends: no line of the next request in this thread can take this id.
request_started.connect(_forget_request_id, dispatch_uid="core.logs.started")
request_finished.connect(_forget_request_id, dispatch_uid="core.logs.finished")


class ContextFilter(logging.Filter):
    """Adds `request_id` (the current one, or "-") and `visit_id` (None unless
    the caller passed one in `extra`) to every record; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get() or "-"
        if not hasattr(record, "visit_id"):
            record.visit_id = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message,
    request_id, visit_id when there is one, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or "-",
        }
        visit_id = getattr(record, "visit_id", None)
        if visit_id is not None:
            document["visit_id"] = visit_id
        if record.exc_info:
            document["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


class ClientErrorsOnce(logging.Filter):
    """Drops Django's own line for a 4xx response ("Not Found: …",
    "Forbidden (Permission denied): …" with its traceback): the server's
    access line (gunicorn's, or runserver's `django.server`) already records
    the request and its status, with the request id. A 5xx keeps its line and
    its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        return not (isinstance(status, int) and 400 <= status < 500)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def logging_config(log_format: str, *, level: str) -> dict[str, Any]:
    """Django's LOGGING: every line through the context filter (request and
    visit ids) and the redaction of feed tokens and `q=` search terms, as
    JSON lines or text (`log_format`)."""
    # Feed tokens and `q=` search terms are redacted (core.redaction) on
    # the loggers that write request lines, so every handler (and a test's
    # capture) gets the redacted record, and on the console for the rest.
    request_loggers = ("django.server", "django.security")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "core.logs.ContextFilter"},
            "redact_secrets": {"()": "core.redaction.RedactSecrets"},
            "client_errors_once": {"()": "core.logs.ClientErrorsOnce"},
        },
        "formatters": {
            "json": {"()": "core.logs.JsonFormatter"},
            "text": {"format": TEXT_FORMAT},
            "django.server": {
                "()": "django.utils.log.ServerFormatter",
                "format": "[{server_time}] {message}",
                "style": "{",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context", "redact_secrets"],
                "formatter": log_format,
            },
            "django.server": {
                "class": "logging.StreamHandler",
                "formatter": "django.server",
                "filters": ["context", "redact_secrets"],
            },
        },
        "loggers": {
            **{
                name: {"filters": ["redact_secrets"], "propagate": True}
                for name in request_loggers
            },
            "django.request": {
                "filters": ["client_errors_once", "redact_secrets"],
                "propagate": True,
            },
            # The twilio package logs every API call it makes, its URL and
            # headers, a dozen lines per text sent: its warnings are enough.
            "twilio": {"level": "WARNING"},
            # runserver's access lines, as Django's own configuration has them.
            "django.server": {
                "handlers": ["django.server"],
                "level": "INFO",
                "filters": ["redact_secrets"],
                "propagate": False,
            },
        },
        "root": {"handlers": ["console"], "level": level},
    }
