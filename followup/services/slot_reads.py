"""The slot search's two reads: a surgeon's weekly sessions, and the time
held by a surgeon's or a patient's bookings over some days.

Every view of the patient's booking page searches slots
(bench/booking_link.py). Through the ORM these two reads cost about a
millisecond of query building, more than the rest of the search: the
sessions' default ordering alone joined the surgeon's table. On PostgreSQL
each is one statement prepared once per connection (`core.prepared`; where
Django logs queries, as tests that count them do, it goes through Django's
cursor); the ORM query is its portable twin (`core.db.fast_path`), for
SQLite.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q

from core import db, prepared
from followup.models import SLOT_HOLDING_STATUSES, ConsultationSession, Visit

# A session as `followup.services.hours.Hours` takes it.
SESSION_FIELDS = (
    "weekday",
    "start_time",
    "end_time",
    "slot_minutes",
    "valid_from",
    "valid_to",
)
SessionRow = tuple[int, dt.time, dt.time, int, dt.date | None, dt.date | None]
Held = tuple[dt.datetime, dt.datetime]


def _sessions_portable(surgeon_id: int) -> list[SessionRow]:
    return list(
        ConsultationSession.objects.filter(surgeon_id=surgeon_id)
        .order_by("weekday", "start_time")
        .values_list(*SESSION_FIELDS)
    )


@db.fast_path(portable=_sessions_portable)
def sessions(surgeon_id: int) -> list[SessionRow]:
    """The surgeon's weekly sessions, by weekday and start."""
    conn = connections[DEFAULT_DB_ALIAS]
    rows = prepared.fetch_all_prepared(
        conn, b"followup_slot_sessions", _sessions_sql(), (str(surgeon_id),)
    )
    return rows  # type: ignore[return-value]


def _held_portable(
    *,
    surgeon_id: int,
    patient_id: int,
    visit_id: int,
    range_start: dt.datetime,
    range_end: dt.datetime,
) -> list[Held]:
    return [
        (start, end)
        for start, end in Visit.objects.filter(
            status__in=SLOT_HOLDING_STATUSES, start__lt=range_end, end__gt=range_start
        )
        .filter(Q(surgeon_id=surgeon_id) | Q(patient_id=patient_id))
        .exclude(pk=visit_id)
        .values_list("start", "end")
        if start is not None and end is not None
    ]


@db.fast_path(portable=_held_portable)
def held(
    *,
    surgeon_id: int,
    patient_id: int,
    visit_id: int,
    range_start: dt.datetime,
    range_end: dt.datetime,
) -> list[Held]:
    """(start, end) of every booking of the surgeon's or the patient's, but
    the visit's own, that holds time between `range_start` and `range_end`."""
    conn = connections[DEFAULT_DB_ALIAS]
    params = (
        "{" + ",".join(SLOT_HOLDING_STATUSES) + "}",
        range_end.isoformat(),
        range_start.isoformat(),
        str(surgeon_id),
        str(patient_id),
        str(visit_id),
    )
    rows = prepared.fetch_all_prepared(conn, b"followup_slot_held", _held_sql(), params)
    return rows  # type: ignore[return-value]


def _name(model: type[Visit] | type[ConsultationSession], field: str) -> str:
    column = model._meta.get_field(field).column  # type: ignore[union-attr]
    return connections[DEFAULT_DB_ALIAS].ops.quote_name(str(column))


@functools.cache
def _sessions_sql() -> str:
    table = ConsultationSession._meta.db_table
    columns = ", ".join(_name(ConsultationSession, f) for f in SESSION_FIELDS)
    return (
        f'SELECT {columns} FROM "{table}" '  # noqa: S608 - names from the models
        f"WHERE {_name(ConsultationSession, 'surgeon')} = %s "
        f"ORDER BY {_name(ConsultationSession, 'weekday')}, "
        f"{_name(ConsultationSession, 'start_time')}"
    )


@functools.cache
def _held_sql() -> str:
    table = Visit._meta.db_table
    start, end = _name(Visit, "start"), _name(Visit, "end")
    return (
        f'SELECT {start}, {end} FROM "{table}" '  # noqa: S608 - names from the models
        f"WHERE {_name(Visit, 'status')} = ANY(%s) AND {start} < %s AND {end} > %s "
        f"AND ({_name(Visit, 'surgeon')} = %s OR {_name(Visit, 'patient')} = %s) "
        f"AND {_name(Visit, 'id')} <> %s "
        f"AND {start} IS NOT NULL AND {end} IS NOT NULL"
    )
