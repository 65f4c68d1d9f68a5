"""Every table and column the poll's link lookup reads is watched by an
invalidation trigger (feeds migrations 0010 and 0011), so a link held in
memory (`feeds.link_cache`) cannot outlive a change to what made it live.

A new liveness condition in `feeds.lookup` that reads a table or column no
trigger watches fails here, until a migration adds the trigger.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection

from feeds import lookup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Read by the lookup, yet rightly unwatched: the poll's own record of a use,
# which the held link carries itself (`lookup.touch`); and primary keys,
# which are never updated (a deleted row is watched).
UNWATCHED = {("feeds_calendarlink", "last_used_at")}
KEY = "id"

_TABLE = re.compile(r"(?:FROM|JOIN) \"(\w+)\"(?: ([A-Z]\d+)\b)?")
_COLUMN = re.compile(r'"?(\w+)"?\."(\w+)"')


def columns_read(sql: str) -> set[tuple[str, str]]:
    """(table, column) for each qualified column of `sql`. An alias names
    different tables in different subqueries (U0, U1...): a column is taken
    as read from every table under that alias that has it."""
    under: dict[str, set[str]] = {}
    for table, alias in _TABLE.findall(sql):
        under.setdefault(alias or table, set()).add(table)
    with connection.cursor() as cursor:
        columns_of = {
            table: {
                c.name
                for c in connection.introspection.get_table_description(cursor, table)
            }
            for tables in under.values()
            for table in tables
        }
    return {
        (table, column)
        for owner, column in _COLUMN.findall(sql)
        for table in under[owner]
        if column in columns_of[table]
    }


def watched_columns() -> dict[str, set[str] | None]:
    """Table -> the columns whose UPDATE notifies the memory's channel, for
    the tables whose DELETE does too; None where any column's change does."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, t.tgtype, array(
                SELECT a.attname FROM unnest(t.tgattr) AS n
                JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = n
            )
            FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE NOT t.tgisinternal
              AND p.proname IN ('feeds_link_changed', 'feeds_link_holders_changed')
            """
        )
        rows = cursor.fetchall()
    delete, update = 8, 16  # pg_trigger.tgtype bits
    watched: dict[str, set[str] | None] = {}
    for table, kind, columns in rows:
        if not (kind & delete and kind & update):
            continue
        if not columns or (table in watched and watched[table] is None):
            watched[table] = None
        else:
            watched[table] = {*(watched.get(table) or set()), *columns}
    return watched


def unwatched(sql: str) -> set[tuple[str, str]]:
    watched = watched_columns()
    return {
        (table, column)
        for table, column in columns_read(sql) - UNWATCHED
        if column != KEY
        and (
            table not in watched
            or (watched[table] is not None and column not in (watched[table] or ()))
        )
    }


def test_every_column_the_lookup_reads_is_watched_by_a_trigger() -> None:
    sql, _, _ = lookup._find_sql(connection.alias)

    assert ("auth_user", "is_active") in columns_read(sql)
    assert unwatched(sql) == set()


def test_a_new_condition_on_an_unwatched_column_is_found() -> None:
    sql, _, _ = lookup._find_sql(connection.alias)
    widened = sql.replace(
        "LIMIT 1) WHEN", 'AND U1."last_login" IS NOT NULL LIMIT 1) WHEN', 1
    )

    assert widened != sql
    assert unwatched(widened) == {("auth_user", "last_login")}
