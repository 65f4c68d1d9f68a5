"""Admin for calendars: each visit's export state, and surgeons' CalDAV calendars.

A CalDAV password is write-only here: the form never renders the stored
value, the list never shows it, and an empty field keeps it. Credentials in
the URL itself are refused, so they cannot leak through the URL column.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from feeds.models import CalendarEntry, SurgeonCalendar
from feeds.tasks import schedule_export
from followup.models import Visit


@admin.register(CalendarEntry)
class CalendarEntryAdmin(admin.ModelAdmin[CalendarEntry]):
    """Read-only: the export task writes these; "re-send" asks for it again."""

    list_display = [
        "visit",
        "export_state",
        "export_attempts",
        "pending_since",
        "exported_sequence",
        "exported_at",
        "short_error",
    ]
    list_filter = ["export_state"]
    search_fields = ["visit__id", "visit__procedure__patient__record_number"]
    list_select_related = ["visit__rule"]
    readonly_fields = fields = (
        "visit",
        "export_state",
        "export_attempts",
        "export_error",
        "pending_since",
        "exported_sequence",
        "exported_at",
        "rendered_sequence",
        "rendered_from",
        "body",
    )
    actions = ["resend"]

    @admin.display(description="error")
    def short_error(self, entry: CalendarEntry) -> str:
        error = entry.export_error
        return error if len(error) <= 120 else f"{error[:117]}..."

    @admin.action(description="Re-send to the CalDAV calendar")
    def resend(self, request: HttpRequest, queryset: QuerySet[CalendarEntry]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        # The attempt count starts over: this is a person's decision.
        with transaction.atomic():
            schedule_export(ids, now=timezone.now())
        self.message_user(
            request, f"{len(ids)} visit(s) will be sent again.", messages.SUCCESS
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: CalendarEntry | None = None
    ) -> bool:
        # Viewing needs "view"; the action needs "change" (Django checks it).
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(
        self, request: HttpRequest, obj: CalendarEntry | None = None
    ) -> bool:
        return False


class SurgeonCalendarForm(forms.ModelForm[SurgeonCalendar]):
    url = forms.URLField(
        assume_scheme="https",
        max_length=200,
        help_text="The calendar collection's URL, without user name or password.",
    )
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only: never shown. Leave empty to keep the stored one.",
    )
    clear_password = forms.BooleanField(
        required=False, help_text="Remove the stored password."
    )

    class Meta:
        model = SurgeonCalendar
        fields = ["surgeon", "url", "username", "password", "enabled"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        parts = urlsplit(url)
        if parts.username or parts.password or "@" in parts.netloc:
            raise forms.ValidationError(
                "Put the user name and password in their own fields, not in the URL."
            )
        return url

    def save(self, commit: bool = True) -> SurgeonCalendar:
        calendar = super().save(commit=False)
        new_password = self.cleaned_data.get("password") or ""
        if self.cleaned_data.get("clear_password"):
            calendar.password = ""
        elif new_password:
            calendar.password = new_password
        elif self.instance.pk:
            calendar.password = (
                SurgeonCalendar.objects.filter(pk=self.instance.pk)
                .values_list("password", flat=True)
                .get()
            )
        if commit:
            calendar.save()
        return calendar


@admin.register(SurgeonCalendar)
class SurgeonCalendarAdmin(admin.ModelAdmin[SurgeonCalendar]):
    form = SurgeonCalendarForm
    list_display = ["surgeon", "url", "username", "enabled", "has_password"]
    list_filter = ["enabled"]
    list_select_related = ["surgeon"]
    actions = ["export_all_visits"]

    def get_fields(
        self, request: HttpRequest, obj: SurgeonCalendar | None = None
    ) -> list[Any]:
        fields: list[Any] = ["surgeon", "url", "username", "password", "enabled"]
        if obj is not None:
            fields.insert(4, "clear_password")
        return fields

    @admin.display(boolean=True, description="password set")
    def has_password(self, calendar: SurgeonCalendar) -> bool:
        return bool(calendar.password)

    @admin.action(description="Export all of these surgeons' visits now")
    def export_all_visits(
        self, request: HttpRequest, queryset: QuerySet[SurgeonCalendar]
    ) -> None:
        surgeon_ids = list(queryset.values_list("surgeon_id", flat=True))
        ids = list(
            Visit.objects.filter(
                Q(surgeon_id__in=surgeon_ids)
                | Q(surgeon=None, procedure__surgeon_id__in=surgeon_ids)
            ).values_list("pk", flat=True)
        )
        with transaction.atomic():
            schedule_export(ids, now=timezone.now())
        self.message_user(
            request, f"{len(ids)} visit(s) will be exported.", messages.SUCCESS
        )

