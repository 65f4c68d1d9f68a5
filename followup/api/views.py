"""Visits, their commands, and the surgeon's review lists.

Each command is an input serializer, one service call and the visit's JSON.
Who may do what lives in `followup.access`; these views only ask it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar, cast

import django_filters
from django.contrib.auth.models import User
from django.db.models import DateField, F, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import api
from followup import services
from followup.access import Role, access_visit, require_role
from followup.api.serializers import (
    BookingSerializer,
    CancelVisitSerializer,
    ReviewQuerySerializer,
    SlotListSerializer,
    SlotQuerySerializer,
    UnbookSerializer,
    UpcomingQuerySerializer,
    VisitEventSerializer,
    VisitSerializer,
)
from followup.models import (
    AWAITING_BOOKING_STATUSES,
    NOT_YET_SEEN_STATUSES,
    Visit,
    VisitQuerySet,
    VisitStatus,
)

TAG = ["visits"]


def visit_queryset() -> VisitQuerySet:
    """Everything a visit's JSON reads, in the one query."""
    return cast(
        VisitQuerySet,
        Visit.objects.select_related("rule", "procedure__patient", "calendar_entry"),
    )


def actor(request: Request) -> User:
    return cast(User, request.user)


class VisitFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=VisitStatus.choices)
    rule = django_filters.CharFilter(field_name="rule__code", help_text="Rule code.")
    surgeon = django_filters.NumberFilter(
        field_name="surgeon_id", help_text="The surgeon who sees the patient."
    )
    patient = django_filters.NumberFilter(field_name="patient_id")
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
        overdue = Visit.objects.overdue(api.today()).values("pk")
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

    def get_queryset(self) -> QuerySet[Visit]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Visit.objects.none()
        require_role(self.request.user, Role.FRONT_DESK, Role.SURGEON)
        return visit_queryset().visible_to(self.request.user)


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
        found = services.propose_slots(visit=visit, now=api.now(), **options)
        return Response(SlotListSerializer(found).data)


class VisitCommand(APIView):
    """One visit command: access check, input, service, the visit's JSON."""

    action: ClassVar[str]
    input_serializer: ClassVar[type[serializers.Serializer] | None] = None

    def post(self, request: Request, pk: int) -> Response:
        access_visit(request.user, pk, action=self.action)
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            given = self.input_serializer(data=request.data)
            given.is_valid(raise_exception=True)
            data = dict(given.validated_data)
        self.perform(visit_id=pk, user=actor(request), data=data)
        visit = visit_queryset().get(pk=pk)
        return Response(VisitSerializer(visit).data)

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        raise NotImplementedError


DESK = "Front desk and clinic admins."


def _command_schema(summary: str, request: Any = None, who: str = DESK) -> Any:
    return extend_schema(
        tags=TAG,
        summary=summary,
        description=f"{summary}. {who} Answers the visit as it now is.",
        request=request,
        responses={200: VisitSerializer, **api.error_responses(400, 404, 409)},
    )


class _SlotCommand(VisitCommand):
    """Book and reschedule take the same request and differ only in the service."""

    input_serializer = BookingSerializer
    place: Callable[..., Any]

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        type(self).place(
            visit_id=visit_id,
            start=data["start"],
            surgeon_id=data["surgeon"].pk,
            actor=user,
            now=api.now(),
            override_reason=data["override_reason"],
        )


class BookVisit(_SlotCommand):
    action = "book"
    place = services.book_visit

    @_command_schema("Book a visit (or rebook after a no-show)", BookingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class RescheduleVisit(_SlotCommand):
    action = "reschedule"
    place = services.reschedule_visit

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
            visit_id=visit_id, actor=user, now=api.now(), reason=data["reason"]
        )


