"""PostgreSQL fast paths for bulk writes: the one place that knows COPY and
`unnest` upserts, and so psycopg's internals there; and which database
errors waiting cures (a lock, a lost connection), which the API and the
pages answer 503. Advisory locks are `core.locks`; libpq prepared
statements `core.prepared`.

Each fast path carries its portable twin inside itself (`insert_many`,
`insert_rows`, `upsert_many`: COPY or `unnest` on PostgreSQL, `bulk_create`
elsewhere), and has a measured reason to exist, given where it is used. A
domain's own PostgreSQL statement names its twin with `fast_path`, so no
domain module asks which database it runs on. The domain decides *what* to
write; this module only knows *how* to write it fast. It imports nothing
from the apps.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

from django.db import (
    DEFAULT_DB_ALIAS,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor as BaseSchemaEditor
from django.db.models import F, Field, Lookup, Model, Q, QuerySet
from django.db.models.expressions import RawSQL

T = TypeVar("T")
QS = TypeVar("QS", bound=QuerySet[Any])
MO = TypeVar("MO", bound=Model)
P = ParamSpec("P")


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def takes_raw_statements(db: BaseDatabaseWrapper) -> bool:
    """Whether a statement may go straight to libpq (`core.prepared`): on
    PostgreSQL, where Django neither logs nor wraps queries (tests that
    count them do); elsewhere it goes through Django's cursor."""
    return (
        db.vendor == "postgresql" and not db.queries_logged and not db.execute_wrappers
    )


def can_listen() -> bool:
    """Whether notifications can be trusted now: on PostgreSQL, outside a
    transaction (what it writes is not announced before its commit)."""
    db = connections[DEFAULT_DB_ALIAS]
    return db.vendor == "postgresql" and not db.in_atomic_block


def fast_path(portable: Callable[P, T]) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a PostgreSQL-only function with its `portable` twin, which
    runs instead on any other database (SQLite, the embedded demo). Both
    take the same arguments and do the same."""

    def decorate(fast: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fast)
        def either(*args: P.args, **kwargs: P.kwargs) -> T:
            chosen = fast if is_postgresql() else portable
            return chosen(*args, **kwargs)

        return either

    return decorate


# --- errors that waiting cures ------------------------------------------------

_BUSY_MESSAGES = ("database is locked", "database table is locked")
# PostgreSQL: lock_not_available, deadlock_detected, serialization_failure.
_BUSY_SQLSTATES = {"55P03", "40P01", "40001"}
# admin_shutdown (pg_terminate_backend, a fast restart), crash_shutdown,
# cannot_connect_now (starting up or shutting down).
_CONNECTION_SQLSTATES = {"57P01", "57P02", "57P03"}


def is_database_busy(exc: BaseException | None) -> bool:
    """A database error that waiting will cure, not a bug: the database is
    locked or busy, or its connection was lost (`is_connection_lost`)."""
    if is_connection_lost(exc):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if getattr(exc.__cause__, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    return str(exc).lower().startswith(_BUSY_MESSAGES)


def is_connection_lost(exc: BaseException | None) -> bool:
    """The connection to PostgreSQL broke or could not be made: the server
    restarted or is starting (57P01-57P03), a backend was terminated, the
    network failed (class 08). psycopg raises these with no SQLSTATE when
    the socket itself failed, and Django an InterfaceError on a connection
    it already knows is closed. The next request gets a new connection."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is None:
        # SQLite's errors carry no SQLSTATE either; theirs are not this.
        return not str(exc).lower().startswith(_BUSY_MESSAGES) and _is_psycopg(exc)
    return sqlstate.startswith("08") or sqlstate in _CONNECTION_SQLSTATES


def _is_psycopg(exc: BaseException) -> bool:
    return type(exc.__cause__).__module__.startswith("psycopg")


def chunks(items: Sequence[T], size: int | None = None) -> Iterator[Sequence[T]]:
    """Slices of `items`, `size` long; by default as long as the backend's
    limit on query parameters allows (SQLite's is the tightest)."""
    limit = size or min(connection.features.max_query_params or 10_000, 10_000) - 10
    for start in range(0, len(items), limit):
        yield items[start : start + limit]


# --- JSON lists -------------------------------------------------------------


def holding(queryset: QS, field: str, value: int) -> QS:
    """The rows of `queryset` whose JSON list `field` holds `value`.

    PostgreSQL answers `@>` (from a GIN index over the list, where there is
    one). Django has no JSON containment on SQLite: there `json_each` scans.
    """
    if connections[queryset.db].vendor == "postgresql":
        return queryset.filter(**{f"{field}__contains": [value]})
    model = queryset.model
    table = model._meta.db_table
    column = model._meta.get_field(field).column  # type: ignore[union-attr]
    # The value is a parameter; table and column are the model's own.
    held = RawSQL(  # noqa: S611
        f"SELECT r.id FROM {table} r, json_each(r.{column}) e "  # noqa: S608
        "WHERE e.value = %s",
        [value],
    )
    return queryset.filter(pk__in=held)


# --- id lists -----------------------------------------------------------------


