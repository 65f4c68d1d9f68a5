"""`/healthz` for a load balancer: JSON, 200 when healthy, 503 otherwise.

No login, no session: it answers the same to anyone, with counts and ages
only (`ops.health`), and costs two small queries (the broker is asked at
most once every few seconds). One address may ask
HEALTHZ_REQUESTS_PER_ADDRESS_MINUTE times a minute (per web process), far
above any probe's rate, so that nobody can turn it into load on the
database; past that it answers 429. The count is kept in memory, not in the
cache: a health check must not depend on Redis being up.
"""

import math
import threading
import time
from collections import deque

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.addresses import client_address
from ops.health import health

WINDOW_SECONDS = 60
# Past this many addresses, those silent for a window are dropped.
_PRUNE_AT = 10_000


class _PerAddress:
    """A sliding one-minute window of request times per client address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, address: str, *, now: float, limit: int) -> int | None:
        """Seconds to wait, or None when this request may go ahead."""
        with self._lock:
            if len(self._seen) > _PRUNE_AT:
                self._prune(now)
            times = self._seen.setdefault(address, deque())
            while times and times[0] <= now - WINDOW_SECONDS:
                times.popleft()
            if len(times) >= limit:
                return max(1, math.ceil(times[0] + WINDOW_SECONDS - now))
            times.append(now)
        return None

    def _prune(self, now: float) -> None:
        for address in [
            a for a, t in self._seen.items() if not t or t[-1] <= now - WINDOW_SECONDS
        ]:
            del self._seen[address]

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


throttle = _PerAddress()


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    wait = throttle.retry_after(
        client_address(request),
        now=time.monotonic(),
        limit=settings.HEALTHZ_REQUESTS_PER_ADDRESS_MINUTE,
    )
    if wait is not None:
        return JsonResponse(
            {"status": "throttled", "retry_after_seconds": wait},
            status=429,
            headers={"Retry-After": str(wait)},
        )
    report = health(now=timezone.now())
    return JsonResponse(report.as_dict(), status=200 if report.healthy else 503)
