"""Feed polls skip the middleware that serves people, not calendars.

A calendar client polls with no cookie, no form and no page to frame, yet
every poll went through the session, CSRF, authentication, messages, idle
timeout, two-factor, audit, htmx, CSP and django-axes middleware: together
they cost a poll more than its one database round trip. Placed right after
WhiteNoise, as WhiteNoise does for static files, this answers the URLs in
`FAST_PATTERNS` (the feed's) at once. What still wraps it: the request id
(logs) and SecurityMiddleware (HSTS, nosniff, referrer policy), and Django's
exception handling, so a database outage is still a 503.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern

from feeds.urls import feed_pattern

# Views that read nothing of a session or a signed-in user.
FAST_PATTERNS: list[URLPattern] = [feed_pattern]


class FeedFastPathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info[1:]
        for pattern in FAST_PATTERNS:
            match = pattern.resolve(path)
            if match is not None:
                request.resolver_match = match
                response: HttpResponse = match.func(
                    request, *match.args, **match.kwargs
                )
                return response
        return self.get_response(request)