class CancelVisit(VisitCommand):
    action = "cancel"
    input_serializer = CancelVisitSerializer

    @_command_schema("Cancel a visit (a reason is required)", CancelVisitSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        services.cancel_visit(
            visit_id=visit_id, reason=data["reason"], actor=user, now=api.now()
        )


class CheckInVisit(VisitCommand):
    action = "check_in"

    @_command_schema("The patient has arrived")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        services.check_in_visit(visit_id=visit_id, actor=user, now=api.now())


class NoShowVisit(VisitCommand):
    action = "no_show"

    @_command_schema("The patient did not come")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        services.mark_no_show(visit_id=visit_id, actor=user, now=api.now())


class CompleteVisit(VisitCommand):
    action = "complete"

    @_command_schema(
        "The visit took place",
        who="The patient's surgeon, the front desk and clinic admins.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, *, visit_id: int, user: User, data: dict[str, Any]) -> None:
        services.complete_visit(visit_id=visit_id, actor=user, now=api.now())


# --- the surgeon's reviews (SPEC section 4) ----------------------------------


def _reviews_base(request: Request, query: serializers.Serializer) -> VisitQuerySet:
    require_role(request.user, Role.FRONT_DESK, Role.SURGEON)
    visits = visit_queryset().visible_to(request.user)
    surgeon_id = query.validated_data.get("surgeon")
    if surgeon_id is not None:
        # A surgeon asking for someone else's patients sees none: the filter
        # narrows their own scope, it never widens it.
        visits = visits.for_surgeon(surgeon_id)
    return visits


def upcoming_reviews(
    visits: QuerySet[Visit], *, today: dt.date, days: int
) -> QuerySet[Visit]:
    """Booked visits in the next `days` days, and visits to book whose window
    overlaps them, soonest first.

    The period is today through today + `days` (clinic dates). A visit still
    to book sorts by its due date, a booked one by the day of its slot.
    """
    last = today + dt.timedelta(days=days)
    zone = timezone.get_current_timezone()
    period_start = timezone.make_aware(dt.datetime.combine(today, dt.time()), zone)
    period_end = timezone.make_aware(
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time()), zone
    )
    booked = Q(
        status__in=NOT_YET_SEEN_STATUSES, start__gte=period_start, start__lt=period_end
    )
    to_book = Q(
        status__in=AWAITING_BOOKING_STATUSES,
        window_start__lte=last,
        window_end__gte=today,
    )
    return (
        visits.filter(booked | to_book)
        .annotate(
            soonest=Coalesce(
                TruncDate("start", tzinfo=zone), F("due_date"), output_field=DateField()
            )
        )
        .order_by("soonest", F("start").asc(nulls_last=True), "window_end", "id")
    )


@extend_schema(
    tags=["reviews"],
    summary="Upcoming reviews",
    description=(
        "Booked (or checked-in) visits in the next `days` days, and visits to "
        "book (or rebook after a no-show) whose window overlaps that period, "
        "soonest first. A surgeon sees their own patients; others may narrow "
        "to one surgeon's patients with `surgeon`."
    ),
    parameters=[UpcomingQuerySerializer],
    responses={200: VisitSerializer(many=True), **api.error_responses(400, 404)},
)
class UpcomingReviews(generics.ListAPIView[Visit]):
    serializer_class = VisitSerializer
    filter_backends = []

    def get_queryset(self) -> QuerySet[Visit]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Visit.objects.none()
        query = UpcomingQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return upcoming_reviews(
            _reviews_base(self.request, query),
            today=api.today(),
            days=query.validated_data["days"],
        )


@extend_schema(
    tags=["reviews"],
    summary="Overdue reviews",
    description=(
        "Visits whose window has closed while still to book or no-show, the "
        "longest overdue first."
    ),
    parameters=[ReviewQuerySerializer],
    responses={200: VisitSerializer(many=True), **api.error_responses(400, 404)},
)
class OverdueReviews(generics.ListAPIView[Visit]):
    serializer_class = VisitSerializer
    filter_backends = []

    def get_queryset(self) -> QuerySet[Visit]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Visit.objects.none()
        query = ReviewQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return (
            _reviews_base(self.request, query)
            .overdue(api.today())
            .order_by("window_end", "due_date", "id")
        )
