"""The pages' one translator of domain errors: a service's `NotFound` is the
404 page and `Forbidden` the 403 page, whatever view raised it; to htmx, a
`NotFound` is said in the live region and swaps nothing.

Views let those two pass; every other domain error is a refusal a person can
act on, which a view puts beside its form (`form.add_error(None, message)`).
The API has its own translator (`core.api.exception_handler`), and DRF
handles its views' exceptions before any middleware sees them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_htmx.http import reswap

from followup.access import Forbidden
from followup.exceptions import NotFound


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        # Raised here, Django answers them as any view's Http404 and
        # PermissionDenied: the site's 404 and 403 pages, logged once.
        if isinstance(exception, NotFound) and getattr(request, "htmx", False):
            return _announced(request, exception.message)
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        if isinstance(exception, Forbidden):
            raise PermissionDenied(exception.message) from exception
        return None


def _announced(request: HttpRequest, message: str) -> HttpResponse:
    """For htmx, what is missing is said in the live region, and the part
    of the page that asked is left as it was."""
    html = render_to_string(
        "web/_announce.html", {"text": message, "error": True}, request=request
    )
    return reswap(HttpResponse(html), "none")
