"""libpq prepared statements: a hot lookup (a feed link, a booking link)
prepared once per connection and run without Django's cursor machinery.
Split from `core.db`; callers keep the ORM query as its SQLite twin.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import psycopg
from django.db import (
    DatabaseError,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import abc, pq
from psycopg.adapt import Transformer

from core.db import takes_raw_statements

# --- libpq prepared statements ------------------------------------------------

_IDLE = pq.TransactionStatus.IDLE
_NO_SUCH_STATEMENT = b"26000"  # invalid_sql_statement_name
# The psycopg connections statements are prepared on, each with the loaders of
# each statement's row (Django opens a new connection on every reconnect, and
# a closed one is dropped from here with it).
_prepared_on: weakref.WeakKeyDictionary[
    psycopg.Connection[Any], dict[bytes, abc.Transformer]
] = weakref.WeakKeyDictionary()


def fetch_one_prepared(
    db: BaseDatabaseWrapper, name: bytes, sql: str, params: tuple[str, ...]
) -> tuple[Any, ...] | None:
    """The first row of `sql` (text parameters as `%s`), or None.

    On PostgreSQL the statement is prepared once per connection under `name`
    and read in binary; elsewhere, or when Django logs or wraps queries
    (tests count them), it goes through Django's cursor like any other.
    """
    rows = fetch_all_prepared(db, name, sql, params, limit=1)
    return rows[0] if rows else None


def fetch_all_prepared(
    db: BaseDatabaseWrapper,
    name: bytes,
    sql: str,
    params: tuple[str, ...],
    *,
    limit: int | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of `sql` (the first `limit` when given), as `fetch_one_prepared`
    reads its one."""
    if not takes_raw_statements(db):
        return _through_django(db, sql, params, limit)
    # No health check (CONN_HEALTH_CHECKS' `SELECT 1`, a second round trip
    # each request): the read itself tells. A kept connection the server
    # dropped (a restart, pg_terminate_backend) fails it, and outside a
    # transaction a read is safe to run again, once, on a new connection.
    try:
        rows = _fetch_prepared(db, name, sql, params, limit)
    except DatabaseError:
        if db.in_atomic_block or db.connection is None or db.is_usable():
            raise  # a transaction to roll back, or not the connection's fault
        db.close()
        rows = _fetch_prepared(db, name, sql, params, limit)
    # It answered: the connection is healthy for the rest of this request.
    db.health_check_done = True  # type: ignore[attr-defined]
    return rows


def execute_prepared(
    db: BaseDatabaseWrapper, name: bytes, sql: str, params: tuple[str, ...]
) -> None:
    """Run `sql`, a write that returns no rows, prepared once per connection
    as `fetch_all_prepared` prepares a read. Unlike a read it is never run
    again on a lost connection (it may have been done); only a statement the
    server no longer knows (26000: nothing was run) is prepared again."""
    if not takes_raw_statements(db):
        _through_django(db, sql, params, 0)
        return
    _fetch_prepared(db, name, sql, params, 0)
    db.health_check_done = True  # type: ignore[attr-defined]


def _through_django(
    db: BaseDatabaseWrapper, sql: str, params: tuple[str, ...], limit: int | None
) -> list[tuple[Any, ...]]:
    """`sql` through Django's cursor, like any other query: logged, wrapped,
    and on a database with no prepared statements."""
    with db.cursor() as cursor:
        cursor.execute(sql, list(params))
        if cursor.description is None:  # a write: no rows to fetch
            return []
        found = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        return [tuple(row) for row in found]


def _fetch_prepared(
    db: BaseDatabaseWrapper,
    name: bytes,
    sql: str,
    params: tuple[str, ...],
    limit: int | None,
) -> list[tuple[Any, ...]]:
    db.ensure_connection()
    db.validate_no_broken_transaction()
    raw = db.connection
    with db.wrap_database_errors:
        # psycopg opens a transaction Django asked for (autocommit off) at
        # the first statement: leave that one to it. And where it prepares
        # statements itself (OPTIONS prepare_threshold) it may deallocate
        # them all after a rollback: leave it the bookkeeping too.
        if raw.prepare_threshold is None and (
            raw.autocommit or raw.pgconn.transaction_status != _IDLE
        ):
            return _run_prepared(raw, name, sql, params, limit)
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=True, binary=True)
            if cursor.description is None:  # a write: no rows to fetch
                return []
            return cursor.fetchall() if limit is None else cursor.fetchmany(limit)


def _run_prepared(
    raw: psycopg.Connection[Any],
    name: bytes,
    sql: str,
    params: tuple[str, ...],
    limit: int | None,
) -> list[tuple[Any, ...]]:
    """The rows by a statement prepared once per connection, in binary.

    Prepared, it is neither parsed nor planned again, and read in binary, no
    timestamp is formatted as text and parsed back. It goes straight to
    libpq: psycopg's cursor machinery cost as much as the round trip itself
    (the feed poll's link lookup). Django leaves psycopg's preparing off
    (prepare_threshold None, for transaction-pooling proxies; PgBouncer 1.21+
    copes, max_prepared_statements), so psycopg never deallocates these.
    """
    with raw.lock:  # as psycopg's own cursors hold it
        return _exec_prepared(raw, name, sql, [p.encode() for p in params], limit)


def _exec_prepared(
    raw: psycopg.Connection[Any],
    name: bytes,
    sql: str,
    values: list[bytes],
    limit: int | None,
) -> list[tuple[Any, ...]]:
    pgconn = raw.pgconn
    prepared = _prepared_on.get(raw)
    if prepared is None:
        prepared = _prepared_on[raw] = {}
    loader = prepared.get(name)
    if loader is None:
        _raise_unless_ok(pgconn.prepare(name, _numbered(sql)), raw)
        # Kept: a fresh one looks up every column's loader again, each call.
        loader = prepared[name] = Transformer(raw)
    result = pgconn.exec_prepared(name, values, result_format=pq.Format.BINARY)
    if result.error_field(pq.DiagnosticField.SQLSTATE) == _NO_SUCH_STATEMENT:
        # Gone (DISCARD ALL or DEALLOCATE by someone else).
        prepared.pop(name, None)
        if pgconn.transaction_status == _IDLE:
            # No transaction was spoilt, as in every autocommit call: again.
            _raise_unless_ok(pgconn.prepare(name, _numbered(sql)), raw)
            prepared[name] = loader
            result = pgconn.exec_prepared(name, values, result_format=pq.Format.BINARY)
    _raise_unless_ok(result, raw)
    count = result.ntuples if limit is None else min(limit, result.ntuples)
    if count == 0:
        return []
    loader.set_pgresult(result, format=pq.Format.BINARY)
    try:
        return loader.load_rows(0, count, tuple)
    finally:
        loader.set_pgresult(None)


def _raise_unless_ok(result: pq.abc.PGresult, raw: psycopg.Connection[Any]) -> None:
    if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        raise psycopg.errors.error_from_result(result, encoding=raw.info.encoding)


@functools.lru_cache(maxsize=16)
def _numbered(sql: str) -> bytes:
    # libpq numbers its parameters ($1, $2...); the ORM writes them as %s.
    parts = sql.split("%s")
    assert "%" not in "".join(parts), sql  # noqa: S101 - no other placeholder
    numbered = parts[0]
    for number, part in enumerate(parts[1:], start=1):
        numbered += f"${number}{part}"
    return numbered.encode()
