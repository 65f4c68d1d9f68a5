"""Structured logs: the request id on every line of a request (and of the
tasks it sends), the visit id on service and export lines, JSON when asked."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from core import logs
from feeds.models import CalendarEntry
from feeds.tasks import export_visits
from followup.models import Visit
from tests.factories import make_procedure
from tests.test_deploy import PRODUCTION_CALDAV_KEY

ROOT = Path(__file__).resolve().parent.parent


def lines_with(
    caplog: pytest.LogCaptureFixture, logger: str
) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


@pytest.mark.django_db
def test_a_request_id_and_the_visit_id_reach_the_service_log_lines(
    front_desk: User, caplog: pytest.LogCaptureFixture
) -> None:
    visit = Visit.objects.filter(procedure=make_procedure()).order_by("pk")[0]
    client = APIClient()
    client.force_login(front_desk)
    caplog.set_level(logging.INFO)

    response = client.post(
        f"/api/visits/{visit.pk}/cancel/",
        {"reason": "Patient moved"},
        format="json",
        headers={"X-Request-ID": "lb-7f3a.42"},
    )

    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a.42"
    [line] = lines_with(caplog, "followup.services.history")
    assert line.request_id == "lb-7f3a.42"  # type: ignore[attr-defined]
    assert line.visit_id == visit.pk  # type: ignore[attr-defined]
    assert "Patient moved" not in line.getMessage()


@pytest.mark.django_db
def test_a_request_without_an_id_gets_a_fresh_one_and_a_forged_one_is_replaced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    client = APIClient()

    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    forged = client.get(
        "/healthz", headers={"X-Request-ID": 'x" level=ERROR {"injected": 1}'}
    )["X-Request-ID"]

    assert len({first, second, forged}) == 3
    assert all(len(rid) == 32 for rid in (first, second, forged))


@pytest.mark.django_db
@pytest.mark.urls("tests.web.test_page_errors")
def test_every_line_of_a_request_carries_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    client = APIClient(raise_request_exception=False)
    # A view's crash: Django's own error line, with its traceback.
    client.get("/conflicting/", headers={"X-Request-ID": "req-500"})
    errors = lines_with(caplog, "django.request")
    assert errors and all(r.exc_info for r in errors)
    assert {r.request_id for r in errors} == {"req-500"}  # type: ignore[attr-defined]


@pytest.mark.django_db
@pytest.mark.urls("tests.web.test_page_errors")
def test_a_4xx_is_the_servers_one_access_line_with_no_traceback(
    caplog: pytest.LogCaptureFixture, front_desk: User
) -> None:
    # Django's "Not Found"/"Forbidden" line would repeat the access line
    # that gunicorn (with the request id) or runserver writes for every
    # request, and a 403 would bring a traceback with it.
    caplog.set_level(logging.DEBUG)
    client = APIClient(raise_request_exception=False)
    client.force_login(front_desk)
    statuses = [
        client.get(url).status_code
        for url in ("/no-such-page/", "/refused/", "/admin/", "/api/visits/x/")
    ]

    assert statuses == [404, 403, 403, 404]
    assert lines_with(caplog, "django.request") == []
    assert not [r for r in caplog.records if r.exc_info]
    assert "x-request-id" in gunicorn_access_format()


def gunicorn_access_format() -> str:
    from config import gunicorn

    return gunicorn.access_log_format


def sent_before() -> Visit:
    """A visit whose export takes the per-visit path (it was sent once);
    never-sent visits with nothing to push are settled in bulk, unlogged."""
    visit = Visit.objects.filter(procedure=make_procedure()).order_by("pk")[0]
    CalendarEntry.objects.filter(pk=visit.pk).update(exported_sequence=0)
    return visit


@pytest.mark.django_db
def test_export_task_lines_carry_the_sending_request_and_the_visit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    visit = sent_before()
    caplog.set_level(logging.INFO)

    export_visits.apply(args=([visit.pk],), headers={"request_id": "req-from-web"})

    [line] = lines_with(caplog, "feeds.caldav_push")
    assert line.request_id == "req-from-web"  # type: ignore[attr-defined]
    assert line.visit_id == visit.pk  # type: ignore[attr-defined]
    assert logs.request_id.get() is None  # the task's id does not outlive it


@pytest.mark.django_db
def test_a_task_sent_by_nobody_logs_under_its_own_task_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    visit = sent_before()
    caplog.set_level(logging.INFO)

    result = export_visits.apply(args=([visit.pk],), task_id="task-1234")

    assert result.successful()
    [line] = lines_with(caplog, "feeds.caldav_push")
    assert line.request_id == "task-1234"  # type: ignore[attr-defined]


def test_the_json_formatter_writes_one_object_a_line() -> None:
    record = logging.LogRecord(
        "feeds.caldav_push", logging.WARNING, __file__, 1, "visit %s", (42,), None
    )
    record.visit_id = 42
    token = logs.request_id.set("req-1")
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs.request_id.reset(token)

    document = json.loads(logs.JsonFormatter().format(record))

    assert document["level"] == "WARNING"
    assert document["logger"] == "feeds.caldav_push"
    assert document["message"] == "visit 42"
    assert document["request_id"] == "req-1"
    assert document["visit_id"] == 42
    assert document["time"].endswith("+00:00")


def log_output(**env: str) -> str:
    """What a fresh process writes through the configured handler."""
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('followup.services.history').info("
        "'Visit 5: booked', extra={'visit_id': 5})"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": "sqlite:///:memory:",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stderr.strip().splitlines()[-1]


def test_log_format_json_makes_json_lines() -> None:
    document = json.loads(log_output(LOG_FORMAT="json"))
    assert document["message"] == "Visit 5: booked"
    assert document["visit_id"] == 5
    assert document["request_id"] == "-"


def test_production_logs_json_by_default() -> None:
    key = "k8Jq2vN5xZ0rT7wY3bL6mP9sD1fG4hC8eA2uV5iO7yX0zQ3nM6"
    line = log_output(
        DJANGO_PRODUCTION="true",
        DJANGO_SECRET_KEY=key,
        DJANGO_DEBUG="false",
        # Production also needs its own CalDAV encryption key.
        CALDAV_ENCRYPTION_KEYS=PRODUCTION_CALDAV_KEY,
    )
    assert json.loads(line)["logger"] == "followup.services.history"


def test_the_demo_keeps_the_human_format() -> None:
    line = log_output(LOG_FORMAT="text")
    assert line.endswith("INFO followup.services.history [-] Visit 5: booked")
