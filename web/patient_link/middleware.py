"""The patient's booking page skips the middleware that serves signed-in
staff (`core.fast_path`): it has no session, no sign-in and a form token of
its own. It keeps what every page a person opens needs: a NUL in its query
string is a 400, and it is sent with the site's frame and content policies."""

from __future__ import annotations

from core.fast_path import FastPathMiddleware
from web.patient_link.urls import page_patterns


class PatientLinkFastPathMiddleware(FastPathMiddleware):
    patterns = page_patterns
    wrappers = (
        "web.middleware.NullQueryMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "csp.middleware.CSPMiddleware",
    )
