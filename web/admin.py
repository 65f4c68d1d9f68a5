"""The admin's screens that belong to the site itself: users, and what
guards sign-in (TOTP devices, the login history)."""

from web import admin_security, admin_users

__all__ = ["admin_security", "admin_users"]
