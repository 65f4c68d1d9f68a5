"""Domain errors raised by services; core.api maps them to HTTP.

Each carries a message a person can act on and a stable machine `code`,
and, where a page words the refusal its own way (`web.refusals`), the
values the message names as `params` (typed: dates, datetimes, names).
"""

from collections.abc import Mapping


class DomainError(Exception):
    """Base class. `status` is the HTTP status the API answers with."""

    status = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: list[dict[str, object]] | None = None,
        error_count: int | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        # Item-level problems (e.g. CSV lines), returned beside "detail".
        self.errors = errors or []
        # How many problems there were, when `errors` lists only the first.
        self.error_count = error_count
        # What the message names, for the pages to say in their own words.
        self.params: dict[str, object] = dict(params or {})


class InvalidInput(DomainError):
    """The request cannot be carried out as given (bad value, unknown kind)."""


class NotFound(DomainError):
    status = 404
    default_code = "not_found"


class Conflict(DomainError):
    """The current state of the data does not allow the change."""

    status = 409
    default_code = "conflict"
