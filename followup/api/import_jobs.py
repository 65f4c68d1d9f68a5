"""A big CSV import's job (`POST /api/procedures/import/` answered 202):
its state and progress, for the person who started it and clinic admins."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import api
from followup import services
from followup.api.base import DESK
from followup.api.record_serializers import ImportResultSerializer
from followup.models import ImportJob, ImportJobState


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    error = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer[ImportJob]):
    result = ImportResultSerializer(
        allow_null=True, help_text="The counts, once `state` is `done`."
    )
    # DRF's metaclass takes declared fields off the class, so this does not
    # hide `Serializer.errors` at run time; mypy sees only the class body.
    errors = ImportErrorSerializer(  # type: ignore[assignment]
        many=True, help_text="When `state` is `failed`: the first 100 problems."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "state",
            "rows",
            "done_rows",
            "file_name",
            "created_at",
            "finished_at",
            "result",
            "detail",
            "errors",
            "error_count",
        ]
        read_only_fields = fields


class ImportAcceptedSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    url = serializers.CharField(help_text="Where the job's progress is read.")


def accepted(job: ImportJob) -> Response:
    """The 202 answer to an import handed to a worker."""
    body = {"job": job.pk, "url": reverse("import-job", args=[job.pk])}
    return Response(ImportAcceptedSerializer(body).data, status=202)


class ImportJobDetail(APIView):
    roles = {"GET": DESK}

    @extend_schema(
        tags=["procedures"],
        summary="A big CSV import's state and progress",
        description=(
            f"`state`: {', '.join(ImportJobState.values)}. `done_rows` of "
            "`rows` have been checked; nothing is written until the whole "
            "file is (all rows or none)."
        ),
        responses={200: ImportJobSerializer, **api.error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        job = services.job_for(request.user, pk)
        return Response(ImportJobSerializer(job).data)
