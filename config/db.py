"""PostgreSQL fast paths: the one place that knows COPY, advisory locks,
`unnest` upserts and libpq prepared statements.

Each has a portable twin in the domain code that calls it (`bulk_create`,
a plain query) and a measured reason to exist, given where it is used. The
domain decides *what* to write; this module only knows *how* to write it
fast. It imports nothing from the apps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

T = TypeVar("T")


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def chunks(items: Sequence[T], size: int | None = None) -> Iterator[Sequence[T]]:
    """Slices of `items`, `size` long; by default as long as the backend's
    limit on query parameters allows (SQLite's is the tightest)."""
    limit = size or min(connection.features.max_query_params or 10_000, 10_000) - 10
    for start in range(0, len(items), limit):
        yield items[start : start + limit]


# --- COPY ---------------------------------------------------------------------


def copy_insert(objs: Sequence[Model], *, now: dt.datetime) -> None:
    """Insert new rows of one model by COPY, as `bulk_create` would; PostgreSQL.

    Each object gets its id (taken from the table's sequence first) and its
    creation stamps (`now`). A violated constraint raises IntegrityError.
    """
    if not objs:
        return
    model = type(objs[0])
    fields = model._meta.concrete_fields
    ids = reserve_ids(model, len(objs))
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    copy_rows(
        model,
        {
            f.attname: [getattr(obj, f.attname) for obj in objs]
            for f in fields
            if not stamped(f)
        },
        rows=len(objs),
        now=now,
    )
    stamp_fields = [f.attname for f in fields if stamped(f)]
    for obj in objs:
        for attname in stamp_fields:
            setattr(obj, attname, now)


def stamped(f: Field[Any, Any]) -> bool:
    return bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))


def reserve_ids(model: type[Model], count: int) -> list[int]:
    table = connection.ops.quote_name(model._meta.db_table)
    column = model._meta.pk.column  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)",
            [table, column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


# Types whose Python values psycopg already writes as PostgreSQL reads them:
# Django's preparation of these is a no-op, and the costliest part of a bulk
# insert. Anything else (JSON, a naive datetime to warn about) is prepared.
_WRITTEN_AS_IS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def copy_rows(
    model: type[Model], given: dict[str, Any], *, rows: int, now: dt.datetime
) -> None:
    """COPY `rows` new rows of `model`; PostgreSQL only.

    `given` maps attnames to a list (a value per row) or to one value for
    every row; the other fields take their default, or `now` when they are
    stamped on creation, as `bulk_create` would give them.
    """
    columns: list[str] = []
    values: list[list[Any]] = []
    for f in model._meta.concrete_fields:
        if getattr(f, "generated", False):
            continue
        if f.attname in given:
            value = given[f.attname]
        elif f.primary_key:
            continue
        else:
            value = now if stamped(f) else f.get_default()
        if hasattr(value, "resolve_expression"):
            # A `db_default`: the column is left to the database.
            continue
        columns.append(connection.ops.quote_name(f.column))
        if isinstance(value, list):
            if len(value) != rows:
                raise ValueError(f"{f.attname}: {len(value)} values for {rows} rows")
            if f.get_internal_type() not in _WRITTEN_AS_IS:
                value = [f.get_db_prep_save(v, connection) for v in value]
            values.append(value)
        else:
            values.append([f.get_db_prep_save(value, connection)] * rows)
    table = connection.ops.quote_name(model._meta.db_table)
    # Identifiers come from the model; the data travels as COPY rows.
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    # A violated constraint surfaces when the COPY ends, outside the cursor
    # wrapper that turns driver errors into Django's (IntegrityError).
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(sql) as copy,
    ):
        for row in zip(*values, strict=True):
            copy.write_row(row)


# --- advisory locks -----------------------------------------------------------


def advisory_xact_lock(key: int) -> None:
    """Hold a PostgreSQL advisory lock on `key` until the transaction ends.

    A no-op elsewhere: SQLite's IMMEDIATE transactions already serialise
    writers (config.settings).
    """
    if not is_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


@contextlib.contextmanager
def advisory_lock(namespace: int, key: int) -> Iterator[None]:
    """Hold a session-level advisory lock on (namespace, key) for the block.

    For work that spans its own transactions (a push to an outside server)
    yet must not interleave with the same work on another worker. A no-op
    off PostgreSQL.
    """
    if not is_postgresql():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [namespace, key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
