"""The domain errors the follow-up services raise (`core.errors`), where
the apps and the pages import them from."""

from core.errors import Conflict, DomainError, InvalidInput, NotFound

__all__ = ["Conflict", "DomainError", "InvalidInput", "NotFound"]
