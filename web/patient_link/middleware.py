"""The patient's booking page skips the middleware that serves signed-in
staff (`core.fast_path`): it has no session, no sign-in and a form token of
its own. It keeps what every page a person opens needs: a NUL in its query
string is a 400 (in the patient's words, as private as the page), and it is
sent with the site's frame and content policies."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from core.fast_path import FastPathMiddleware
from web.middleware import NullQueryMiddleware
from web.patient_link import views
from web.patient_link.urls import page_patterns


class PatientNullQueryMiddleware(NullQueryMiddleware):
    """`NullQueryMiddleware` answered in the patient's words: the staff's
    400 page would be neither theirs nor private."""

    def refuse(self, request: HttpRequest) -> HttpResponse:
        return views.bad_address()


class PatientLinkFastPathMiddleware(FastPathMiddleware):
    patterns = page_patterns
    wrappers = (
        "web.patient_link.middleware.PatientNullQueryMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "csp.middleware.CSPMiddleware",
    )
