"""The schedule, edited by clinic admins; messages, read-only.

Editing a template changes no message already written: each message keeps
the text rendered when it was written.
"""

from __future__ import annotations

from django.contrib import admin

from followup.admin.read_only import ReadOnlyAdmin
from messaging.models import Message, MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin[MessageTemplate]):
    list_display = ["kind", "channel", "active", "offset_days", "send_time"]
    list_filter = ["active", "channel"]
    fields = [
        "kind",
        "channel",
        "active",
        "offset_days",
        "send_time",
        "subject",
        "text",
    ]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin, admin.ModelAdmin[Message]):
    list_display = [
        "id",
        "kind",
        "channel",
        "direction",
        "status",
        "scheduled_for",
        "sent_at",
        "visit",
    ]
    list_filter = ["status", "kind", "channel", "direction"]
    list_select_related = ["visit__rule"]
    raw_id_fields = ["visit", "patient"]
