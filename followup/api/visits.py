"""Visits and their commands.

Each command is an input serializer, one typed service call and the visit's
JSON. Who may do what lives in `followup.access`; these views only ask it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import django_filters
from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import clock
from clinic.models import PatientReadKind
from clinic.staff import staff_of
from core import api
from followup import services
from followup.access import access_visit
from followup.api.base import READERS, IdFilter, actor, read_input, record_read
from followup.api.serializers import (
    BookingSerializer,
    CancelVisitSerializer,
    ContactAttemptInputSerializer,
    ContactAttemptSerializer,
    ReopenVisitSerializer,
    SequenceSerializer,
    SlotListSerializer,
    SlotQuerySerializer,
    UnbookSerializer,
    VisitEventSerializer,
    VisitSerializer,
)
from followup.models import Visit, VisitQuerySet, VisitStatus

TAG = ["visits"]


def visit_queryset() -> VisitQuerySet:
    """Everything a visit's JSON reads, in the one query."""
    return Visit.objects.with_api_relations()


class VisitFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=VisitStatus.choices)
    rule = django_filters.CharFilter(field_name="rule__code", help_text="Rule code.")
    surgeon = IdFilter(
        field_name="surgeon_id", help_text="The surgeon who sees the patient."
    )
    patient = IdFilter(field_name="patient_id")
    due_from = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_to = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        help_text="Window closed (before today) while still to book or no-show.",
    )
    requires_mri = django_filters.BooleanFilter()

    class Meta:
        model = Visit
        fields: ClassVar[list[str]] = []

    def filter_overdue(
        self, queryset: QuerySet[Visit], name: str, value: bool | None
    ) -> QuerySet[Visit]:
        if value is None:
            return queryset
        overdue = Visit.objects.overdue(clock.today()).values("pk")
        if value:
            return queryset.filter(pk__in=overdue)
        return queryset.exclude(pk__in=overdue)


@extend_schema(
    tags=TAG,
    summary="List visits (the worklist)",
    responses={200: VisitSerializer(many=True), **api.error_responses(400, 404)},
)
class VisitList(generics.ListAPIView[Visit]):
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    roles = {"GET": READERS}

    def get_queryset(self) -> QuerySet[Visit]:
        return visit_queryset().visible_to(staff_of(self.request.user))


