"""Import 10,000 generated procedures with all their visits; budget 30 s.

Run with DATABASE_URL pointing at PostgreSQL (the budget is for
PostgreSQL)::

    PYTHONPATH=. .venv/bin/python bench/import_procedures.py

It never touches the developer's data: it creates and migrates a throwaway
database (`bench_import_<pid>`) with Django's test-database utilities and
drops it at the end. It prints the import's counts, the time of a second
import of the same file (which must create nothing), the ratio to the budget,
and `import_10k_seconds=<s>`.

Then the sizes that decide how an import runs:
`import_sync_max_rows_seconds`, a synchronous import of IMPORT_SYNC_MAX_ROWS
rows, which must finish well inside gunicorn's timeout; and a 60,000-row
file sent to `POST /api/procedures/import/` as a front-desk clerk:
`import_60k_accept_ms` is that request (it must answer 202 in under a
second), and `import_60k_seconds` the job that imports the file, run here
as the worker runs it (`followup.tasks.run_import_job`). The last line is
`import_60k_seconds=<s>`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import sys
import time
from collections.abc import Callable, Collection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench._throwaway_db import run_in_throwaway_db  # noqa: E402
from clinic.models import Procedure, Surgeon  # noqa: E402
from feeds import export  # noqa: E402
from feeds.models import CalendarEntry, ExportState, FeedVersion  # noqa: E402
from followup import services, tasks  # noqa: E402
from followup.models import ImportJob, Visit, VisitEvent  # noqa: E402
from followup.services.import_file import COLUMNS  # noqa: E402

PROCEDURES = 10_000
BIG_FILE_ROWS = 60_000
ACCEPT_BUDGET_MS = 1000.0
BUDGET_SECONDS = 30.0
TODAY = dt.date(2026, 11, 25)
KINDS = ("endoscopic", "endoscopic_stem_cell")


def generate_csv(
    surgeon_refs: list[str],
    *,
    procedures: int = PROCEDURES,
    prefix: str = "B",
) -> bytes:
    """`procedures` procedures; one patient in ten has a second one."""
    rng = random.Random(procedures)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    patient = 0
    written = 0
    while written < procedures:
        patient += 1
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25_000))
        given = rng.choice(["Maria", "Jose", "Carmen", "Antonio", "Lucia"])
        family = rng.choice(["Garcia", "Lopez", "Martin", "Sanchez", "Perez"])
        done: set[tuple[str, dt.date]] = set()
        for _ in range(2 if patient % 10 == 0 else 1):
            if written == procedures:
                break
            # Surgeries over the last three years and the next month: every
            # stage of the protocol, up to three annual reviews each.
            operated = TODAY - dt.timedelta(days=rng.randrange(-30, 3 * 365))
            surgeon, kind = rng.choice(surgeon_refs), rng.choice(KINDS)
            if (kind, operated) in done:
                # The same procedure twice would be a duplicate row.
                operated -= dt.timedelta(days=1)
            done.add((kind, operated))
            writer.writerow(
                [
                    f"{prefix}{patient:07d}",
                    given,
                    family,
                    born.isoformat(),
                    surgeon,
                    kind,
                    operated.isoformat(),
                ]
            )
            written += 1
    return out.getvalue().encode()


class HookTimer:
    """Time spent in the calendar hook, which the import calls per chunk.

    Reported apart so a slow run shows whose side the time went to: it
    wraps the two steps of the feeds' change handler (`feeds.export`).
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.steps = (export.versions.bump_for_visits, export.schedule_export)

    def __enter__(self) -> HookTimer:
        bump, schedule = self.steps
        export.versions.bump_for_visits = self.timed(bump)  # type: ignore[method-assign]
        export.schedule_export = self.timed(schedule)  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        export.versions.bump_for_visits, export.schedule_export = self.steps

    def timed(self, step: Callable[..., None]) -> Callable[..., None]:
        def run(visit_ids: Collection[int], **kwargs: object) -> None:
            started = time.perf_counter()
            try:
                step(visit_ids, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return run


def run() -> float:
    user = User.objects.create_user(username="bench_surgeon")
    by_username = Surgeon.objects.create(
        given_name="Lucia", family_name="Moreno", user=user
    )
    by_id = Surgeon.objects.create(given_name="Javier", family_name="Ortega")
    data = generate_csv(["bench_surgeon", str(by_id.pk)])
    load = os.getloadavg()[0]
    print(f"database={connection.vendor} csv_bytes={len(data)} load_1min={load:.2f}")

    with HookTimer() as hook:
        started = time.perf_counter()
        result = services.import_procedures_csv(data=data, actor=None, today=TODAY)
        seconds = time.perf_counter() - started
    counts = result.as_dict()
    print(
        " ".join(
            f"{name}={value}" for name, value in counts.items() if name != "read_as"
        )
    )
    print(f"of_which_calendar_hook_seconds={hook.seconds:.2f}")
    assert counts["procedures_created"] == PROCEDURES, counts
    assert Procedure.objects.count() == PROCEDURES
    assert {by_username.pk, by_id.pk} == set(
        Procedure.objects.values_list("surgeon", flat=True).distinct()
    )
    # The guarantees, not only the counts: every visit has its first event
    # and a pending calendar entry, and every patient's feed was bumped.
    visits = counts["visits_created"]
    assert Visit.objects.count() == visits
    assert VisitEvent.objects.filter(action="generated").count() == visits
    pending = CalendarEntry.objects.filter(export_state=ExportState.PENDING)
    assert pending.count() == visits
    patient_feeds = FeedVersion.objects.filter(key__startswith="patient:", version=1)
    assert patient_feeds.count() == counts["patients_created"]

    started = time.perf_counter()
    again = services.import_procedures_csv(data=data, actor=None, today=TODAY)
    reimport = time.perf_counter() - started
    assert again.unchanged == PROCEDURES and again.visits_created == 0, again
    print(f"reimport_10k_seconds={reimport:.2f}")
    return seconds


def run_sync_limit(surgeon_refs: list[str]) -> float:
    """A synchronous import of IMPORT_SYNC_MAX_ROWS new rows."""
    data = generate_csv(
        surgeon_refs, procedures=settings.IMPORT_SYNC_MAX_ROWS, prefix="S"
    )
    started = time.perf_counter()
    services.import_procedures_csv(data=data, actor=None, today=TODAY)
    return time.perf_counter() - started


def run_big_file(surgeon_refs: list[str]) -> tuple[float, float]:
    """The 60,000-row file through the API (202) and its job; (accept ms, s)."""
    clerk = User.objects.create_user(username="bench_clerk")
    clerk.groups.add(Group.objects.get(name="front_desk"))
    client = Client()
    client.force_login(clerk)
    data = generate_csv(surgeon_refs, procedures=BIG_FILE_ROWS, prefix="G")
    # A warm process, as a gunicorn worker is after its first request: the
    # URL resolver is built on the first reverse().
    assert client.get("/api/import-jobs/0/").status_code == 404
    sent: list[int] = []
    # The message a worker would take; this process plays the worker.
    tasks.run_import_job.delay_on_commit = sent.append  # type: ignore[attr-defined]
    started = time.perf_counter()
    response = client.post(
        "/api/procedures/import/", data=data, content_type="text/csv"
    )
    accept_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 202, response.content[:500]
    job_id = response.json()["job"]
    assert sent == [job_id], sent
    print(f"csv_60k_bytes={len(data)} import_60k_status={response.status_code}")

    started = time.perf_counter()
    state = tasks.run_import_job(job_id)
    seconds = time.perf_counter() - started
    job = ImportJob.objects.get(pk=job_id)
    assert state == "done", (job.detail, job.errors[:3])
    assert job.done_rows == job.rows == BIG_FILE_ROWS, job
    assert job.result is not None
    assert job.result["procedures_created"] == BIG_FILE_ROWS, job.result
    print(" ".join(f"{name}={value}" for name, value in job.result.items()))
    return accept_ms, seconds


def run_all() -> tuple[float, float, float, float]:
    seconds = run()
    refs = ["bench_surgeon", str(Surgeon.objects.get(user=None).pk)]
    return (seconds, run_sync_limit(refs), *run_big_file(refs))


def main() -> int:
    seconds, sync_limit, accept_ms, big = run_in_throwaway_db("bench_import", run_all)
    print(f"import_10k_vs_budget={seconds / BUDGET_SECONDS:.3f}")
    print(f"import_10k_seconds={seconds:.2f}")
    print(
        f"import_sync_max_rows={settings.IMPORT_SYNC_MAX_ROWS} "
        f"import_sync_max_rows_seconds={sync_limit:.2f}"
    )
    print(f"import_60k_accept_vs_budget={accept_ms / ACCEPT_BUDGET_MS:.3f}")
    print(f"import_60k_accept_ms={accept_ms:.0f}")
    print(f"import_60k_seconds={big:.2f}")
    return 0 if seconds < BUDGET_SECONDS and accept_ms < ACCEPT_BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
