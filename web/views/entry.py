"""Signing in and out, and `/`, which sends each role to its home."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from followup.access import staff_of
from web import roles


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's own rule): a link or a prefetch cannot sign anyone out."""


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    url = roles.home_url(staff_of(request.user))
    if url is None:
        raise PermissionDenied(
            "Your account has no clinic role yet. Ask a clinic admin to add one."
        )
    return HttpResponseRedirect(url)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, object] | None = None,
) -> HttpResponse:
    """django-axes' answer to a locked-out login: a page a person can read."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = int(cooloff.total_seconds() // 60) if cooloff else None
    return render(
        request,
        "web/lockout.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": minutes,
            "address_locked": getattr(request, "login_address_locked", False),
            "address_limit": settings.LOGIN_FAILURES_PER_ADDRESS_HOUR,
        },
        status=429,
    )
