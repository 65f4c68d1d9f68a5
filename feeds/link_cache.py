"""Live links held in this process's memory, kept honest by PostgreSQL.

A calendar client polls its feed every few minutes, and nearly every poll
of a link finds the same row it found last time. Reading that row from
memory instead of PostgreSQL takes the poll's one database round trip away
(a poll within 1.5x of a static file of the same size).

Memory is only as good as its invalidation, and a revoked link must stop at
once. So each process LISTENs on one connection of its own, and triggers
(migration `feeds.0010`) NOTIFY on every write that can change what a poll
may find:

- a link row changed or deleted (revoked, rotated, its feed's stamp copied
  onto it by `versions.bump`): the payload is the link's old token hash, and
  only that entry goes; the poll's own `last_used_at` writes notify nothing;
- a user's `is_active` or `is_superuser`, a group membership, a group's
  name, a surgeon's login: who may hold a link changed, and every entry goes.

Each poll first reads what has arrived on the listening connection (one
non-blocking read, no round trip), then its entry. A change takes effect as
soon as its notification reaches the process: within a round trip of its
commit, the time a poll that read the row just before the commit would
also have taken. And this process's own revocations, rotations and role
changes empty it at their commit, before their reply leaves.

Where memory cannot be trusted, nothing is read from it or written to it:
- no listening connection (SQLite, a lost connection: until it is back, and
  everything held before the loss is dropped);
- inside a transaction (uncommitted writes are not announced; tests);
- after a fork (the parent's connection is not this process's).

A row read from the database is kept only if no notification arrived while
it was read (`generation`), so a read that raced a change is never kept.

Two bounds on what a lost notification could cost:
- a held link is read again from the database once it is
  FEED_LINK_MAX_AGE_SECONDS old (a few seconds), however often it is polled;
- a new listener NOTIFYs itself and waits for that probe before anything is
  held: a connection that LISTENs but is never told (PgBouncer in
  transaction mode hands the session back after each statement) is not
  trusted, and polls read the database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import transaction

from core import listen
from core.db import can_listen

logger = logging.getLogger(__name__)

# What is held: `feeds.lookup.ActiveLink`, which this module only keeps.
L = TypeVar("L")

CHANNEL = "feeds_links"
# How many links one process holds: a clinic's subscribers, with room.
CAPACITY = 20_000
# After a failed connection, how long polls go to the database before the
# listener is tried again.
RETRY_SECONDS = 5.0
# How long a new listener waits for its own probe notification, and how long
# polls then go to the database before it is tried again: a connection that
# is never told is a setting to fix, not a blip.
PROBE_SECONDS = 2.0
PROBE_RETRY_SECONDS = 300.0
# The clock that ages held links (tests move it).
_clock = time.monotonic


class _LinkCache(Generic[L]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # digest -> (the link, when it was read from the database).
        self._links: OrderedDict[str, tuple[L, float]] = OrderedDict()
        self._listener: listen.Listener | None = None
        self._pid = os.getpid()
        self._retry_at = 0.0
        # Raised by every invalidation: a read that spans one is not kept.
        self.generation = 0

    # --- reading and keeping ------------------------------------------------

    def usable(self) -> bool:
        if not settings.FEED_LINK_MEMORY:
            return False
        return can_listen()

    def get(self, digest: str) -> tuple[L | None, int | None]:
        """(the held link or None, the generation to keep a read under).

        A generation of None: memory cannot be trusted now; read, don't keep.
        """
        with self._lock:
            if not self._drain():
                return None, None
            held = self._links.get(digest)
            if held is None:
                return None, self.generation
            link, read_at = held
            if _clock() - read_at >= settings.FEED_LINK_MAX_AGE_SECONDS:
                # Old enough that a lost notice must not keep it: read again.
                del self._links[digest]
                return None, self.generation
            self._links.move_to_end(digest)
            return link, self.generation

    def keep(self, link: L, digest: str, generation: int | None) -> None:
        """Hold a row read under `generation`, unless something changed since."""
        if generation is None:
            return
        with self._lock:
            if not self._drain() or generation != self.generation:
                return
            self._links[digest] = (link, _clock())
            self._links.move_to_end(digest)
            while len(self._links) > CAPACITY:
                self._links.popitem(last=False)

    def replace(self, digest: str, old: L, new: L) -> None:
        """Hold `new` (its last use) in place of `old`, if `old` is still the
        one held: not over a fresher row read meanwhile."""
        with self._lock:
            held = self._links.get(digest)
            if held is not None and held[0] is old:
                # Its age stays that of the database read.
                self._links[digest] = (new, held[1])

    def clear(self) -> None:
        with self._lock:
            self._clear()

    def clear_on_commit(self) -> None:
        """Empty this process's memory when the current transaction commits."""
        transaction.on_commit(self.clear)

    def _clear(self) -> None:
        self._links.clear()
        self.generation += 1

    # --- the listening connection ---------------------------------------------

    def _drain(self) -> bool:
        """Apply what has arrived; False when there is no listener to trust."""
        if self._pid != os.getpid():
            # Forked: the parent's socket is not ours to read or close.
            self._pid, self._listener = os.getpid(), None
            self._clear()
        listener = self._listener or self._connect()
        if listener is None:
            return False
        try:
            payloads = listener.received()
        except listen.ListenerError as exc:
            logger.warning("Feed link listener lost (%s); polls read the database", exc)
            self._drop(listener)
            return False
        for payload in payloads:
            self._apply(payload)
        return True

    def _apply(self, digest: str) -> None:
        # Every notice raises the generation, held or not: a read of that
        # link may be on its way, and must not be kept.
        if digest:
            self._links.pop(digest, None)
        else:
            self._links.clear()
        self.generation += 1

    def _connect(self) -> listen.Listener | None:
        if time.monotonic() < self._retry_at:
            return None
        try:
            listener = listen.Listener.open(CHANNEL, probe_seconds=PROBE_SECONDS)
        except listen.NotTold:
            logger.warning(
                "Feed link listener hears no notifications (PgBouncer in "
                "transaction mode?); polls read the database"
            )
            self._retry_at = time.monotonic() + PROBE_RETRY_SECONDS
            return None
        except listen.ListenerError as exc:
            logger.warning("Feed link listener not connected: %s", exc)
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return None
        # Whatever was held was not watched until now.
        self._clear()
        self._listener = listener
        return listener

    def _drop(self, listener: listen.Listener) -> None:
        self._listener = None
        self._retry_at = time.monotonic() + RETRY_SECONDS
        self._clear()
        listener.close()

    def wait(self, seconds: float) -> bool:
        """Wait until something arrives on the listening connection; False
        after `seconds` of silence, or without one. The next poll applies it.
        (Tests: "once the notice is here, the link is gone".)"""
        listener = self._listener
        return listener is not None and listener.wait(seconds)

    def close(self) -> None:
        """Stop listening (tests, and a process that stops serving feeds)."""
        with self._lock:
            if self._listener is not None:
                self._drop(self._listener)
            self._retry_at = 0.0


links: _LinkCache[Any] = _LinkCache()


def clearing_on_commit(*_: Any, **__: Any) -> None:
    """A signal receiver: this process forgets its links at commit."""
    links.clear_on_commit()
