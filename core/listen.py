"""A connection of this process's own that LISTENs on a PostgreSQL channel:
psycopg's side of a memory kept honest by notifications (`feeds.link_cache`
holds the policy: what to forget, when to trust, when to try again).

The connection only reads, in autocommit, with TCP keepalives so that a peer
that vanished without a word (a dropped route, a firewall's idle timeout) is
noticed within about 25 seconds. A new one NOTIFYs itself and waits for
that probe: a connection that LISTENs but is never told (PgBouncer in
transaction mode hands the session back after each statement) is refused.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections

_OPTIONS = {
    "autocommit": True,
    "connect_timeout": 2,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


class ListenerError(Exception):
    """No connection to listen on, or it was lost: read the database."""


class NotTold(ListenerError):
    """The connection LISTENs, but its own probe never came back."""


class Listener:
    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self._raw = raw
        # A listening connection is told nothing but notifications; anything
        # else (FATAL: terminating connection...) means it is ending.
        self._farewell = False
        raw.add_notice_handler(self._heard)

    @classmethod
    def open(cls, channel: str, *, probe_seconds: float) -> Listener:
        """A connection to the default database listening on `channel`;
        ListenerError when there is none, NotTold when it hears nothing."""
        params = {
            **connections[DEFAULT_DB_ALIAS].get_connection_params(),
            **_OPTIONS,
        }
        try:
            raw = psycopg.connect(**params)
        except psycopg.Error as exc:
            raise ListenerError(str(exc)) from exc
        listener = cls(raw)
        try:
            _listen(raw, channel)
            told = _probe(raw, channel, probe_seconds)
        except psycopg.Error as exc:
            listener.close()
            raise ListenerError(str(exc)) from exc
        if not told:
            listener.close()
            raise NotTold(channel)
        return listener

    @property
    def backend_pid(self) -> int:
        return self._raw.info.backend_pid

    def received(self) -> list[str]:
        """The payloads arrived since the last call, read without a round
        trip; ListenerError when the connection is lost or ending."""
        pgconn = self._raw.pgconn
        payloads: list[str] = []
        try:
            pgconn.consume_input()
            while (notice := pgconn.notifies()) is not None:
                payloads.append(notice.extra.decode())
        except psycopg.Error as exc:
            raise ListenerError(str(exc)) from exc
        if self._farewell or pgconn.status != psycopg.pq.ConnStatus.OK:
            # A server hanging up (a restart, pg_terminate_backend) says so
            # before it closes: libpq hands an error that arrives while idle
            # to the notice handler, and the socket may not be closed yet.
            raise ListenerError("the server hung up")
        return payloads

    def wait(self, seconds: float) -> bool:
        """Whether something arrived within `seconds` (read by `received`)."""
        readable, _, _ = select.select([self._raw.fileno()], [], [], seconds)
        return bool(readable)

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._raw.close()

    def _heard(self, diagnostic: psycopg.errors.Diagnostic) -> None:
        self._farewell = True


def _listen(raw: psycopg.Connection[Any], channel: str) -> None:
    raw.execute(f"LISTEN {channel}")


def _probe(raw: psycopg.Connection[Any], channel: str, seconds: float) -> bool:
    """NOTIFY this listener's own channel and wait for it to come back:
    whether notifications reach this connection at all. Other processes
    hear the probe too and take it for a change of one unknown key (they
    forget nothing they hold)."""
    payload = f"probe:{os.getpid()}:{raw.info.backend_pid}"
    # A notice that arrives while a statement runs goes to psycopg's
    # handlers; one that arrives later waits in libpq, read as `received`.
    heard: list[str] = []

    def hear(notice: psycopg.Notify) -> None:
        heard.append(notice.payload)

    raw.add_notify_handler(hear)
    try:
        raw.execute("SELECT pg_notify(%s, %s)", [channel, payload])
        deadline = time.monotonic() + seconds
        pgconn = raw.pgconn
        while payload not in heard and (left := deadline - time.monotonic()) > 0:
            select.select([raw.fileno()], [], [], left)
            pgconn.consume_input()
            while (notice := pgconn.notifies()) is not None:
                heard.append(notice.extra.decode())
    finally:
        raw.remove_notify_handler(hear)
    return payload in heard
