"""The export pipeline end to end: a real Celery worker, Redis and Radicale.

Each test commits its changes (the worker reads the test database through its
own connections), starts `celery worker` as a subprocess on Redis db 5 and
waits, with a bound, for what the worker does to show in Radicale.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Callable

import pytest
from django.utils import timezone

from clinic.models import Surgeon
from feeds.models import CalendarEntry, ExportState, SurgeonCalendar
from feeds.rendering import visit_uid
from feeds.tasks import reconcile_exports
from followup.models import Visit
from tests.factories import SurgeonFactory
from tests.feeds.conftest import (
    MADRID,
    CalDAVProxy,
    Radicale,
    RedisBroker,
    WorkerProcess,
    at,
    book,
    cancel,
    postop_visit,
    reschedule,
    wait_until,
    worker_database_url,
)
from tests.reliability.checks import double_bookings
from tests.reliability.record import Row, record_row

pytestmark = [
    pytest.mark.celery,
    pytest.mark.redis,
    pytest.mark.caldav,
    pytest.mark.postgres,
    # The worker sees only committed rows; the protocol's rules come back
    # after each test's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
MakeCalendar = Callable[..., SurgeonCalendar]
TIMEOUT = 30  # seconds; every wait below is bounded by it


def starts(
    radicale: Radicale, calendar: SurgeonCalendar
) -> dict[str, list[dt.datetime]]:
    """Each UID in the calendar with the start of every copy stored under it."""
    return {
        uid: [event["DTSTART"].dt.astimezone(MADRID) for event in copies]
        for uid, copies in radicale.events_by_uid(calendar.url).items()
    }


def state(visit: Visit) -> str:
    return CalendarEntry.objects.get(pk=visit.pk).export_state


def record_fault(
    test: str,
    *,
    faults: str,
    radicale: Radicale,
    calendar: SurgeonCalendar,
    expected: dict[str, list[dt.datetime]],
) -> None:
    """This test's row in `make reliability`'s table (tests/reliability)."""
    found = starts(radicale, calendar)
    record_row(
        Row(
            test=test,
            load=f"{len(expected)} visits changed, one worker",
            faults=faults,
            changes=len(expected),
            lost=sum(
                1 for uid, want in expected.items() if want[0] not in found.get(uid, [])
            )
            + sum(1 for uid in found if uid not in expected),
            double_bookings=sum(len(copies) - 1 for copies in found.values())
            + double_bookings(worker_database_url()),
        )
    )


@pytest.fixture
def surgeon() -> Surgeon:
    return SurgeonFactory.create(given_name="Ana", family_name="Alvarez")


def test_a_booking_a_reschedule_and_a_cancel_reach_radicale_in_order(
    celery_worker: WorkerProcess,
    radicale: Radicale,
    make_surgeon_calendar: MakeCalendar,
    surgeon: Surgeon,
) -> None:
    calendar = make_surgeon_calendar(surgeon)
    celery_worker.start()
    visit = postop_visit(surgeon)
    uid = visit_uid(visit)

    visit = book(visit, at(9, 9))
    assert wait_until(
        lambda: starts(radicale, calendar) == {uid: [at(9, 9)]}, timeout=TIMEOUT
    ), celery_worker.output()

    visit = reschedule(visit, at(10, 11, 30))
    assert wait_until(
        lambda: starts(radicale, calendar) == {uid: [at(10, 11, 30)]}, timeout=TIMEOUT
    ), celery_worker.output()

    visit = cancel(visit)
    assert wait_until(lambda: starts(radicale, calendar) == {}, timeout=TIMEOUT), (
        celery_worker.output()
    )
    assert wait_until(lambda: state(visit) == ExportState.EXPORTED, timeout=TIMEOUT)

    # The same three changes in a burst: the calendar ends with the last one.
    burst = book(postop_visit(surgeon), at(11, 9))
    burst = reschedule(burst, at(11, 12))
    burst = reschedule(burst, at(14, 13))
    assert wait_until(
        lambda: (
            state(burst) == ExportState.EXPORTED
            and starts(radicale, calendar) == {visit_uid(burst): [at(14, 13)]}
        ),
        timeout=TIMEOUT,
    ), celery_worker.output()
    entry = CalendarEntry.objects.get(pk=burst.pk)
    assert entry.exported_sequence == burst.sequence == 3  # booked, moved twice


def test_caldav_down_for_a_while_then_everything_is_exported_once(
    celery_worker: WorkerProcess,
    radicale: Radicale,
    caldav_proxy: CalDAVProxy,
    make_surgeon_calendar: MakeCalendar,
    surgeon: Surgeon,
) -> None:
    calendar = make_surgeon_calendar(surgeon, base_url=caldav_proxy.url)
    caldav_proxy.down()
    celery_worker.start()

    visits = [
        book(postop_visit(surgeon), at(9, 9)),
        book(postop_visit(surgeon), at(9, 10)),
        book(postop_visit(surgeon), at(10, 9)),
    ]
    visits[0] = reschedule(visits[0], at(9, 11))
    assert wait_until(
        lambda: all(state(v) == ExportState.FAILED for v in visits), timeout=TIMEOUT
    ), celery_worker.output()
    failed = CalendarEntry.objects.get(pk=visits[0].pk)
    assert failed.export_attempts >= 1
    assert "(connection refused)" in failed.export_error

    caldav_proxy.up()
    # What the beat task does every few minutes; retries may get there first.
    reconcile_exports.delay()

    expected = {
        visit_uid(visits[0]): [at(9, 11)],
        visit_uid(visits[1]): [at(9, 10)],
        visit_uid(visits[2]): [at(10, 9)],
    }
    settled = wait_until(
        lambda: (
            all(state(v) == ExportState.EXPORTED for v in visits)
            and starts(radicale, calendar) == expected
        ),
        timeout=TIMEOUT,
    )
    record_fault(
        "caldav_down_then_back",
        faults="CalDAV refusing connections",
        radicale=radicale,
        calendar=calendar,
        expected=expected,
    )
    assert settled, celery_worker.output()


def rebook_while_the_push_hangs(
    celery_worker: WorkerProcess,
    caldav_proxy: CalDAVProxy,
    make_surgeon_calendar: MakeCalendar,
    surgeon: Surgeon,
) -> tuple[SurgeonCalendar, Visit]:
    """Let the worker settle a new visit (still to book: nothing to push),
    then book it with the CalDAV server answering in 2 s: on return the
    worker is in the middle of that push, ready to be killed."""
    calendar = make_surgeon_calendar(surgeon, base_url=caldav_proxy.url)
    celery_worker.start()
    visit = postop_visit(surgeon)
    assert wait_until(
        lambda: state(visit) == ExportState.NOTHING_TO_PUSH, timeout=TIMEOUT
    )
    caldav_proxy.delay = 2.0
    connections_before = caldav_proxy.connections

    visit = book(visit, at(9, 9))
    assert wait_until(
        lambda: caldav_proxy.connections > connections_before,
        timeout=TIMEOUT,
        every=0.05,
    ), celery_worker.output()
    return calendar, visit


def test_a_worker_killed_in_the_middle_of_an_export_loses_nothing(
    celery_worker: WorkerProcess,
    radicale: Radicale,
    caldav_proxy: CalDAVProxy,
    make_surgeon_calendar: MakeCalendar,
    surgeon: Surgeon,
) -> None:
    calendar, visit = rebook_while_the_push_hangs(
        celery_worker, caldav_proxy, make_surgeon_calendar, surgeon
    )
    celery_worker.kill()

    entry = CalendarEntry.objects.get(pk=visit.pk)
    assert entry.export_state == ExportState.PENDING
    assert entry.export_attempts == 1  # claimed, never recorded
    caldav_proxy.delay = 0
    killed_at = timezone.now()
    celery_worker.start()

    assert wait_until(lambda: state(visit) == ExportState.EXPORTED, timeout=TIMEOUT), (
        celery_worker.output()
    )
    record_fault(
        "worker_sigkill_mid_export",
        faults="worker + pool child SIGKILLed",
        radicale=radicale,
        calendar=calendar,
        expected={visit_uid(visit): [at(9, 9)]},
    )
    # Redis gave the unacknowledged task back after its visibility timeout.
    assert timezone.now() - killed_at >= dt.timedelta(seconds=4)
    assert starts(radicale, calendar) == {visit_uid(visit): [at(9, 9)]}
    assert CalendarEntry.objects.get(pk=visit.pk).export_attempts == 2


def test_a_pool_child_killed_mid_export_is_replaced_and_the_task_runs_again(
    celery_worker: WorkerProcess,
    radicale: Radicale,
    caldav_proxy: CalDAVProxy,
    make_surgeon_calendar: MakeCalendar,
    surgeon: Surgeon,
) -> None:
    calendar, visit = rebook_while_the_push_hangs(
        celery_worker, caldav_proxy, make_surgeon_calendar, surgeon
    )
    (child,) = celery_worker.pool_children()
    os.kill(child, signal.SIGKILL)
    caldav_proxy.delay = 0

    # task_reject_on_worker_lost: the worker requeues the task at once (no
    # visibility timeout to wait for) and a new pool child runs it.
    exported = wait_until(lambda: state(visit) == ExportState.EXPORTED, timeout=TIMEOUT)
    record_fault(
        "pool_child_sigkill_mid_export",
        faults="pool child SIGKILLed",
        radicale=radicale,
        calendar=calendar,
        expected={visit_uid(visit): [at(9, 9)]},
    )
    assert exported, celery_worker.output()
    assert starts(radicale, calendar) == {visit_uid(visit): [at(9, 9)]}
    assert CalendarEntry.objects.get(pk=visit.pk).export_attempts == 2


def test_tasks_lost_with_redis_data_are_sent_again_by_the_reconciliation(
    celery_worker: WorkerProcess,
    redis_broker: RedisBroker,
    radicale: Radicale,
    make_surgeon_calendar: MakeCalendar,
    surgeon: Surgeon,
) -> None:
    calendar = make_surgeon_calendar(surgeon)
    visits = [
        book(postop_visit(surgeon), at(9, 9)),
        book(postop_visit(surgeon), at(9, 10)),
    ]
    # No worker yet: the tasks wait in Redis, which restarts without its data.
    assert redis_broker.queued() >= len(visits)
    redis_broker.flush()
    celery_worker.start()
    assert all(state(v) == ExportState.PENDING for v in visits)

    # By the time the beat task runs they have been pending for minutes.
    CalendarEntry.objects.filter(export_state=ExportState.PENDING).update(
        pending_since=timezone.now() - dt.timedelta(minutes=10)
    )
    reconcile_exports.delay()

    expected = {visit_uid(visits[0]): [at(9, 9)], visit_uid(visits[1]): [at(9, 10)]}
    settled = wait_until(
        lambda: (
            all(state(v) == ExportState.EXPORTED for v in visits)
            and starts(radicale, calendar) == expected
        ),
        timeout=TIMEOUT,
    )
    record_fault(
        "redis_data_lost",
        faults="queued tasks flushed from Redis",
        radicale=radicale,
        calendar=calendar,
        expected=expected,
    )
    assert settled, celery_worker.output()
