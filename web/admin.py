"""The admin's screens that belong to the site itself: users."""

from web import admin_users

__all__ = ["admin_users"]
