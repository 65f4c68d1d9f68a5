"""`/healthz`: what a load balancer reads. 200 with the figures when the
database, the broker, beat's heartbeat and the export backlog are fine; 503
when any is not; counts and ages only, never a patient's data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from config.celery import app
from feeds.models import CalendarEntry, ExportState
from ops import health, views
from ops.models import Heartbeat
from ops.tasks import stamp_heartbeat
from tests.factories import PatientFactory, make_procedure
from tests.feeds.conftest import free_port

pytestmark = pytest.mark.django_db


def get_health() -> tuple[int, dict[str, Any]]:
    response = Client().get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def beat(ago: dt.timedelta = dt.timedelta(0)) -> None:
    Heartbeat.objects.update_or_create(
        name="beat", defaults={"beat_at": timezone.now() - ago}
    )


def test_healthy_answers_200_with_the_figures() -> None:
    stamp_heartbeat()
    make_procedure()
    entries = CalendarEntry.objects.order_by("pk")
    pending = entries.filter(export_state=ExportState.PENDING).count()
    assert pending >= 2
    CalendarEntry.objects.filter(pk=entries[0].pk).update(
        export_state=ExportState.FAILED
    )

    status, body = get_health()

    assert status == 200
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["broker"] == {"ok": True}
    assert checks["beat"]["ok"] is True
    assert checks["beat"]["age_seconds"] < 60
    assert checks["exports"]["pending"] == pending - 1
    assert checks["exports"]["failed"] == 1
    assert 0 <= checks["exports"]["oldest_pending_age_seconds"] < 60


def test_a_stale_heartbeat_answers_503(settings: Any) -> None:
    settings.HEALTH_BEAT_STALE_SECONDS = 180
    beat(ago=dt.timedelta(minutes=4))

    status, body = get_health()

    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["beat"]["ok"] is False
    assert body["checks"]["beat"]["age_seconds"] >= 240


def test_no_heartbeat_ever_answers_503() -> None:
    status, body = get_health()
    assert status == 503
    assert body["checks"]["beat"] == {"ok": False, "age_seconds": None, "limit": 180}


def test_an_unreachable_broker_answers_503(monkeypatch: pytest.MonkeyPatch) -> None:
    beat()
    closed = free_port()  # bound, then released: nothing listens there
    # Celery reads the variable before its own configuration.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{closed}/9")

    status, body = get_health()

    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"] == {"ok": True}


def test_an_unreachable_database_answers_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def down(now: dt.datetime) -> dict[str, Any]:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "check_heartbeat", down)

    status, body = get_health()

    assert status == 503
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_an_export_pending_too_long_answers_503(settings: Any) -> None:
    settings.HEALTH_EXPORT_BACKLOG_SECONDS = 30 * 60
    beat()
    make_procedure()
    old = timezone.now() - dt.timedelta(minutes=45)
    CalendarEntry.objects.filter(pk=CalendarEntry.objects.order_by("pk")[0].pk).update(
        pending_since=old
    )

    status, body = get_health()

    assert status == 503
    assert body["checks"]["exports"]["ok"] is False
    assert body["checks"]["exports"]["oldest_pending_age_seconds"] >= 45 * 60


def test_the_answer_holds_no_patient_data() -> None:
    beat()
    patient = PatientFactory.create(
        record_number="H-777123", given_name="Zenobia", family_name="Quintanilla"
    )
    procedure = make_procedure(patient=patient)

    response = Client().get("/healthz")

    text = response.content.decode()
    for value in ("H-777123", "Zenobia", "Quintanilla", "ZQ", "1970-05-17"):
        assert value not in text
    assert '"visit' not in text
    assert set(json.loads(text)["checks"]) == {"database", "broker", "beat", "exports"}
    assert procedure.pk  # the patient's visits exist, and are only counted


def test_it_needs_no_login_and_refuses_writes() -> None:
    beat()
    assert Client().get("/healthz").status_code == 200
    assert Client().head("/healthz").status_code == 200
    assert Client().post("/healthz").status_code == 405


def test_the_beat_task_stamps_the_heartbeat() -> None:
    before = timezone.now()
    stamp_heartbeat()
    assert Heartbeat.objects.get(name="beat").beat_at >= before


def test_it_is_cheap_and_not_held_to_the_api_throttle(
    settings: Any, django_assert_max_num_queries: Any
) -> None:
    beat()
    make_procedure()
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])
    client = Client()

    with django_assert_max_num_queries(2):
        assert client.get("/healthz").status_code == 200
    statuses = {client.get("/healthz").status_code for _ in range(rate + 5)}

    assert statuses == {200}  # a load balancer polling often is not refused
    assert not client.get("/healthz").cookies


@pytest.fixture(autouse=True)
def _asked_afresh() -> None:
    health.forget_broker_status()
    views.throttle.reset()


def test_the_broker_is_asked_once_in_a_few_seconds(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    beat()
    connections = []
    connect = app.connection_for_write

    def counted(*args: Any, **kwargs: Any) -> Any:
        connections.append(1)
        return connect(*args, **kwargs)

    monkeypatch.setattr(app, "connection_for_write", counted)

    statuses = [get_health()[0] for _ in range(10)]

    assert statuses == [200] * 10
    assert len(connections) == 1
    later = timezone.now() + dt.timedelta(seconds=settings.HEALTH_BROKER_CACHE_SECONDS)
    assert health.check_broker(now=later) == {"ok": True}
    assert len(connections) == 2


def test_one_address_polling_too_often_is_throttled(settings: Any) -> None:
    settings.HEALTHZ_REQUESTS_PER_ADDRESS_MINUTE = 5
    beat()
    client = Client(REMOTE_ADDR="203.0.113.40")

    statuses = [client.get("/healthz").status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]
    refused = client.get("/healthz")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The load balancer, from its own address, still reads it.
    assert Client(REMOTE_ADDR="203.0.113.41").get("/healthz").status_code == 200
