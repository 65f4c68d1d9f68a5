"""The patient's booking page skips the middleware that serves signed-in
staff (`core.fast_path`): it has no session, no sign-in and a form token of
its own. It keeps what every page a person opens needs: a NUL in its query
string is a 400 (in the patient's words, as private as the page), and it is
sent with the site's frame and content policies."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from core.fast_path import FastPathMiddleware, Handler
from web.patient_link import views
from web.patient_link.urls import page_patterns
from web.query_text import holds_null


class PatientNullQueryMiddleware:
    """`web.middleware.NullQueryMiddleware` for the patient's pages: the
    staff's 400 page would be neither theirs nor private."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if holds_null(request.GET):
            return views.bad_address()
        return self.get_response(request)


class PatientLinkFastPathMiddleware(FastPathMiddleware):
    patterns = page_patterns
    wrappers = (
        "web.patient_link.middleware.PatientNullQueryMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "csp.middleware.CSPMiddleware",
    )
