"""PostgreSQL advisory locks, and a second connection beside a long
transaction; each a no-op (or its plain twin) off PostgreSQL. Split from
`core.db`, which keeps the bulk writes and the errors waiting cures.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import (
    DEFAULT_DB_ALIAS,
    connection,
    connections,
)

from core.db import is_postgresql

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


@contextlib.contextmanager
def try_advisory_lock(namespace: int, key: int) -> Iterator[bool]:
    """Whether this session got the advisory lock on (namespace, key) at once,
    held for the block. A session that dies (a killed worker) frees it, so
    "held" means "a live process is on it". Always True off PostgreSQL."""
    if not is_postgresql():
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])


@contextlib.contextmanager
def side_connection(alias: str) -> Iterator[str | None]:
    """A second connection to the default database, in autocommit, under
    `alias` for `QuerySet.using(alias)` in this thread: what it writes shows
    at once while the first connection holds a long transaction (an
    import's progress). PostgreSQL only: None on SQLite, whose one writer
    would wait for that very transaction."""
    if not is_postgresql():
        yield None
        return
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    connections[alias] = side
    try:
        yield alias
    finally:
        del connections[alias]
        side.close()
