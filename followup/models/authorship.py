"""Who wrote a history row: the username is kept beside the account, so the
row still names its author once a superuser deletes the account."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def username_of(actor: AbstractBaseUser | None) -> str:
    """The name a history row keeps of its author ("" for the system)."""
    return "" if actor is None else actor.get_username()


def actor_name_of(kept: str, actor: AbstractBaseUser | None) -> str | None:
    """A history row's author: the name `kept` at write time, which outlives
    the account; the account's own for a row written before names were kept;
    None for the system."""
    if kept:
        return kept
    return None if actor is None else actor.get_username()
