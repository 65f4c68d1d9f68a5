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
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

_DATABASE_SESSIONS = "django.contrib.sessions.backends.db"


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
