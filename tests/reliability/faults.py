"""Running clerks in the background while a test injects faults, and the
end-of-test accounting every fault and load test shares."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from clinic.clock import local, start_of_day
from tests.feeds.conftest import Radicale, wait_until
from tests.reliability import checks
from tests.reliability.clerks import ClerkPlan, Tally, first_free_slot, run_clerks
from tests.reliability.record import Row, record_row
from tests.reliability.seeding import Clinic


def plan_for(
    clinic: Clinic, base_url: str, *, seconds: float, clerks: int | None = None
) -> ClerkPlan:
    return ClerkPlan(
        base_url=base_url,
        tokens=clinic.tokens[:clerks] if clerks else clinic.tokens,
        # The last one is kept for `book_one_more`.
        visit_ids=clinic.visit_ids[:-1],
        surgeon_ids=clinic.surgeon_ids,
        first_slot=first_free_slot(timezone.now()),
        seconds=seconds,
    )


def under_load(
    plan: ClerkPlan, inject: Callable[[], None], *, every: float
) -> tuple[Tally, int]:
    """Run the clerks for plan.seconds; call `inject` every `every` seconds
    meanwhile (from the second one). Returns the tally and the faults."""
    tally = Tally()
    runner = threading.Thread(target=run_clerks, args=(plan, tally), daemon=True)
    runner.start()
    faults = 0
    while True:
        runner.join(timeout=every)
        if not runner.is_alive():
            break
        inject()
        faults += 1
    runner.join(timeout=plan.seconds + 120)
    assert not runner.is_alive(), "the clerks did not stop"
    return tally, faults


__all__ = ["wait_until"]


def run_clerks_once(plan: ClerkPlan) -> Tally:
    return run_clerks(plan)


def book_one_more(clinic: Clinic, base_url: str) -> int:
    """Once the fault is over, book the visit no clerk was given, a week
    ahead at noon, where no clerk books: the status says whether the same
    processes serve again. Noon, not the first free slot's time a week on:
    run after 23:10 that slot was 23:50, and a visit there would end past
    the clinic's last slot (a 400 that said nothing of the fault)."""
    start = start_of_day(local(timezone.now()).date() + dt.timedelta(days=7)) + NOON
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        f"{base_url}/api/visits/{clinic.visit_ids[-1]}/book/",
        data=json.dumps(
            {"start": start.isoformat(), "surgeon": clinic.surgeon_ids[0]}
        ).encode(),
        headers={
            "Authorization": f"Token {clinic.tokens[0]}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


NOON = dt.timedelta(hours=12)


@dataclass
class Outcome:
    left_pending: list[int]
    calendar: checks.CalendarCheck
    double_bookings: int
    settle_seconds: float = 0.0  # the reconciliation, after the load
    compare_seconds: float = 0.0

    @property
    def lost(self) -> int:
        return len(self.calendar.lost)


def account(database_url: str, radicale: Radicale, clinic: Clinic) -> Outcome:
    """After the load: reconcile, then compare the database with Radicale."""
    started = time.monotonic()
    left = checks.settle_exports(database_url)
    settled = time.monotonic()
    calendar = checks.compare_calendars(database_url, radicale, clinic.calendars)
    return Outcome(
        left_pending=left,
        calendar=calendar,
        double_bookings=checks.double_bookings(database_url),
        settle_seconds=round(settled - started, 1),
        compare_seconds=round(time.monotonic() - settled, 1),
    )


def record(
    test: str,
    *,
    load: str,
    faults: str,
    tally: Tally,
    outcome: Outcome,
    allow_503: bool,
    **extra: object,
) -> Row:
    row = Row(
        test=test,
        load=load,
        faults=faults,
        changes=tally.changes,
        lost=outcome.lost + len(outcome.left_pending),
        double_bookings=outcome.double_bookings + len(outcome.calendar.doubled),
        server_errors=tally.fivexx(allow_503=allow_503) + tally.transport_errors,
        p99_ms=tally.percentile_ms(0.99),
        extra={
            "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
            "actions": dict(sorted(tally.actions.items())),
            "p50_ms": tally.percentile_ms(0.50),
            "transport_errors": tally.transport_errors,
            "settle_s": outcome.settle_seconds,
            "compare_s": outcome.compare_seconds,
            **extra,
        },
    )
    record_row(row)
    return row


def children(pid: int) -> set[int]:
    """Pids whose parent is `pid` (gunicorn's workers, a worker's pool)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found
