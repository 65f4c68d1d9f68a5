"""A CSV import past IMPORT_SYNC_MAX_ROWS runs as a Celery job: 202, then its
progress and outcome at /api/import-jobs/{id}/, all rows or none.

Tests lower IMPORT_SYNC_MAX_ROWS to 2 so that a few rows make a "big" file.
The unit tests run the job's service directly (its task is only sent after a
commit, which a test's transaction never does); one test runs it in a real
worker on Redis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from clinic.models import Patient, Procedure
from followup import services
from followup.models import ImportJob, ImportJobState
from followup.services import import_jobs, importing
from tests.api.conftest import NOW, World
from tests.factories import UserFactory
from tests.feeds.conftest import (  # noqa: F401 - fixtures used here
    WorkerProcess,
    celery_worker,
    redis_broker,
    wait_until,
    worker_database_url,
)

pytestmark = pytest.mark.django_db

HEADER = "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"


def rows(count: int, *, bad_lines: tuple[int, ...] = ()) -> bytes:
    """`count` good rows; the given file lines (the header is line 1) get an
    impossible birth date."""
    lines = [HEADER]
    for n in range(1, count + 1):
        born = "1970-02-30" if n + 1 in bad_lines else "1970-05-17"
        lines.append(f"J{n:05d},Ana,Ruiz,{born},surgeon_a,endoscopic,2026-11-02\n")
    return "".join(lines).encode()


@pytest.fixture(autouse=True)
def _small_sync_limit(settings: Any) -> None:
    settings.IMPORT_SYNC_MAX_ROWS = 2


def post(client: APIClient, data: bytes) -> Any:
    return client.post("/api/procedures/import/", data=data, content_type="text/csv")


def test_a_small_file_keeps_the_synchronous_answer(
    world: World, desk: APIClient
) -> None:
    response = post(desk, rows(2))

    assert response.status_code == 200, response.json()
    assert response.json()["procedures_created"] == 2
    assert not ImportJob.objects.exists()


def test_a_big_file_is_accepted_as_a_job_and_its_run_imports_it(
    world: World, desk: APIClient
) -> None:
    response = post(desk, rows(5))

    assert response.status_code == 202, response.json()
    job_id = response.json()["job"]
    assert response.json() == {"job": job_id, "url": f"/api/import-jobs/{job_id}/"}
    assert not Patient.objects.filter(record_number__startswith="J").exists()
    queued = desk.get(f"/api/import-jobs/{job_id}/").json()
    assert (queued["state"], queued["rows"], queued["done_rows"]) == ("queued", 5, 0)

    services.run_import_job(job_id=job_id, now=NOW)

    done = desk.get(f"/api/import-jobs/{job_id}/").json()
    assert (done["state"], done["rows"], done["done_rows"]) == ("done", 5, 5)
    assert done["result"]["procedures_created"] == 5
    assert (done["errors"], done["error_count"]) == ([], 0)
    assert Procedure.objects.filter(patient__record_number__startswith="J").count() == 5
    # The file's patient data is not kept once the job ends.
    assert bytes(ImportJob.objects.get(pk=job_id).data) == b""


def test_a_big_bad_file_imports_nothing_and_reports_its_lines(
    world: World, desk: APIClient
) -> None:
    job_id = post(desk, rows(6, bad_lines=(3, 6))).json()["job"]

    services.run_import_job(job_id=job_id, now=NOW)

    body = desk.get(f"/api/import-jobs/{job_id}/").json()
    assert body["state"] == "failed"
    assert "2 of 6 rows are invalid; nothing was imported." in body["detail"]
    assert [e["line"] for e in body["errors"]] == [3, 6]
    assert "birth_date '1970-02-30' is not a real date" in body["errors"][0]["error"]
    assert body["error_count"] == 2
    assert not Patient.objects.filter(record_number__startswith="J").exists()


def test_a_job_lists_at_most_100_errors_and_counts_them_all(
    world: World, desk: APIClient
) -> None:
    job_id = post(desk, rows(130, bad_lines=tuple(range(2, 132)))).json()["job"]

    services.run_import_job(job_id=job_id, now=NOW)

    body = desk.get(f"/api/import-jobs/{job_id}/").json()
    assert (body["state"], len(body["errors"]), body["error_count"]) == (
        "failed",
        100,
        130,
    )


def test_a_file_that_is_not_the_csv_is_refused_at_once_not_queued(
    world: World, desk: APIClient
) -> None:
    response = post(desk, b"name,age\n" + b"Ana,4\n" * 10)

    assert response.status_code == 400
    assert response.json()["code"] == "import_rejected"
    assert not ImportJob.objects.exists()


def test_only_the_person_who_started_a_job_and_admins_read_it(
    world: World, desk: APIClient, client_for: Callable[[str], APIClient]
) -> None:
    job_id = post(desk, rows(3)).json()["job"]
    url = f"/api/import-jobs/{job_id}/"
    colleague = APIClient()
    colleague.force_login(UserFactory.create(username="desk_2", group="front_desk"))

    assert desk.get(url).status_code == 200
    assert client_for("clinic_admin").get(url).status_code == 200
    assert colleague.get(url).status_code == 404
    assert client_for("surgeon_a").get(url).status_code == 403
    assert client_for("anonymous").get(url).status_code in (401, 403)
    assert desk.get("/api/import-jobs/999999/").status_code == 404


def test_a_job_that_keeps_killing_its_worker_ends_failed(
    world: World, desk: APIClient, settings: Any
) -> None:
    job_id = post(desk, rows(3)).json()["job"]
    ImportJob.objects.filter(pk=job_id).update(
        state=ImportJobState.RUNNING, attempts=settings.IMPORT_JOB_MAX_ATTEMPTS
    )

    services.run_import_job(job_id=job_id, now=NOW)

    job = ImportJob.objects.get(pk=job_id)
    assert job.state == ImportJobState.FAILED
    assert "stopped 3 times" in job.detail
    assert not Patient.objects.filter(record_number__startswith="J").exists()


def test_a_finished_job_sent_again_changes_nothing(
    world: World, desk: APIClient
) -> None:
    job_id = post(desk, rows(3)).json()["job"]
    services.run_import_job(job_id=job_id, now=NOW)
    first = ImportJob.objects.get(pk=job_id)

    again = services.run_import_job(job_id=job_id, now=NOW + dt.timedelta(hours=1))

    assert (again.state, again.attempts, again.result) == (
        "done",
        first.attempts,
        first.result,
    )


def test_the_sweep_sends_a_stalled_job_again_and_gives_up_past_the_cap(
    world: World,
    desk: APIClient,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[int] = []
    monkeypatch.setattr("followup.tasks.run_import_job.delay", sent.append)
    lost, spent, fresh = (post(desk, rows(3)).json()["job"] for _ in range(3))
    long_ago = NOW - dt.timedelta(minutes=settings.IMPORT_JOB_STALE_MINUTES + 1)
    ImportJob.objects.filter(pk__in=[lost, spent]).update(touched_at=long_ago)
    ImportJob.objects.filter(pk=spent).update(
        state=ImportJobState.RUNNING, attempts=settings.IMPORT_JOB_MAX_ATTEMPTS
    )
    ImportJob.objects.filter(pk=fresh).update(touched_at=NOW)

    assert services.sweep_import_jobs(now=NOW) == 1
    assert services.sweep_import_jobs(now=NOW) == 0  # not again at once

    assert sent == [lost]
    assert ImportJob.objects.get(pk=spent).state == ImportJobState.FAILED


@pytest.mark.postgres
def test_a_copy_of_the_task_leaves_a_job_a_live_worker_is_running(
    world: World, desk: APIClient
) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (DATABASE_URL)")
    job_id = post(desk, rows(3)).json()["job"]
    key = (import_jobs._JOB_LOCK, job_id % 2**31)

    with psycopg.connect(worker_database_url()) as running:
        running.execute("SELECT pg_advisory_lock(%s, %s)", key)
        copy = services.run_import_job(job_id=job_id, now=NOW)

    assert (copy.state, copy.attempts) == ("queued", 0)
    assert not Patient.objects.filter(record_number__startswith="J").exists()
    # The lock went with the worker's connection: the job runs now.
    assert services.run_import_job(job_id=job_id, now=NOW).state == "done"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_shows_outside_the_import_transaction_while_it_runs(
    surgeon_a: Any, front_desk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (DATABASE_URL)")
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    # The service runs it here, not a worker.
    monkeypatch.setattr(
        "followup.tasks.run_import_job.delay_on_commit", lambda job_id: None
    )
    job = services.accept_import(
        data=rows(7), file_name="big.csv", actor=front_desk, today=NOW.date(), now=NOW
    )
    assert isinstance(job, ImportJob)
    seen: list[int] = []
    write = importing._Writer.write

    def watched(self: importing._Writer, *args: Any, **kwargs: Any) -> None:
        # Read by another session, as a person polling the job would.
        with psycopg.connect(worker_database_url()) as other:
            row = other.execute(
                "SELECT done_rows FROM followup_importjob WHERE id = %s", [job.pk]
            ).fetchone()
        assert row is not None
        seen.append(row[0])
        write(self, *args, **kwargs)

    monkeypatch.setattr(importing._Writer, "write", watched)

    services.run_import_job(job_id=job.pk, now=NOW)

    assert seen == [0, 2, 4, 6]
    assert ImportJob.objects.get(pk=job.pk).done_rows == 7


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_imports_a_big_file_and_the_job_reports_it(
    celery_worker: WorkerProcess,  # noqa: F811
    surgeon_a: Any,
    client_for: Callable[[str], APIClient],
) -> None:
    desk = client_for("front_desk")
    celery_worker.start()

    response = post(desk, rows(40, bad_lines=()))
    assert response.status_code == 202, response.json()
    url = response.json()["url"]

    def finished() -> bool:
        return bool(desk.get(url).json()["state"] in ("done", "failed"))

    assert wait_until(finished, timeout=60), celery_worker.output()
    body = desk.get(url).json()
    assert (body["state"], body["done_rows"], body["rows"]) == ("done", 40, 40)
    assert (
        Procedure.objects.filter(patient__record_number__startswith="J").count() == 40
    )


def test_the_worker_counts_the_rows_the_request_only_estimated(
    world: World, desk: APIClient
) -> None:
    # Two blank lines and a name quoted across two lines: 6 line ends after
    # the header, 3 rows.
    data = rows(3).replace(b"Ana,", b'"An\na",', 1) + b"\n\n"
    job_id = post(desk, data).json()["job"]
    assert ImportJob.objects.get(pk=job_id).rows == 6

    services.run_import_job(job_id=job_id, now=NOW)

    body = desk.get(f"/api/import-jobs/{job_id}/").json()
    assert (body["state"], body["rows"], body["done_rows"]) == ("done", 3, 3)
