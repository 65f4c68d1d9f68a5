"""A form's action URL opened with GET (a reload of a refusal's page, the
back button, a bookmarked address bar): the thing it acts on, never an
empty 405.

A view under `post_or_show(shown_at)` takes its POST as before; a GET or
HEAD of its URL is redirected to `shown_at(request, *args, **kwargs)`, the
page that shows the thing (the visit, the patient's card, the links); any
other method is a 405 naming the two it takes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)

View = Callable[..., HttpResponse]


def post_or_show(shown_at: Callable[..., str]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                return HttpResponseRedirect(shown_at(request, *args, **kwargs))
            if request.method != "POST":
                return HttpResponseNotAllowed(["GET", "POST"])
            return view(request, *args, **kwargs)

        return answer

    return decorate
