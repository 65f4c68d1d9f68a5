"""Messages in the API: a visit's and a patient's messages (staff who see
them), and the front desk's replies that need a person.

Objects are found through `followup.access` (another surgeon's patient is a
404); each read of messages is recorded like other reads about patients.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import clock
from clinic.models import PatientReadKind
from clinic.staff import staff_of
from core import api
from followup.access import Role, access_patient, access_visit
from followup.api.base import DESK, READERS, actor, record_read
from followup.models import Visit
from messaging import replies, schedule
from messaging.models import Message

TAG = ["messages"]


class SendsAtField(serializers.DateTimeField):
    """When a queued message will go (`schedule.goes_at`, on the clinic's
    clock): `scheduled_for` keeps its meaning, when the schedule made it due."""

    def get_attribute(self, instance: Message) -> dt.datetime | None:
        return schedule.goes_at(instance, clock.now())


class MessageSerializer(serializers.ModelSerializer[Message]):
    resolved_by = serializers.CharField(
        source="resolved_by.get_username", read_only=True, default=None
    )
    sends_at = SendsAtField(
        read_only=True,
        allow_null=True,
        help_text="Queued: when the sender will send it: when it is due (or "
        "its retry, after a failed try), held to the end of the quiet hours "
        "(`MESSAGE_QUIET_HOURS`); null once it is no longer waiting to go.",
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "visit",
            "patient",
            "direction",
            "channel",
            "kind",
            "status",
            "intent",
            "to",
            "subject",
            "text",
            "scheduled_for",
            "sends_at",
            "sent_at",
            "delivered_at",
            "error",
            "answers",
            "outcome",
            "resolved_at",
            "resolved_by",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs: dict[str, Any] = {
            "to": {"help_text": "The number or address; a reply: its sender."},
            "intent": {"help_text": "A reply: what its first word means."},
        }


class RepliesQuerySerializer(serializers.Serializer[Any]):
    open = serializers.BooleanField(
        required=False,
        default=None,
        allow_null=True,
        help_text="true: not resolved yet; false: resolved; absent: both.",
    )


class _Messages(generics.ListAPIView[Message]):
    serializer_class = MessageSerializer
    filter_backends = []
    roles: dict[str, tuple[Role, ...]] = {"GET": READERS}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        rows = response.data.get("results", []) if response.data else []
        record_read(
            request,
            kind=PatientReadKind.API_MESSAGES,
            patient_ids=sorted({r["patient"] for r in rows if r["patient"]}),
            count=len(rows),
        )
        return response


@extend_schema(
    tags=TAG,
    summary="A visit's messages, newest first",
    description="Staff who see the visit (a surgeon: their own patients').",
    responses={200: MessageSerializer(many=True), **api.error_responses(404)},
)
class VisitMessages(_Messages):
    def get_queryset(self) -> QuerySet[Message]:
        visit = access_visit(self.request.user, self.kwargs["pk"], action="read")
        return Message.objects.filter(visit=visit).order_by("-created_at", "-id")


@extend_schema(
    tags=TAG,
    summary="A patient's messages, newest first",
    description="Staff who see the patient; a surgeon reads the messages "
    "about the visits they see.",
    responses={200: MessageSerializer(many=True), **api.error_responses(404)},
)
class PatientMessages(_Messages):
    def get_queryset(self) -> QuerySet[Message]:
        user = self.request.user
        patient = access_patient(user, self.kwargs["pk"], write=False)
        visits = Visit.objects.visible_to(staff_of(user))
        return Message.objects.of_patient(patient.pk, visits)


@extend_schema(
    tags=TAG,
    summary="Replies that need a person",
    description="Front desk and clinic admins: change requests, unclear "
    "replies (a number that matches nobody included) and failed deliveries, "
    "newest first. `open=true`: those nobody has resolved yet.",
    parameters=[RepliesQuerySerializer],
    responses={200: MessageSerializer(many=True), **api.error_responses(400)},
)
class Replies(_Messages):
    roles = {"GET": DESK}

    def get_queryset(self) -> QuerySet[Message]:
        query = RepliesQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        rows = Message.objects.needing_person()
        wanted = query.validated_data.get("open")
        if wanted is not None:
            rows = rows.filter(resolved_at__isnull=wanted)
        return rows


class ResolveReply(APIView):
    roles = {"POST": DESK}

    @extend_schema(
        tags=TAG,
        summary="Resolve a reply or failed delivery",
        description="Front desk and clinic admins: someone dealt with it; it "
        "leaves the open list. Resolving it again is a 409 naming who did.",
        request=None,
        responses={200: MessageSerializer, **api.error_responses(404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        message = replies.resolve(message_id=pk, actor=actor(request), now=clock.now())
        return Response(MessageSerializer(message).data)