class VisitDetail(APIView):
    @extend_schema(
        tags=TAG,
        summary="Read a visit",
        responses={200: VisitSerializer, **api.error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        visit = access_visit(request.user, pk, action="read", queryset=visit_queryset())
        return Response(VisitSerializer(visit).data)


class VisitEvents(APIView):
    @extend_schema(
        tags=TAG,
        summary="A visit's history",
        responses={200: VisitEventSerializer(many=True), **api.error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        visit = access_visit(request.user, pk, action="read")
        events = visit.events.select_related("actor").order_by("id")
        return Response(VisitEventSerializer(events, many=True).data)


class VisitContactAttempts(APIView):
    """Tries to reach the patient about a visit, and what came of them."""

    # POST is the front desk's, checked by access_visit after scoping, so
    # another surgeon's visit is a 404 rather than a 403.
    roles = {"GET": READERS}

    @extend_schema(
        tags=TAG,
        summary="A visit's contact attempts, oldest first",
        description="Staff who can see the visit (a surgeon: their own "
        "patients'). Notes are staff-only: never in a feed.",
        responses={
            200: ContactAttemptSerializer(many=True),
            **api.error_responses(404),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        visit = access_visit(request.user, pk, action="read")
        attempts = list(visit.contact_attempts.select_related("actor").order_by("id"))
        # Notes about reaching the patient: recorded like any read of many rows.
        record_read(
            request,
            kind=PatientReadKind.API_CONTACT_ATTEMPTS,
            patient_ids=[visit.patient_id],
            count=len(attempts),
        )
        return Response(ContactAttemptSerializer(attempts, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="Record a contact attempt and apply its outcome",
        description=(
            "Front desk and clinic admins. `no_answer`, `left_message` and "
            "`wrong_number` reached nobody: after FOLLOWUP_MAX_FAILED_ATTEMPTS "
            "of them in a row (default 3) the visit is unreachable. "
            "`call_back_later` needs `call_back_on` (after today): the visit "
            "leaves the call list until that date. `declined` cancels the "
            "visit; `moved_away` and `deceased` cancel every open visit of the "
            "patient and end the annual-review programme. Answers the attempt."
        ),
        request=ContactAttemptInputSerializer,
        responses={
            201: ContactAttemptSerializer,
            **api.error_responses(400, 404, 409),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        access_visit(request.user, pk, action="contact")
        data = read_input(request, ContactAttemptInputSerializer)
        attempt = services.record_contact_attempt(
            visit_id=pk,
            channel=data["channel"],
            outcome=data["outcome"],
            note=data["note"],
            call_back_on=data["call_back_on"],
            actor=actor(request),
            now=clock.now(),
        )
        return Response(
            ContactAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED
        )


class VisitSlots(APIView):
    @extend_schema(
        tags=TAG,
        summary="Next free slots in the visit's window (late ones when overdue)",
        description=(
            "Inside the window; for an overdue visit (window closed, still to "
            "book or a no-show) the earliest free slots from now over the next "
            "30 days, each `late: true`, which the front desk may book without "
            "the override. An empty `results` comes with a `detail` saying why."
        ),
        parameters=[SlotQuerySerializer],
        responses={
            200: SlotListSerializer,
            **api.error_responses(400, 404, 409),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        visit = access_visit(
            request.user, pk, action="slots", queryset=visit_queryset()
        )
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options: dict[str, Any] = {}
        if "from" in query.validated_data:
            options["after"] = query.validated_data["from"]
        if "limit" in query.validated_data:
            options["limit"] = query.validated_data["limit"]
        if "surgeon" in query.validated_data:
            options["surgeon_id"] = query.validated_data["surgeon"]
        found = services.propose_slots(visit=visit, now=clock.now(), **options)
        return Response(SlotListSerializer(found).data)


class VisitCommand(APIView):
    """One visit command: access check, input, service, the visit's JSON.

    Each takes an optional `sequence` (`SequenceSerializer`), passed to the
    service, which refuses a changed visit as 409 `stale`.
    """

    action: ClassVar[str]
    input_serializer: ClassVar[type[serializers.Serializer]] = SequenceSerializer

    def post(self, request: Request, pk: int) -> Response:
        access_visit(request.user, pk, action=self.action)
        data = read_input(request, self.input_serializer)
        self.perform(visit_id=pk, user=actor(request), data=data)
        visit = visit_queryset().get(pk=pk)
        return Response(VisitSerializer(visit).data)

    # A command whose service needs nothing but the visit, the actor, the
    # time and the sequence names it here; the others override `perform`.
    service: ClassVar[Callable[..., Any] | None] = None

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        if self.service is None:
            raise NotImplementedError
        type(self).service(  # type: ignore[misc]
            visit_id=visit_id,
            actor=user,
            now=clock.now(),
            sequence=data.get("sequence"),
        )


DESK_ONLY = "Front desk and clinic admins."


STALE_NOTE = (
    "With `sequence` (the visit's as last read), a visit changed since is "
    "refused with 409 `stale`, saying who changed it and how."
)


def _command_schema(
    summary: str, request: Any = SequenceSerializer, who: str = DESK_ONLY
) -> Any:
    return extend_schema(
        tags=TAG,
        summary=summary,
        description=f"{summary}. {who} {STALE_NOTE} Answers the visit as it now is.",
        request=request,
        responses={200: VisitSerializer, **api.error_responses(400, 404, 409)},
    )


class PlaceVisit(Protocol):
    """The signature `book_visit` and `reschedule_visit` share."""

    def __call__(
        self,
        *,
        visit_id: int,
        start: dt.datetime,
        surgeon_id: int,
        actor: User | None,
        now: dt.datetime,
        override_reason: str = "",
        sequence: int | None = None,
    ) -> Visit: ...


class _SlotCommand(VisitCommand):
    """Book and reschedule take the same request; only the service differs."""

    input_serializer = BookingSerializer

    @staticmethod
    def service() -> PlaceVisit:
        raise NotImplementedError

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        self.service()(
            visit_id=visit_id,
            start=data["start"],
            surgeon_id=data["surgeon"].pk,
            actor=user,
            now=clock.now(),
            override_reason=data["override_reason"],
            sequence=data.get("sequence"),
        )


class BookVisit(_SlotCommand):
    action = "book"

    @staticmethod
    def service() -> PlaceVisit:
        return services.book_visit

    @_command_schema("Book a visit (or rebook after a no-show)", BookingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class RescheduleVisit(_SlotCommand):
    action = "reschedule"

    @staticmethod
    def service() -> PlaceVisit:
        return services.reschedule_visit

    @_command_schema("Move a booked visit to another slot", BookingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class UnbookVisit(VisitCommand):
    action = "unbook"
    input_serializer = UnbookSerializer

    @_command_schema(
        "Release a booked slot: the visit is to book again", UnbookSerializer
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        services.unbook_visit(
            visit_id=visit_id,
            actor=user,
            now=clock.now(),
            reason=data["reason"],
            sequence=data.get("sequence"),
        )


class CancelVisit(VisitCommand):
    action = "cancel"
    input_serializer = CancelVisitSerializer

    @_command_schema("Cancel a visit (a reason is required)", CancelVisitSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        services.cancel_visit(
            visit_id=visit_id,
            reason=data["reason"],
            actor=user,
            now=clock.now(),
            sequence=data.get("sequence"),
        )


class CheckInVisit(VisitCommand):
    action = "check_in"
    service = services.check_in_visit

    @_command_schema("The patient has arrived")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class NoShowVisit(VisitCommand):
    action = "no_show"
    service = services.mark_no_show

    @_command_schema("The patient did not come")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class CompleteVisit(VisitCommand):
    action = "complete"
    service = services.complete_visit

    @_command_schema(
        "The visit took place",
        who="The patient's surgeon, the front desk and clinic admins.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class ReopenVisit(VisitCommand):
    action = "reopen"
    input_serializer = ReopenVisitSerializer

    @_command_schema(
        "Reopen a visit cancelled by mistake: it is to book again "
        "(a reason is required)",
        ReopenVisitSerializer,
        who="Clinic admins only.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        services.reopen_visit(
            visit_id=visit_id, actor=user, reason=data["reason"], now=clock.now()
        )
