"""Login lockouts: django-axes' per username-and-address limit, plus a limit
per address across usernames.

Axes locks a (username, address) pair after LOGIN_FAILURE_LIMIT wrong
passwords. A password sprayer tries a few passwords on each of many
accounts and never reaches that; so an address is also locked once it has
LOGIN_FAILURES_PER_ADDRESS_HOUR failures, whatever the usernames, within an
hour. Those failures are read from axes' own failure log (AccessFailureLog),
which the clinic admin can also read; `manage.py axes_reset_ip ADDRESS`
unlocks an address sooner by clearing its failures of that hour.
"""

import datetime as dt
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessFailureLog
from django.conf import settings
from django.utils import timezone

ADDRESS_WINDOW = dt.timedelta(hours=1)


def address_failures(ip_address: str | None, *, now: dt.datetime) -> int:
    """Failed logins from this address, for any username, in the last hour."""
    if not ip_address:
        return 0
    return AccessFailureLog.objects.filter(
        ip_address=ip_address, attempt_time__gt=now - ADDRESS_WINDOW
    ).count()


def _address_spent(request: Any) -> bool:
    limit: int = settings.LOGIN_FAILURES_PER_ADDRESS_HOUR
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    ip = getattr(request, "axes_ip_address", None)
    spent = address_failures(ip, now=now) >= limit
    if spent:
        # The lockout page says which limit was reached.
        request.login_address_locked = True
    return spent


class LoginLimitsHandler(AxesDatabaseHandler):
    """Axes' database handler, with the per-address limit on top."""

    def is_locked(
        self, request: Any, credentials: dict[str, Any] | None = None
    ) -> bool:
        return super().is_locked(request, credentials) or _address_spent(request)

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        count = super().reset_attempts(
            ip_address=ip_address, username=username, ip_or_username=ip_or_username
        )
        if ip_address and (ip_or_username or not username):
            AccessFailureLog.objects.filter(
                ip_address=ip_address,
                attempt_time__gt=timezone.now() - ADDRESS_WINDOW,
            ).delete()
        return count

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: Any = None,
        **kwargs: Any,
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if _address_spent(request):
            # This failure reached the limit: answer it with the lockout page.
            request.axes_locked_out = True
            request.axes_credentials = credentials
