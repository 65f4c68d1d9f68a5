"""The schedule, edited by clinic admins; messages and opt-outs, read-only.

Editing a template changes no message already written: each message keeps
the text rendered when it was written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin

from clinic import clock
from followup.admin.read_only import ReadOnlyAdmin
from followup.admin.seen import SeenModelForm
from messaging import schedule
from messaging.models import Message, MessageTemplate, SmsOptOut

MAX_OFFSET_DAYS = 90


class MessageTemplateForm(SeenModelForm):
    class Meta:
        model = MessageTemplate
        fields = [
            "kind",
            "channel",
            "active",
            "offset_days",
            "send_time",
            "subject",
            "text",
        ]

    def clean_offset_days(self) -> int:
        days = int(self.cleaned_data["offset_days"])
        if abs(days) > MAX_OFFSET_DAYS:
            raise forms.ValidationError(
                f"Give at most {MAX_OFFSET_DAYS} days before or after the anchor."
            )
        return days

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("subject", "text"):
            error = schedule.template_error(str(cleaned.get(name) or ""))
            if error:
                self.add_error(name, error)
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin[MessageTemplate]):
    form = MessageTemplateForm
    list_display = ["kind", "channel", "active", "offset_days", "send_time"]
    list_filter = ["active", "channel"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin, admin.ModelAdmin[Message]):
    list_display = [
        "id",
        "kind",
        "channel",
        "direction",
        "status",
        "scheduled_for",
        "goes_at",
        "sent_at",
        "visit",
    ]
    list_filter = ["status", "kind", "channel", "direction"]
    list_select_related = ["visit__rule"]
    raw_id_fields = ["visit", "patient"]

    @admin.display(description="goes at")
    def goes_at(self, message: Message) -> dt.datetime | None:
        """Queued: when the sender will send it (quiet hours hold one due
        at night to the morning)."""
        return schedule.goes_at(message, clock.now())


@admin.register(SmsOptOut)
class SmsOptOutAdmin(ReadOnlyAdmin, admin.ModelAdmin[SmsOptOut]):
    """Numbers that replied STOP: only the patient's START lifts one."""

    list_display = ["phone", "at"]
    search_fields = ["phone"]
    raw_id_fields = ["message"]
