"""`POST /api/visits/{id}/booking-link/`: a new booking link for the desk to
read out or send; its URL is shown in this answer only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking_links import services
from clinic import clock
from core import api
from followup.access import access_visit
from followup.api.base import DESK


class BookingLinkSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(
        help_text="The patient's booking page. Shown only now: a newer link "
        "ends this one."
    )


@extend_schema(tags=["visits"])
class CreateBookingLink(APIView):
    roles = {"POST": DESK}

    @extend_schema(
        summary="Make the visit's booking link; its URL is shown once",
        description="Front desk and clinic admins. The visit's older links "
        "stop working. A completed or cancelled visit, or one more than 60 "
        "days past its window, has nothing to book: 409.",
        request=None,
        responses={201: BookingLinkSerializer, **api.error_responses(404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        # The desk books the visit: whoever may book it may hand out its link.
        visit = access_visit(request.user, pk, action="book")
        issued = services.issue_link(
            visit_id=visit.pk,
            actor=request.user,  # type: ignore[arg-type]
            now=clock.now(),
        )
        url = request.build_absolute_uri(issued.path)
        return Response({"url": url}, status=status.HTTP_201_CREATED)
