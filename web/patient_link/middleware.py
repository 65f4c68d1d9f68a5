"""The patient's booking page skips the middleware that serves signed-in
staff (`core.fast_path`): it has no session, no sign-in and a form token of
its own. It keeps what every page a person opens needs: a NUL in its query
string is a 400 (`web.middleware.NullQueryMiddleware`), and it is sent with
the site's frame and content policies. Such a 400, and one for a request
Django itself refuses to read, is in the patient's words and as private as
the page (`PatientBadRequestMiddleware`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from core.fast_path import FastPathMiddleware
from web.patient_link import views
from web.patient_link.urls import page_patterns


class PatientBadRequestMiddleware:
    """A bad request is the patient's 400, as private as the page: a NUL in
    the address (`NullQueryMiddleware`), or a request Django refuses to read
    (more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS in its address or form,
    a body past DATA_UPLOAD_MAX_MEMORY_SIZE, a form it cannot parse).
    Django's own answer would be the staff's 400 page, with its scripts and
    a CSRF cookie, and no `no-store`. Django logs a suspicious request on
    `django.security`; so does this, by its name only (the path is the
    secret)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except SuspiciousOperation as exc:
            name = f"django.security.{exc.__class__.__name__}"
            logging.getLogger(name).error(str(exc))
        except (BadRequest, MultiPartParserError):
            pass
        return views.bad_address()


class PatientLinkFastPathMiddleware(FastPathMiddleware):
    patterns = page_patterns
    # The policies outermost: the guards' 400s are sent under them too.
    wrappers = (
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "csp.middleware.CSPMiddleware",
        "web.patient_link.middleware.PatientBadRequestMiddleware",
        "web.middleware.NullQueryMiddleware",
    )
