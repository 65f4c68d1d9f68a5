"""Big CSV imports as a background job: accept, run, sweep.

A file of at most `IMPORT_SYNC_MAX_ROWS` rows is imported inside the
request, as always. A bigger one would outlive gunicorn's timeout (10,000
rows take about 10 s here, a 60,000-row file about a minute), so
`accept_import` records an `ImportJob` holding the file and a Celery task
(`run_import_job`) imports it, all rows or none as before.

What keeps a job from being lost or run twice half-way:
- the import and the job's `done` are one transaction: a worker that dies
  leaves nothing written and the job unfinished;
- the task is acknowledged late and given back when its worker dies
  (`followup.tasks`), and the beat task `sweep_import_jobs` re-enqueues a
  job that stopped moving (a task lost with a Redis restart), as the
  re-plan and the calendar exports are;
- a session-level advisory lock per job: a second copy of the task (a
  redelivery while the first still runs) returns at once, and a killed
  worker's lock goes with its connection;
- attempts are counted before each run and capped
  (`IMPORT_JOB_MAX_ATTEMPTS`): a file that kills its worker every time
  ends `failed`, not in a loop.

Progress (`done_rows`) is written after each chunk through a second
connection in autocommit (`core.locks.side_connection`), so it shows while
the import's transaction is still open. On SQLite (one writer at a time)
there is no second writer: the bar moves when the job ends.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import locks, queue
from followup.access import Role, staff_of
from followup.exceptions import DomainError, NotFound
from followup.models import ImportJob, ImportJobState
from followup.services.import_file import (
    MAX_ERRORS_LISTED,
    count_rows,
    estimate_rows,
)
from followup.services.importing import ImportResult, import_procedures_csv

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Advisory lock namespace of "a worker runs this import job".
_JOB_LOCK = 0x1A9E_0B
_PROGRESS_ALIAS = "import_progress"


def accept_import(
    *,
    data: bytes,
    file_name: str,
    actor: User,
    today: dt.date,
    now: dt.datetime,
    checked: Callable[[], None] | None = None,
) -> ImportResult | ImportJob:
    """Import a small file now; record a job for a big one.

    A file that is not the CSV at all (not UTF-8, a wrong header) is refused
    at once either way (`InvalidInput`), before any job exists. `checked` is
    told when the file has passed those checks, before its rows are read
    (the import throttle counts from there).
    """
    # An estimate: the worker counts the rows exactly before it starts.
    rows = estimate_rows(data)
    if checked is not None:
        checked()
    if rows <= settings.IMPORT_SYNC_MAX_ROWS:
        return import_procedures_csv(data=data, actor=actor, today=today)
    return _start_job(
        data=data, file_name=file_name, rows=rows, actor=actor, today=today, now=now
    )


@transaction.atomic
def _start_job(
    *,
    data: bytes,
    file_name: str,
    rows: int,
    actor: User,
    today: dt.date,
    now: dt.datetime,
) -> ImportJob:
    task = queue.task("followup.tasks.run_import_job")

    job = ImportJob.objects.create(
        created_by=actor,
        file_name=file_name[:255],
        today=today,
        # Compressed: a 4 MB file is stored in a fifth of the time (the
        # request must answer in well under a second), and takes less room.
        data=zlib.compress(data, 1),
        rows=rows,
        touched_at=now,
    )
    # celery-types predates Celery 5.4's delay_on_commit.
    task.delay_on_commit(job.pk)  # type: ignore[attr-defined]
    return job


def job_for(user: User | AnonymousUser, job_id: int) -> ImportJob:
    """The job, for the user who started it or a clinic admin; else NotFound
    (another person's import is not confirmed to exist)."""
    jobs = ImportJob.objects.defer("data")
    if Role.ADMIN not in staff_of(user).roles:
        jobs = jobs.filter(created_by_id=user.pk)
    job = jobs.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"Import {job_id} does not exist.", code="not_found")
    return job


