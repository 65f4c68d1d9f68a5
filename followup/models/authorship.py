"""Who wrote a history row: the username is kept beside the account, so the
row still names its author once a superuser deletes the account.

An author who has no account (the patient, through their booking link or a
text reply) is a `NamedActor`: the services take it where they take a user,
it holds no permission, and the row keeps its name with no account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, User


@dataclass(frozen=True)
class NamedActor:
    """An author without an account, named in the history as `name`."""

    name: str

    def get_username(self) -> str:
        return self.name

    def has_perm(self, perm: str) -> bool:
        return False


# The patient, booking through their link (`booking_links`) or by a reply
# to a text (`messaging`).
PATIENT_LINK = NamedActor("patient (link)")
PATIENT_SMS = NamedActor("patient (SMS)")


def username_of(actor: AbstractBaseUser | NamedActor | None) -> str:
    """The name a history row keeps of its author ("" for the system)."""
    return "" if actor is None else actor.get_username()


def account_of(actor: User | NamedActor | None) -> User | None:
    """The account a row links to: none for the system or a `NamedActor`."""
    return None if isinstance(actor, NamedActor) else actor


def actor_name_of(kept: str, actor: AbstractBaseUser | None) -> str | None:
    """A history row's author: the name `kept` at write time, which outlives
    the account; the account's own for a row written before names were kept;
    None for the system."""
    if kept:
        return kept
    return None if actor is None else actor.get_username()