class _AnyOf(Lookup[Any]):
    """`column = ANY(%s)`: the ids one array parameter, passed as it is."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(
        self, compiler: Any, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


def among(field: str, ids: Sequence[int]) -> Q:
    """The rows whose integer `field` is one of `ids`.

    On PostgreSQL one array parameter (`= ANY(%s)`): `__in` prepares each
    id on its own, some thirty calls an id, 3 ms for the 500 patients a desk
    search may find. `__in` elsewhere.
    """
    if not is_postgresql():
        return Q(**{f"{field}__in": ids})
    if not ids:
        return Q(pk__in=[])
    return Q(_AnyOf(F(field), list(ids)))


# --- inserts and upserts, each with its portable twin ------------------------


def insert_many(objs: Sequence[MO], *, now: dt.datetime) -> list[MO]:
    """Insert new rows of one model, as `bulk_create` would, setting ids.

    COPY on PostgreSQL (`_copy_insert`): 9,000 patients and 10,000 procedures
    took 1 s through `bulk_create`, most of it Django preparing each value.
    """
    created = list(objs)
    if not created:
        return created
    if is_postgresql():
        _copy_insert(created, now=now)
        return created
    model = type(created[0])
    return model._default_manager.bulk_create(created)


def insert_rows(
    model: type[Model], given: dict[str, Any], *, rows: int, now: dt.datetime
) -> None:
    """Insert `rows` new rows of `model` from columns of values (`_copy_rows`
    says how `given` reads): COPY on PostgreSQL, `bulk_create` elsewhere."""
    if rows == 0:
        return
    if is_postgresql():
        _copy_rows(model, given, rows=rows, now=now)
        return
    columns = {
        name: value if isinstance(value, list) else [value] * rows
        for name, value in given.items()
    }
    model._default_manager.bulk_create(
        [model(**{n: v[i] for n, v in columns.items()}) for i in range(rows)],
    )


def upsert_many(
    model: type[Model], *, key: str, keys: Sequence[int], values: dict[str, Any]
) -> None:
    """One row of `model` per key, inserted with `values` or, when its key is
    there already, updated with them (`_upsert_unnest` on PostgreSQL: one
    statement whatever the number of keys; `bulk_create` elsewhere)."""
    if is_postgresql():
        _upsert_unnest(model, key=key, keys=keys, values=values)
        return
    key_attname = model._meta.get_field(key).attname  # type: ignore[union-attr]
    model._default_manager.bulk_create(
        [model(**{key_attname: k}, **values) for k in keys],
        update_conflicts=True,
        unique_fields=[key],
        update_fields=list(values),
    )


# --- COPY ---------------------------------------------------------------------


def _copy_insert(objs: Sequence[Model], *, now: dt.datetime) -> None:
    """Insert new rows of one model by COPY, as `bulk_create` would; PostgreSQL.

    Each object gets its id (taken from the table's sequence first) and its
    creation stamps (`now`). A violated constraint raises IntegrityError.
    """
    if not objs:
        return
    model = type(objs[0])
    fields = model._meta.concrete_fields
    ids = _reserve_ids(model, len(objs))
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    _copy_rows(
        model,
        {
            f.attname: [getattr(obj, f.attname) for obj in objs]
            for f in fields
            if not _stamped(f)
        },
        rows=len(objs),
        now=now,
    )
    stamp_fields = [f.attname for f in fields if _stamped(f)]
    for obj in objs:
        for attname in stamp_fields:
            setattr(obj, attname, now)


def _stamped(f: Field[Any, Any]) -> bool:
    return bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))


def _reserve_ids(model: type[Model], count: int) -> list[int]:
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


def _copy_rows(
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
            value = now if _stamped(f) else f.get_default()
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


# --- unnest upserts -----------------------------------------------------------


def _upsert_unnest(
    model: type[Model],
    *,
    key: str,
    keys: Sequence[int],
    values: dict[str, Any],
) -> None:
    """One row of `model` per key, inserted or updated by one statement;
    PostgreSQL only.

    `key` names a unique field whose column is filled from `keys`, which
    travel as one bigint array parameter (`unnest`), however many they are.
    Every row gets the same `values` (by field name): inserted with them,
    the other fields taking their defaults; or, when its key is there
    already, updated with them alone (`ON CONFLICT ... DO UPDATE`).
    """
    meta = model._meta
    quote = connection.ops.quote_name
    key_column = _column(model, key)
    fields = [f for f in meta.concrete_fields if quote(f.column) != key_column]
    prepared = [
        f.get_db_prep_save(values.get(f.name, f.get_default()), connection)
        for f in fields
    ]
    columns = ", ".join(quote(f.column) for f in fields)
    updated = [_column(model, name) for name in values]
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in updated)
    placeholders = ", ".join(["%s"] * len(fields))
    # Identifiers come from the model, values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({key_column}, {columns}) "  # noqa: S608
        f"SELECT id, {placeholders} FROM unnest(%s::bigint[]) AS id "
        f"ON CONFLICT ({key_column}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*prepared, list(keys)])


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return connection.ops.quote_name(field.column)


# --- search indexes -----------------------------------------------------------


def add_trigram_index(
    schema_editor: BaseSchemaEditor, *, name: str, table: str, column: str
) -> None:
    """A GIN trigram index serving `column LIKE '%word%'`, on PostgreSQL.

    Elsewhere nothing: SQLite, the embedded demo, has neither `pg_trgm` nor
    GIN, and scans, which its small clinics afford. `fastupdate = off`: rows
    inserted since the last vacuum would wait in the index's pending list,
    which every search reads through (see clinic's migration 0004).
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
        f"USING gin ({column} gin_trgm_ops) WITH (fastupdate = off)"
    )


def drop_trigram_index(schema_editor: BaseSchemaEditor, *, name: str) -> None:
    """Undoes `add_trigram_index` (the extension stays: others may use it)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