def run_import_job(*, job_id: int, now: dt.datetime | None = None) -> ImportJob:
    """Import the job's file, unless it is finished or a live worker is on it."""
    with locks.try_advisory_lock(_JOB_LOCK, job_id % 2**31) as ours:
        if ours and _claim(job_id, now=now or timezone.now()):
            _run(job_id, now=now)
    return ImportJob.objects.defer("data").get(pk=job_id)


def _claim(job_id: int, *, now: dt.datetime) -> bool:
    """Count an attempt (committed before the work starts); False when the
    job is finished or has used up its attempts (then marked failed)."""
    claimed = (
        ImportJob.objects.unfinished()
        .filter(pk=job_id)
        .update(
            state=ImportJobState.RUNNING, attempts=F("attempts") + 1, touched_at=now
        )
    )
    if not claimed:
        return False
    attempts = ImportJob.objects.values_list("attempts", flat=True).get(pk=job_id)
    if attempts > settings.IMPORT_JOB_MAX_ATTEMPTS:
        _fail(job_id, now=now, detail=_gave_up(attempts - 1))
        return False
    return True


def _gave_up(attempts: int) -> str:
    return (
        f"The import stopped {attempts} times before it finished (its worker "
        "was stopped); nothing was imported. Import the file again, or split "
        "it into smaller files."
    )


def _run(job_id: int, *, now: dt.datetime | None) -> None:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    data = zlib.decompress(job.data)
    try:
        # Exact, for the progress bar; the request only estimated it.
        ImportJob.objects.filter(pk=job_id).update(rows=count_rows(data))
        with locks.side_connection(_PROGRESS_ALIAS) as side, transaction.atomic():
            result = import_procedures_csv(
                data=data,
                actor=job.created_by,
                today=job.today,
                progress=_progress_writer(job_id, side),
            )
            ImportJob.objects.filter(pk=job_id).update(
                state=ImportJobState.DONE,
                done_rows=F("rows"),
                result=result.as_dict(),
                data=b"",
                finished_at=now or timezone.now(),
                touched_at=now or timezone.now(),
            )
    except DomainError as error:
        detail = error.message
        _fail(
            job_id,
            now=now or timezone.now(),
            detail=detail,
            errors=error.errors[:MAX_ERRORS_LISTED],
            error_count=error.error_count or len(error.errors),
        )


def _progress_writer(job_id: int, alias: str | None) -> Callable[[int], None]:
    def record(done_rows: int) -> None:
        if alias is not None:
            ImportJob.objects.using(alias).filter(pk=job_id).update(
                done_rows=done_rows, touched_at=timezone.now()
            )

    return record


def _fail(
    job_id: int,
    *,
    now: dt.datetime,
    detail: str,
    errors: list[dict[str, object]] | None = None,
    error_count: int = 0,
) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        state=ImportJobState.FAILED,
        detail=detail,
        errors=errors or [],
        error_count=error_count,
        data=b"",
        finished_at=now,
        touched_at=now,
    )


def sweep_import_jobs(*, now: dt.datetime) -> int:
    """Beat: re-enqueue unfinished jobs that stopped moving (their task was
    lost, or their worker died before Redis gave the task back); fail those
    past the attempt cap. Returns how many were re-enqueued."""
    task = queue.task("followup.tasks.run_import_job")

    stale_before = now - dt.timedelta(minutes=settings.IMPORT_JOB_STALE_MINUTES)
    stale = ImportJob.objects.unfinished().filter(touched_at__lt=stale_before)
    resent = 0
    for job_id, attempts in stale.values_list("pk", "attempts"):
        if attempts >= settings.IMPORT_JOB_MAX_ATTEMPTS:
            _fail(job_id, now=now, detail=_gave_up(attempts))
            continue
        # Touched now: not sent again at the next sweep while it waits.
        touched = (
            ImportJob.objects.unfinished()
            .filter(pk=job_id, touched_at__lt=stale_before)
            .update(touched_at=now)
        )
        if touched:
            task.delay(job_id)
            resent += 1
    return resent
