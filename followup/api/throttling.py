"""Throttles that count only some requests: checked first, counted once the
request's outcome says it counts.

DRF's throttles count every request they let through. A failed token check
(`authentication.FailedTokenThrottle`) counts only by its outcome, so it is
checked before the work and counted after it.
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle


class CountedThrottle(SimpleRateThrottle):
    """A rate whose requests are counted by hand (`record`), not as they
    pass; `has_room` says whether one more may go, `wait` (DRF's) how long
    until one may after it said no. The key: `get_cache_key`."""

    # Set by SimpleRateThrottle.__init__ from the rate; not in the stubs.
    num_requests: int
    duration: int

    def get_cache_key(self, request: Any, view: Any = None) -> str:
        """The key of the requests counted with this one; no view needed."""
        raise NotImplementedError

    def _load(self, request: Any) -> None:
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()

    def has_room(self, request: Any) -> bool:
        self._load(request)
        return len(self.history) < self.num_requests

    def record(self, request: Any) -> None:
        self._load(request)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
