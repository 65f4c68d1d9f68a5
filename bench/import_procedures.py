"""Import 10,000 generated procedures with all their visits; budget 30 s.

Run with DATABASE_URL pointing at PostgreSQL (the budget is for
PostgreSQL)::

    PYTHONPATH=. .venv/bin/python bench/import_procedures.py

It never touches the developer's data: it creates and migrates a throwaway
database (`bench_import_<pid>`) with Django's test-database utilities and
drops it at the end. It prints the import's counts, the time of a second
import of the same file (which must create nothing), the ratio to the budget,
and last `import_10k_seconds=<s>`.
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

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402

from bench._throwaway_db import run_in_throwaway_db  # noqa: E402
from clinic.models import Procedure, Surgeon  # noqa: E402
from feeds import export  # noqa: E402
from feeds.models import CalendarEntry, ExportState, FeedVersion  # noqa: E402
from followup import services  # noqa: E402
from followup.models import Visit, VisitEvent  # noqa: E402
from followup.services.import_file import COLUMNS  # noqa: E402

PROCEDURES = 10_000
BUDGET_SECONDS = 30.0
TODAY = dt.date(2026, 11, 25)
KINDS = ("endoscopic", "endoscopic_stem_cell")


def generate_csv(surgeon_refs: list[str]) -> bytes:
    """10,000 procedures; one patient in ten has a second one."""
    rng = random.Random(PROCEDURES)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    patient = 0
    written = 0
    while written < PROCEDURES:
        patient += 1
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25_000))
        given = rng.choice(["Maria", "Jose", "Carmen", "Antonio", "Lucia"])
        family = rng.choice(["Garcia", "Lopez", "Martin", "Sanchez", "Perez"])
        for _ in range(2 if patient % 10 == 0 else 1):
            if written == PROCEDURES:
                break
            # Surgeries over the last three years and the next month: every
            # stage of the protocol, up to three annual reviews each.
            operated = TODAY - dt.timedelta(days=rng.randrange(-30, 3 * 365))
            writer.writerow(
                [
                    f"B{patient:07d}",
                    given,
                    family,
                    born.isoformat(),
                    rng.choice(surgeon_refs),
                    rng.choice(KINDS),
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
        self.steps = (export.versions.bump_for_visits, export.tasks.schedule_export)

    def __enter__(self) -> HookTimer:
        bump, schedule = self.steps
        export.versions.bump_for_visits = self.timed(bump)  # type: ignore[method-assign]
        export.tasks.schedule_export = self.timed(schedule)  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        export.versions.bump_for_visits, export.tasks.schedule_export = self.steps

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
    print(" ".join(f"{name}={value}" for name, value in counts.items()))
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


def main() -> int:
    seconds = run_in_throwaway_db("bench_import", run)
    print(f"import_10k_vs_budget={seconds / BUDGET_SECONDS:.3f}")
    print(f"import_10k_seconds={seconds:.2f}")
    return 0 if seconds < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
