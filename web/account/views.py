"""Signing in and out, and a person's own account: their password, and a
clinic admin's 2FA device.

- `/`: sends each role to its home; `/login/`, `/logout/` (POST only).
- `/account/password/`: anyone signed in changes their password, under the
  policy of AUTH_PASSWORD_VALIDATORS.
- `/account/two-factor/`: a clinic admin enrols a TOTP authenticator (a QR
  code and the key, then one code from the app to confirm it). Replacing an
  enrolled device needs a session that already passed a code.
- `/account/two-factor/verify/`: the step after the password, for a clinic
  admin with a device (web.middleware sends them here).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, cast

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from followup.access import Role, staff_of
from web import roles
from web.account.forms import CodeForm
from web.middleware import TWO_FACTOR_URL, VERIFY_URL
from web.roles import role_required, staff_required


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


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/account/password.html"
    success_url = reverse_lazy("account-password")
    extra_context = {"title": "Change your password"}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        view = cast("Callable[..., HttpResponse]", super().dispatch)
        return staff_required(view)(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "min_length": settings.PASSWORD_MIN_LENGTH,
        }

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


def _matched(form: CodeForm, match: Callable[[str], Device | None]) -> Device | None:
    """The device a posted code matches; otherwise the form says why not."""
    if not form.is_bound:
        return None
    device = match(form.cleaned_data["code"]) if form.is_valid() else None
    if device is None and not form.errors:
        form.add_error(
            "code", "That code is not right. Try the newest one, or wait a little."
        )
    return device


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


def _qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4)


@never_cache
@role_required(Role.ADMIN)
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    verified = user.is_verified()  # type: ignore[union-attr]
    if confirmed is not None and not verified:
        # Only a session that passed a code may replace the device.
        return HttpResponseRedirect(VERIFY_URL)
    replacing = request.method == "POST" and request.POST.get("start") == "1"
    if confirmed is not None and not replacing and "code" not in request.POST:
        return render(
            request,
            "web/account/two_factor.html",
            {"title": "Two-factor sign-in", "confirmed": confirmed},
        )
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if pending is None:
        pending = TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=False
        )
    form = CodeForm(request.POST if "code" in request.POST else None)
    if _matched(form, lambda code: pending if pending.verify_token(code) else None):
        with transaction.atomic():
            TOTPDevice.objects.filter(user=user).exclude(pk=pending.pk).delete()
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
        otp_login(request, pending)
        messages.success(request, "Two-factor sign-in is on for your account.")
        return HttpResponseRedirect(TWO_FACTOR_URL)
    return render(
        request,
        "web/account/two_factor_setup.html",
        {
            "title": "Set up two-factor sign-in",
            "form": form,
            "qr": _qr_svg(pending),
            "key": _base32(pending),
        },
        status=400 if form.errors else 200,
    )


def _base32(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed in: base32, unpadded."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


@never_cache
@role_required(Role.ADMIN)
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(_safe_next(request))
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return HttpResponseRedirect(TWO_FACTOR_URL)
    form = CodeForm(request.POST or None)
    device = _matched(form, lambda code: match_token(user, code))
    if device is not None:
        otp_login(request, device)
        return HttpResponseRedirect(_safe_next(request))
    return render(
        request,
        "web/account/verify.html",
        {"title": "Enter your code", "form": form, "next": _safe_next(request)},
        status=400 if form.errors else 200,
    )
