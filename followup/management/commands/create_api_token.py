"""`manage.py create_api_token USERNAME [--days N]`: an API token, shown once.

The token goes to standard output alone (for a script to capture); only its
SHA-512 digest is stored, so it cannot be shown again: create another one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from knox.models import AuthToken

from clinic.staff import staff_of


class Command(BaseCommand):
    help = (
        "Create an API token for an active user with a clinic role and print "
        "it once. Send it as 'Authorization: Token <key>'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days",
            type=int,
            default=settings.API_TOKEN_DAYS,
            help=(
                f"days until it expires (default {settings.API_TOKEN_DAYS}, "
                f"at most {settings.API_TOKEN_MAX_DAYS})"
            ),
        )

    def handle(self, *args: Any, username: str, days: int, **options: Any) -> None:
        if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
            raise CommandError(
                f"--days must be from 1 to {settings.API_TOKEN_MAX_DAYS}."
            )
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(f"There is no active user {username!r}.")
        if not staff_of(user).is_staff:
            raise CommandError(
                f"{username} holds no clinic role (front_desk, surgeon, "
                "clinic_admin), so every API call with the token would be refused."
            )
        token: AuthToken
        token, key = AuthToken.objects.create(user=user, expiry=dt.timedelta(days=days))
        self.stdout.write(key)
        self.stderr.write(
            f"API token for {username}, valid until "
            f"{token.expiry:%Y-%m-%d %H:%M %Z}. It is shown only now; revoke it "
            "in /admin/ (Knox, Auth tokens)."
        )
