"""`/api/calendar-links/`: list, create, rotate and revoke feed links.

The feed URL (with its token) appears only in the replies of create and
rotate; a list or any later read never shows it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import clock
from core import api
from feeds import links
from feeds.models import CalendarLink, LinkScope
from followup.api.base import READERS

MAX_ID = 2**31 - 1


class CalendarLinkSerializer(serializers.ModelSerializer[CalendarLink]):
    serving = serializers.SerializerMethodField(
        help_text="Whether the feed answers: false once the account that issued "
        "the URL (or the surgeon's own) is deactivated or has lost its role. "
        "Rotate the link to issue a new URL that serves."
    )

    class Meta:
        model = CalendarLink
        fields = [
            "id",
            "scope",
            "surgeon",
            "patient",
            "created_at",
            "last_used_at",
            "serving",
        ]
        read_only_fields = fields

    def get_serving(self, link: CalendarLink) -> bool:
        # Lists annotate it (links.visible_to); a link just issued is read.
        serving = getattr(link, "serving", None)
        return links.is_serving(link.pk) if serving is None else bool(serving)


class IssuedLinkSerializer(CalendarLinkSerializer):
    url = serializers.SerializerMethodField(
        help_text="The subscription URL. Shown only now: store it or rotate later."
    )
    webcal_url = serializers.SerializerMethodField(
        help_text="The same URL for one-click subscription (webcal://)."
    )

    class Meta(CalendarLinkSerializer.Meta):
        fields = [*CalendarLinkSerializer.Meta.fields, "url", "webcal_url"]
        read_only_fields = fields

    def get_url(self, link: CalendarLink) -> str:
        request: Request = self.context["request"]
        return request.build_absolute_uri(self.context["path"])

    def get_webcal_url(self, link: CalendarLink) -> str:
        url = self.get_url(link)
        return "webcal://" + url.split("://", 1)[1]


class CreateLinkSerializer(serializers.Serializer[Any]):
    scope = serializers.ChoiceField(choices=LinkScope.choices)
    surgeon = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )
    patient = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID
    )


def _issued(request: Request, issued: links.IssuedLink, code: int) -> Response:
    context = {"request": request, "path": issued.path}
    return Response(IssuedLinkSerializer(issued.link, context=context).data, code)


@extend_schema(tags=["calendar links"])
class CalendarLinkList(generics.ListAPIView[CalendarLink]):
    serializer_class = CalendarLinkSerializer
    # Like every other list: someone who holds no clinic role (a clerk or a
    # surgeon whose role was removed) is refused, not shown an empty page.
    roles = {"GET": READERS}

    def get_queryset(self) -> QuerySet[CalendarLink]:
        return links.visible_to(self.request.user).order_by("-created_at", "id")

    @extend_schema(
        summary="Your live calendar links (never their URLs)",
        responses={200: CalendarLinkSerializer(many=True), **api.error_responses()},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a calendar link; its URL is shown once",
        request=CreateLinkSerializer,
        responses={201: IssuedLinkSerializer, **api.error_responses(400, 409)},
    )
    def post(self, request: Request) -> Response:
        given = CreateLinkSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        surgeon_id = links.check_may_create(
            request.user, scope=data["scope"], surgeon_id=data.get("surgeon")
        )
        issued = links.create_link(
            scope=data["scope"],
            surgeon_id=surgeon_id,
            patient_id=data.get("patient"),
            actor=request.user,  # type: ignore[arg-type]
        )
        return _issued(request, issued, status.HTTP_201_CREATED)


@extend_schema(tags=["calendar links"])
class CalendarLinkDetail(APIView):
    @extend_schema(
        summary="Revoke a calendar link: its URL stops working at once",
        request=None,
        responses={204: None, **api.error_responses(404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        link = links.access_link(request.user, pk)
        links.revoke_link(link_id=link.pk, now=clock.now(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["calendar links"])
class RotateCalendarLink(APIView):
    @extend_schema(
        summary="Give a calendar link a new URL; the old one stops working",
        request=None,
        responses={200: IssuedLinkSerializer, **api.error_responses(404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        link = links.access_link(request.user, pk)
        return _issued(
            request,
            links.rotate_link(link_id=link.pk, actor=request.user, now=clock.now()),
            status.HTTP_200_OK,
        )
