"""Requests answered ahead of the middleware that serves signed-in staff.

A calendar poll or a patient's booking link carries no session cookie and
no staff form, yet each went through the session, CSRF, authentication,
messages, idle-timeout, two-factor, audit, htmx and django-axes middleware:
together they cost such a request more than its own database round trip.
Placed right after WhiteNoise (which answers static files the same way), a
`FastPathMiddleware` answers the URLs of its `patterns` at once, through
only the middleware its `wrappers` name (outermost first). What still wraps
every request: the request id (logs), SecurityMiddleware (HSTS, nosniff,
referrer policy) and Django's exception handling, so a database outage is
still a 503.

A view served here must read nothing of a session or a signed-in user:
`request.user` does not exist on it. Its wrappers are called as plain
callables: a middleware's `process_view` and `process_exception` hooks never
run here (so `web.errors.DomainErrorMiddleware` would do nothing; such a
view answers its own refusals).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils.module_loading import import_string

Handler = Callable[[HttpRequest], HttpResponse]


class FastPathMiddleware:
    patterns: ClassVar[list[URLPattern]] = []
    wrappers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        handler: Handler = _matched_view
        for name in reversed(self.wrappers):
            handler = import_string(name)(handler)
        self.answer = handler

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info[1:]
        for pattern in self.patterns:
            match = pattern.resolve(path)
            if match is not None:
                request.resolver_match = match
                return self.answer(request)
        return self.get_response(request)


def _matched_view(request: HttpRequest) -> HttpResponse:
    match = request.resolver_match
    assert match is not None  # noqa: S101 - set by FastPathMiddleware
    response: HttpResponse = match.func(request, *match.args, **match.kwargs)
    return response
