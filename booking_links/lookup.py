"""The booking page's hot path: from a token's hash to its live link, with the
visit and what the page shows of it (rule, patient, surgeon, procedure and
its surgeon, whose slots a visit to book is offered), in one statement.

Every view of the page and every form it posts starts here
(bench/booking_link.py). Through the ORM the lookup cost about 3 ms, most of
it building the seven-table query and PostgreSQL planning it each time; here
the statement is compiled once a day (the day is one of its parameters'
source: `BookingLinkQuerySet.live`) and prepared once per connection
(`core.prepared.fetch_one_prepared`, as the feed links are read), and the rows
become model instances directly. The ORM query is its portable twin
(`core.db.fast_path`), for SQLite. So is the audit row each other use writes
(`record_use`): through the ORM its insert cost more to build than to run.
A view of the page or a download of its `.ics` writes its row in the lookup
itself (`use`, `_recording_sql`): one round trip instead of two.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

from booking_links.models import BookingLink, BookingLinkUse, LinkUse
from clinic.models import Patient, Procedure, Surgeon
from core import db, prepared
from followup.models import FollowUpRule, Visit

# The rows read, in the statement's order: the link, its visit, and the
# visit's related rows the page and the booking services use.
_ROWS: tuple[tuple[str, type[Model]], ...] = (
    ("", BookingLink),
    ("visit__", Visit),
    ("visit__rule__", FollowUpRule),
    ("visit__patient__", Patient),
    ("visit__surgeon__", Surgeon),
    ("visit__procedure__", Procedure),
    ("visit__procedure__surgeon__", Surgeon),
)
RELATED = ["rule", "patient", "surgeon", "procedure"]
# Stands for the token's hash in the compiled statement's parameters.
_DIGEST_PLACEHOLDER = "\x00digest"


def _columns(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def live_links(today: dt.date, digest: str) -> QuerySet[BookingLink]:
    """The live link whose token hashes to `digest`, through the ORM."""
    return (
        BookingLink.objects.live(today)
        .filter(token_hash=digest)
        .select_related(
            *(f"visit__{name}" for name in RELATED), "visit__procedure__surgeon"
        )
    )


def _all_fields() -> list[str]:
    """The statement's columns: the link's first, its id first of all."""
    return [prefix + name for prefix, model in _ROWS for name in _columns(model)]


@functools.lru_cache(maxsize=4)
def _find_sql(alias: str, today: dt.date) -> tuple[str, tuple[str, ...], int]:
    """The statement, its parameters as text, and where the hash goes."""
    query = (
        BookingLink.objects.live(today)
        .filter(token_hash=_DIGEST_PLACEHOLDER)
        .order_by()
        .values_list(*_all_fields())[:1]
    )
    sql, params = query.query.get_compiler(using=alias).as_sql()
    texts = tuple(str(param) for param in params)
    return sql, texts, texts.index(_DIGEST_PLACEHOLDER)


def _portable(
    today: dt.date, digest: str, use: tuple[LinkUse, dt.datetime] | None = None
) -> BookingLink | None:
    link = live_links(today, digest).first()
    if link is not None and use is not None:
        _record_use_portable(link.pk, *use)
    return link


@db.fast_path(portable=_portable)
def find_by_digest(
    today: dt.date, digest: str, use: tuple[LinkUse, dt.datetime] | None = None
) -> BookingLink | None:
    """The link live on `today` whose token hashes to `digest`, its visit and
    the visit's rule, patient, surgeon and procedure loaded; None when none.

    With `use` (what, when), the same statement writes that use's audit row
    when it finds the link (`_recording_sql`)."""
    conn = connections[DEFAULT_DB_ALIAS]
    sql, params, at = _find_sql(conn.alias, today)
    values: tuple[str, ...] = (*params[:at], digest, *params[at + 1 :])
    name = f"booking_links_find_live_{today:%Y%m%d}"
    if use is not None:
        sql, name = _recording_sql(sql), name + "_recording"
        values += (use[1].isoformat(), str(use[0]))
    row = prepared.fetch_one_prepared(conn, name.encode(), sql, values)
    return None if row is None else _instances(conn.alias, row)


@functools.lru_cache(maxsize=4)
def _recording_sql(find: str) -> str:
    """`find`, writing the found link's use too (its time and what, the last
    two parameters): one round trip for a view of the page instead of two.

    That row alone is committed without waiting for the WAL to reach the
    disk (`synchronous_commit` off, for this statement's transaction only):
    a crash of the database server could lose the views of its last fraction
    of a second (at most three `wal_writer_delay`), never a booking, and
    never leaves a partial row. Should the connection be lost and the
    statement run again (`fetch_one_prepared` retries a lost connection's
    read once), a view could be recorded twice, never a booking.
    """
    names = ", ".join(f"c{n}" for n in range(len(_all_fields())))
    return (
        f"WITH found ({names}) AS ({find}), "  # noqa: S608 - names from the models
        f"used AS ({_insert_use()} SELECT c0, %s, %s FROM found), "
        "relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "
        "SELECT found.* FROM found, relaxed"
    )


def _instances(alias: str, row: tuple[Any, ...]) -> BookingLink:
    """The row's models, linked as `select_related` links them."""
    found: list[Any] = []
    start = 0
    for _, model in _ROWS:
        names = _columns(model)
        values = row[start : start + len(names)]
        start += len(names)
        # An empty LEFT JOIN (a visit with no surgeon yet) is all NULLs.
        found.append(None if values[0] is None else model.from_db(alias, names, values))
    link, visit, *related, operated_by = found
    for name, instance in zip(RELATED, related, strict=True):
        setattr(visit, name, instance)
    visit.procedure.surgeon = operated_by
    link.visit = visit
    return link  # type: ignore[no-any-return]


def _record_use_portable(link_id: int, what: LinkUse, at: dt.datetime) -> None:
    BookingLinkUse.objects.create(link_id=link_id, what=what, at=at)


@db.fast_path(portable=_record_use_portable)
def record_use(link_id: int, what: LinkUse, at: dt.datetime) -> None:
    """One row of the link's audit trail."""
    conn = connections[DEFAULT_DB_ALIAS]
    values = (str(link_id), at.isoformat(), str(what))
    prepared.execute_prepared(conn, b"booking_links_record_use", _use_sql(), values)


@functools.cache
def _use_sql() -> str:
    return f"{_insert_use()} VALUES (%s, %s, %s)"


@functools.cache
def _insert_use() -> str:
    """An audit row's INSERT, up to its values: the link, when, what."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    fields = [BookingLinkUse._meta.get_field(name) for name in ("link", "at", "what")]
    columns = ", ".join(quote(str(field.column)) for field in fields)  # type: ignore[union-attr]
    table = quote(BookingLinkUse._meta.db_table)
    return f"INSERT INTO {table} ({columns})"
