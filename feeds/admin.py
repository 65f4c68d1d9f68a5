"""Admin for calendars: each visit's export state, and surgeons' CalDAV calendars.

A CalDAV password is write-only here: the form never renders the stored
value, the list never shows it, and an empty field keeps it. Credentials in
the URL itself are refused, so they cannot leak through the URL column.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from feeds import links
from feeds.caldav import client as caldav_client
from feeds.caldav import push as caldav_push
from feeds.export import schedule_export
from feeds.models import CalendarEntry, CalendarLink, SurgeonCalendar
from followup.exceptions import DomainError


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
        # Long enough for the whole sentence of a failure, what to do included.
        return error if len(error) <= 300 else f"{error[:297]}..."

    @admin.action(description="Re-send to the CalDAV calendar", permissions=["change"])
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
    actions = ["test_connection", "export_all_visits"]

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

    def save_model(
        self,
        request: HttpRequest,
        obj: SurgeonCalendar,
        form: forms.ModelForm[SurgeonCalendar],
        change: bool,
    ) -> None:
        had_password = bool(obj.password)
        super().save_model(request, obj, form, change)
        if change and had_password and not obj.password:
            self.message_user(
                request,
                "The calendar moved to another server, so its stored password "
                "was removed rather than sent there: enter it again.",
                messages.WARNING,
            )

    @admin.action(
        description="Test connection (URL and credentials; sends nothing)",
        permissions=["change"],
    )
    def test_connection(
        self, request: HttpRequest, queryset: QuerySet[SurgeonCalendar]
    ) -> None:
        for calendar in queryset.select_related("surgeon"):
            try:
                caldav_client.check_calendar(caldav_client.CalendarTarget.of(calendar))
            except caldav_client.CalDAVError as exc:
                self.message_user(request, f"{calendar}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{calendar}: connected; the calendar collection exists and "
                "the credentials were accepted.",
                messages.SUCCESS,
            )

    @admin.action(
        description="Export all of these surgeons' visits now", permissions=["change"]
    )
    def export_all_visits(
        self, request: HttpRequest, queryset: QuerySet[SurgeonCalendar]
    ) -> None:
        # Only what will really be sent: the booked visits of enabled
        # calendars. Visits still to book have nothing to push, and a visit
        # that left a calendar was deleted from it by its own export.
        disabled = queryset.filter(enabled=False).count()
        surgeon_ids = list(
            queryset.filter(enabled=True).values_list("surgeon_id", flat=True)
        )
        ids = caldav_push.slot_holding_visit_ids(surgeon_ids)
        with transaction.atomic():
            schedule_export(ids, now=timezone.now())
        self.message_user(
            request,
            f"{len(ids)} booked visit(s) will be sent to the CalDAV calendar.",
            messages.SUCCESS,
        )
        if disabled:
            self.message_user(
                request,
                f"{disabled} disabled calendar(s) skipped: enable them first.",
                messages.WARNING,
            )


class CalendarLinkForm(forms.ModelForm[CalendarLink]):
    class Meta:
        model = CalendarLink
        fields = ["scope", "surgeon", "patient"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        surgeon, patient = data.get("surgeon"), data.get("patient")
        try:
            scope = str(data.get("scope", ""))
            surgeon_id = surgeon.pk if surgeon else None
            patient_id = patient.pk if patient else None
            links.validate_owner(
                scope=scope, surgeon_id=surgeon_id, patient_id=patient_id
            )
            links.check_room(scope=scope, surgeon_id=surgeon_id, patient_id=patient_id)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return data


@admin.register(CalendarLink)
class CalendarLinkAdmin(admin.ModelAdmin[CalendarLink]):
    """Links are created, rotated and revoked here; a token is shown once."""

    form = CalendarLinkForm
    list_display = [
        "id",
        "scope",
        "surgeon",
        "patient",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["surgeon", "patient", "created_by"]
    search_fields = ["patient__record_number", "surgeon__family_name"]
    raw_id_fields = ["patient"]
    actions = ["rotate", "revoke"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: CalendarLink | None = None
    ) -> list[str]:
        if obj is None:
            return []
        return [
            "scope",
            "surgeon",
            "patient",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_fields(
        self, request: HttpRequest, obj: CalendarLink | None = None
    ) -> list[Any]:
        if obj is None:
            return ["scope", "surgeon", "patient"]
        return self.get_readonly_fields(request, obj)

    def _show_url(self, request: HttpRequest, issued: links.IssuedLink) -> None:
        url = request.build_absolute_uri(issued.path)
        self.message_user(
            request,
            f"Calendar link {issued.link.pk}: {url} (shown once; copy it now).",
            messages.WARNING,
        )

    def save_model(
        self, request: HttpRequest, obj: CalendarLink, form: Any, change: bool
    ) -> None:
        if change:
            return  # nothing of a link is edited; rotate or revoke instead
        # The form validated the owner; the token is made only by the service.
        issued = links.create_link(
            scope=obj.scope,
            surgeon_id=obj.surgeon_id,
            patient_id=obj.patient_id,
            actor=request.user,  # type: ignore[arg-type]
        )
        obj.pk = issued.link.pk
        obj.token_hash = issued.link.token_hash
        obj.created_at = issued.link.created_at
        self._show_url(request, issued)

    # A view-only staff user must not mint a working feed URL.
    @admin.action(
        description="Rotate: give a new URL (the old one stops working)",
        permissions=["change"],
    )
    def rotate(self, request: HttpRequest, queryset: QuerySet[CalendarLink]) -> None:
        for link in queryset.filter(revoked_at=None):
            self._show_url(
                request,
                links.rotate_link(
                    link_id=link.pk, actor=request.user, now=timezone.now()
                ),
            )

    @admin.action(description="Revoke: the URL stops working", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[CalendarLink]) -> None:
        ids = list(queryset.filter(revoked_at=None).values_list("pk", flat=True))
        for link_id in ids:
            links.revoke_link(link_id=link_id, now=timezone.now(), actor=request.user)
        self.message_user(request, f"{len(ids)} link(s) revoked.", messages.SUCCESS)

    def has_delete_permission(
        self, request: HttpRequest, obj: CalendarLink | None = None
    ) -> bool:
        # A revoked link stays as the record of who had access.
        return False
