"""Throttles that count only some requests: checked first, counted once the
request's outcome says it counts.

DRF's throttles count every request they let through. A failed token check
(`authentication.FailedTokenThrottle`) and an import count only by their
outcome, so they are checked before the work and counted after it.

An import is throttled per person, the page and the API drawing on the same
two allowances, so neither is a way around the other. What an import costs
is reading and checking its rows: a file that passes the file checks (CSV
text in UTF-8, a header naming the columns, not too wide, not too large)
counts against `import` (API_THROTTLE_IMPORT, 10 an hour), whether its rows
are then imported or refused. A file refused by those checks costs a decode
and a header, and counts apart, against `import_refused`
(API_THROTTLE_IMPORT_REFUSED, 60 an hour): a clerk saving a file again
until it is right is not locked out of the import they came for, and a
flood of unreadable uploads is still bounded. An upload is taken only while
both allowances have room.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.throttling import SimpleRateThrottle

IMPORTS_READ = "import"
IMPORTS_REFUSED = "import_refused"


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


class _PersonsImports(CountedThrottle):
    """One of a person's import allowances, keyed as DRF's ScopedRateThrottle
    keys a scope: by the user's id."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def get_cache_key(self, request: Any, view: Any = None) -> str:
        user = request.user
        ident = user.pk if user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def wait_for(self, request: Any) -> float | None:
        """Seconds until the allowance has room again, or None while it has."""
        if self.has_room(request):
            return None
        return self.wait() or 1.0


@dataclass(frozen=True)
class ImportWait:
    """How long before the person may upload again, and whether it is their
    refused files (not their imports) that spent the allowance."""

    seconds: float
    refused_files: bool

    @property
    def reason(self) -> str:
        if self.refused_files:
            return (
                "Many of your files were refused in a short time (not CSV text, "
                "unknown or too many columns, too large)"
            )
        return "You have imported many files in a short time"


class ImportAllowance:
    """A person's import allowances, for one upload: `wait` before reading
    it; then `file_read` once the file passed its checks (the service's
    `checked`), or `refused` when the upload was refused."""

    def __init__(self, request: Any) -> None:
        self._request = request
        self._read = _PersonsImports(IMPORTS_READ)
        self._refused = _PersonsImports(IMPORTS_REFUSED)
        self._counted = False

    def wait(self) -> ImportWait | None:
        """None while both allowances have room."""
        read = self._read.wait_for(self._request)
        refused = self._refused.wait_for(self._request)
        if read is None and refused is None:
            return None
        return ImportWait(
            seconds=max(read or 0.0, refused or 0.0),
            refused_files=read is None,
        )

    def file_read(self) -> None:
        self._read.record(self._request)
        self._counted = True

    def refused(self) -> None:
        """The upload was refused: a refused file, unless it passed the file
        checks first (its rows were read: counted as an import)."""
        if not self._counted:
            self._refused.record(self._request)
            self._counted = True
