"""The surgeon's review lists (SPEC section 4): upcoming and overdue.

A surgeon sees their own patients; the front desk and admins see everyone's
and may narrow to one surgeon's. The queries live on `VisitQuerySet`
(`upcoming`, `overdue`).
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request

from clinic import clock
from clinic.staff import staff_of
from core import api
from followup.api.base import READERS
from followup.api.serializers import (
    ReviewQuerySerializer,
    UpcomingQuerySerializer,
    VisitSerializer,
)
from followup.api.visits import visit_queryset
from followup.models import Visit, VisitQuerySet


def _reviews_base(request: Request, query: serializers.Serializer) -> VisitQuerySet:
    visits = visit_queryset().visible_to(staff_of(request.user))
    surgeon_id = query.validated_data.get("surgeon")
    if surgeon_id is not None:
        # A surgeon asking for someone else's patients sees none: the filter
        # narrows their own scope, it never widens it.
        visits = visits.of_surgeon(surgeon_id)
    return visits


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
    roles = {"GET": READERS}

    def get_queryset(self) -> QuerySet[Visit]:
        query = UpcomingQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return _reviews_base(self.request, query).upcoming(
            clock.today(), query.validated_data["days"]
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
    roles = {"GET": READERS}

    def get_queryset(self) -> QuerySet[Visit]:
        query = ReviewQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return (
            _reviews_base(self.request, query)
            .overdue(clock.today())
            .order_by("window_end", "due_date", "id")
        )
