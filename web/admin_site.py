"""The admin site: for clinic admins only, whatever `is_staff` says.

Who enters is decided by the `clinic_admin` group (or superuser), read
through `followup.access.staff_of`, as every other page decides roles. A
surgeon or clerk whose "staff status" was ticked by mistake gets a 403, and
a clinic admin needs no tick. Logging in happens at /login/ (throttled by
django-axes), never on a second login form.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from followup.access import Role, staff_of

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class ClinicAdminSite(admin.AdminSite):
    site_header = "Clinic follow-up: admin"
    site_title = "Clinic follow-up admin"
    index_title = "Rules, people and calendars"
    site_url = "/"
    # The lists are wide (visits: patient, rule, status, dates, surgeon); the
    # app index is one click away in the header.
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and Role.ADMIN in staff_of(user).roles

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not self.has_permission(request):
                raise PermissionDenied("The admin is for clinic admins only.")
            return inner(request, *args, **kwargs)

        return cast("_View", guarded)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """/admin/login/ hands over to the one login page, /login/."""
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}
        ):
            target = ""
        target = target or reverse("admin:index")
        if request.user.is_authenticated:
            if not self.has_permission(request):
                raise PermissionDenied("The admin is for clinic admins only.")
            return HttpResponseRedirect(target)
        return redirect_to_login(target)
