"""Session rules for every request: the idle timeout, clinic admins' 2FA,
who the audit trail names, and query strings holding a NUL.

Idle timeout. The session keeps the time of the last request; one that comes
more than SESSION_IDLE_MINUTES later signs the session out before any view
runs. Chosen over SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST because
the limit is checked on the server against a time the server wrote (a
client that keeps an old cookie gains nothing), it needs no session write on
every htmx request (the time is refreshed at most every 5 minutes), and it
leaves SESSION_COOKIE_AGE to cap a session's whole life (SESSION_MAX_HOURS).

Two-factor. When ADMIN_TWO_FACTOR_REQUIRED is on, or the admin enrolled a
device anyway, a clinic admin whose session has not passed a TOTP code
reaches only the login, logout and two-factor pages: every other page goes
to the verification step (or enrolment, for an admin with no device yet),
and the API answers 403. API tokens are not sessions and are unaffected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.functional import SimpleLazyObject
from django_otp import user_has_device

from clinic.withdrawal import session_outlived_its_account
from core.addresses import client_address
from followup.access import Role, staff_of
from web.query_text import holds_null

LAST_ACTIVITY_KEY = "last_activity"
# How stale the stored time may get before it is written again. It spares a
# session write (three queries) on nearly every request; the cost is that a
# session may end up to this much sooner than the idle limit, never later.
TOUCH_SECONDS = 5 * 60

TWO_FACTOR_URL = "/account/two-factor/"
VERIFY_URL = "/account/two-factor/verify/"
# What an admin still to verify may open.
_OPEN_BEFORE_VERIFYING = ("/login/", "/logout/", TWO_FACTOR_URL, "/static/")


def start_activity_clock(
    sender: object, request: HttpRequest, **kwargs: object
) -> None:
    """On sign-in (user_logged_in): the idle time counts from now."""
    request.session[LAST_ACTIVITY_KEY] = time.time()


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def _now(self) -> float:
        return time.time()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = self._now()
            last = request.session.get(LAST_ACTIVITY_KEY)
            idle_limit = settings.SESSION_IDLE_MINUTES * 60
            if isinstance(last, int | float) and now - last > idle_limit:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {settings.SESSION_IDLE_MINUTES} "
                    "minutes without activity. Please log in again.",
                )
                if request.headers.get("HX-Request"):
                    # htmx would swap the login page into a row: reload instead.
                    login = f"{settings.LOGIN_URL}?{urlencode({'next': '/'})}"
                    return HttpResponse(status=204, headers={"HX-Redirect": login})
            elif not isinstance(last, int | float) or now - last >= TOUCH_SECONDS:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class CredentialsEpochMiddleware:
    """Signs out a session begun before its account was last deactivated,
    however that was done (clinic.withdrawal): the person signs in again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if session_outlived_its_account(request):
            logout(request)
            if request.headers.get("HX-Request"):
                login = f"{settings.LOGIN_URL}?{urlencode({'next': '/'})}"
                return HttpResponse(status=204, headers={"HX-Redirect": login})
        return self.get_response(request)


def two_factor_pending(request: HttpRequest) -> bool:
    """Whether this is a clinic admin's session that must still pass a code."""
    user = request.user
    if not user.is_authenticated or Role.ADMIN not in staff_of(user).roles:
        return False
    if user.is_verified():  # type: ignore[attr-defined]
        return False
    return settings.ADMIN_TWO_FACTOR_REQUIRED or user_has_device(user)


class AdminTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(_OPEN_BEFORE_VERIFYING) or not two_factor_pending(
            request
        ):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "detail": "Verify your two-factor code at "
                    f"{VERIFY_URL} before using the API.",
                    "code": "two_factor_required",
                },
                status=403,
            )
        target = VERIFY_URL if user_has_device(request.user) else TWO_FACTOR_URL
        query = urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(f"{target}?{query}")


class AuditMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with two corrections for this service.

    - The actor is read when an entry is written, not when the request
      starts: the API authenticates tokens inside the view (DRF sets
      `request.user` then), so an API token's user is named too.
    - The address is the one the throttles trust (REMOTE_ADDR, or
      X-Forwarded-For only through TRUSTED_PROXIES proxies), never a header
      any client can forge.
    """

    def get_extra_data(self, request: HttpRequest) -> dict[str, object]:
        data = super().get_extra_data(request)
        data["actor"] = SimpleLazyObject(lambda: self._get_actor(request))
        return data

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_address(request) or None


class NullQueryMiddleware:
    """A page's query string holding a NUL is a 400 before any view reads it.

    PostgreSQL refuses text holding a NUL, so a search, a filter or a
    return address with one would fail in the query (a 500). No link of ours
    makes one: it is refused whole, the admin's pages included. The API
    reads its parameters through serializers, which refuse it field by field
    in the API's own error shape, so /api/ is left to them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and holds_null(request.GET):
            raise BadRequest("The address holds a null character.")
        return self.get_response(request)
