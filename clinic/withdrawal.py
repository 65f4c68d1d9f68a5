"""A deactivated account's sessions and API tokens end with it.

Django refuses an inactive user's session and knox an inactive user's
token, but only while the account stays inactive: an admin who reactivated
it (a clerk back from leave, an account switched off by mistake) would bring
back every session cookie and token it held, on whatever machine they were
left. So deactivating deletes them, and the person signs in afresh.

Sessions are found by decoding each unexpired one: the database session
store keeps no index by user, and a clinic has a few hundred at most. With
another SESSION_ENGINE they cannot be listed; the inactive check still
refuses them while the account is off.

A deactivation that sends no signal (a bulk `update()`, raw SQL) is caught
by the database: a trigger counts it in
`CredentialsEpoch` and deletes the tokens. Each session keeps the count it
signed in under (`remember_epoch`), and `web.middleware` ends a session whose
count moved on. The count is read with the user, in the same query
(`UserBackend`), so checking it costs a request nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from clinic.models import CredentialsEpoch

_DATABASE_SESSIONS = "django.contrib.sessions.backends.db"
EPOCH_SESSION_KEY = "credentials_epoch"


def epoch_of(user: User) -> int:
    """How many times the account was deactivated (0: never)."""
    try:
        return user.credentials_epoch.epoch  # type: ignore[attr-defined, no-any-return]
    except CredentialsEpoch.DoesNotExist:
        return 0


def remember_epoch(
    sender: object, request: HttpRequest, user: User, **kwargs: object
) -> None:
    """On sign-in (user_logged_in): the session lives under today's count."""
    request.session[EPOCH_SESSION_KEY] = epoch_of(user)


def session_outlived_its_account(request: HttpRequest) -> bool:
    """Whether the signed-in account was deactivated since this session
    began (and, being signed in still, reactivated)."""
    user = request.user
    if not user.is_authenticated:
        return False
    return bool(request.session.get(EPOCH_SESSION_KEY, 0) != epoch_of(user))


class UserBackend(ModelBackend):
    """Django's, reading a session's user with their deactivation count."""

    def get_user(self, user_id: Any) -> User | None:
        user = (
            User._default_manager.select_related("credentials_epoch")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


def end_credentials(user_id: int) -> None:
    """Delete every API token and every database session of this user."""
    AuthToken.objects.filter(user_id=user_id).delete()
    if settings.SESSION_ENGINE != _DATABASE_SESSIONS:
        return
    theirs = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user_id)
    ]
    Session.objects.filter(pk__in=theirs).delete()


def on_user_saved(
    sender: type[User],
    instance: User,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    """post_save of User: a save that leaves the account inactive."""
    if instance.is_active or (update_fields and "is_active" not in update_fields):
        return
    user_id = instance.pk
    transaction.on_commit(lambda: end_credentials(user_id))
