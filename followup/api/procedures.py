"""Procedures and the CSV import: thin views over the procedure services.

Each view names the roles its methods need (`roles`, checked by
`followup.api.base.RolesRequired`), finds its object through
`followup.access`, and is an input serializer, one service call and the
output serializer: the procedure with its visits, or what a command changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

import django_filters
from django.conf import settings
from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import clock
from clinic.models import Procedure, ProcedureKind, ProcedureQuerySet, ProcedureStatus
from clinic.staff import Staff, staff_of
from core import api
from followup import services
from followup.access import access_procedure
from followup.api.base import DESK, READERS, IdFilter, actor, read_input
from followup.api.import_jobs import ImportAcceptedSerializer, accepted
from followup.api.record_serializers import (
    DryRunQuerySerializer,
    EndAnnualReviewsSerializer,
    ImportResultSerializer,
    ImportUploadSerializer,
    ProcedureCancelSerializer,
    ProcedureChangeSerializer,
    ProcedureCreateSerializer,
    ProcedurePatchSerializer,
    ProcedureSerializer,
)
from followup.api.throttling import ImportAllowance
from followup.api.visits import visit_queryset
from followup.exceptions import InvalidInput
from followup.models import ImportJob
from followup.services.plan import PlanResult, VisitChange


def procedure_queryset(staff: Staff | None = None) -> ProcedureQuerySet:
    """A procedure with its visits, in a constant number of queries; with
    `staff`, only the visits they may read (a colleague covering one visit
    sees that one, not the patient's others)."""
    visits = visit_queryset().order_by("window_start", "rule__code", "id")
    if staff is not None:
        visits = visits.visible_to(staff)
    procedures = Procedure.objects.select_related("patient").prefetch_related(
        Prefetch("visits", queryset=visits)
    )
    return cast(ProcedureQuerySet, procedures)


def changed(result: PlanResult) -> Response:
    """A command's answer: the procedure as it now is, and what changed."""
    procedure = procedure_queryset().get(pk=result.procedure.pk)
    return Response(
        ProcedureChangeSerializer(
            {"procedure": procedure, "changes": result.as_dict(), "preview": None}
        ).data
    )


# The preview's names for the ids lists of a real correction's answer.
PREVIEW_TO_CHANGES = {
    "created": "created",
    "moved": "moved",
    "flagged_for_rebooking": "flagged",
    "cancelled": "cancelled",
    "reopened": "reopened",
}


def would_change(procedure_id: int, preview: list[VisitChange]) -> Response:
    """A dry run's answer: the procedure unchanged, and what would change."""
    ids: dict[str, list[int]] = {name: [] for name in PREVIEW_TO_CHANGES.values()}
    for item in preview:
        if item.action in PREVIEW_TO_CHANGES and item.visit_id is not None:
            ids[PREVIEW_TO_CHANGES[item.action]].append(item.visit_id)
    procedure = procedure_queryset().get(pk=procedure_id)
    return Response(
        ProcedureChangeSerializer(
            {
                "procedure": procedure,
                "changes": ids,
                "dry_run": True,
                "preview": preview,
            }
        ).data
    )


class ProcedureFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    surgeon = IdFilter(field_name="surgeon_id")
    kind = django_filters.ChoiceFilter(choices=ProcedureKind.choices)
    status = django_filters.ChoiceFilter(choices=ProcedureStatus.choices)

    class Meta:
        model = Procedure
        fields: ClassVar[list[str]] = []


class ProcedureList(generics.GenericAPIView[Procedure]):
    serializer_class = ProcedureSerializer
    filterset_class = ProcedureFilter
    roles = {"GET": READERS, "POST": DESK}

    def get_queryset(self) -> QuerySet[Procedure]:
        staff = staff_of(self.request.user)
        return procedure_queryset(staff).visible_to(staff)

    @extend_schema(
        tags=["procedures"],
        summary="List procedures with their visits",
        responses={
            200: ProcedureSerializer(many=True),
            **api.error_responses(400, 404),
        },
    )
    def get(self, request: Request) -> Response:
        procedures = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(procedures)
        return self.get_paginated_response(ProcedureSerializer(page, many=True).data)

    @extend_schema(
        tags=["procedures"],
        summary="Register a procedure; its visits are generated",
        request=ProcedureCreateSerializer,
        responses={201: ProcedureSerializer, **api.error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        given = read_input(request, ProcedureCreateSerializer)
        result = services.create_procedure(
            **given, today=clock.today(), actor=actor(request)
        )
        procedure = procedure_queryset().get(pk=result.procedure.pk)
        return Response(
            ProcedureSerializer(procedure).data, status=status.HTTP_201_CREATED
        )


class ProcedureDetail(APIView):
    @extend_schema(
        tags=["procedures"],
        summary="Read a procedure with its visits",
        responses={200: ProcedureSerializer, **api.error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        procedure = access_procedure(
            request.user,
            pk,
            action="read",
            queryset=procedure_queryset(staff_of(request.user)),
        )
        return Response(ProcedureSerializer(procedure).data)

    @extend_schema(
        tags=["procedures"],
        summary="Correct the surgery date or kind; the visits are re-planned",
        description=(
            "With `?dry_run=true` nothing is written: the answer lists exactly "
            "what the correction would do (`changes`), and every visit with its "
            "dates before and after (`preview`)."
        ),
        parameters=[DryRunQuerySerializer],
        request=ProcedurePatchSerializer,
        responses={
            200: ProcedureChangeSerializer,
            **api.error_responses(400, 404, 409),
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        access_procedure(request.user, pk, action="correct")
        given = read_input(request, ProcedurePatchSerializer)
        query = DryRunQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["dry_run"]:
            preview = services.preview_correction(
                procedure_id=pk, today=clock.today(), **given
            )
            return would_change(pk, preview)
        result = services.correct_procedure(
            procedure_id=pk, today=clock.today(), actor=actor(request), **given
        )
        return changed(result)


class ProcedureCancel(APIView):
    @extend_schema(
        tags=["procedures"],
        summary="Cancel a procedure, or mark it entered in error",
        request=ProcedureCancelSerializer,
        responses={
            200: ProcedureChangeSerializer,
            **api.error_responses(400, 404, 409),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        access_procedure(request.user, pk, action="cancel")
        given = read_input(request, ProcedureCancelSerializer)
        result = services.cancel_procedure(
            procedure_id=pk, actor=actor(request), **given
        )
        return changed(result)


class ProcedureEndAnnualReviews(APIView):
    @extend_schema(
        tags=["procedures"],
        summary="End a patient's annual MRI review programme",
        request=EndAnnualReviewsSerializer,
        responses={
            200: ProcedureChangeSerializer,
            **api.error_responses(400, 404, 409),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        access_procedure(request.user, pk, action="end_annual_reviews")
        given = read_input(request, EndAnnualReviewsSerializer)
        result = services.end_annual_reviews(
            procedure_id=pk,
            end_date=given["date"],
            reason=given["reason"],
            today=clock.today(),
            actor=actor(request),
        )
        return changed(result)


# --- CSV import ---------------------------------------------------------------


class CSVParser(BaseParser):
    """A CSV file sent as the request body (`Content-Type: text/csv`)."""

    media_type = "text/csv"

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.IMPORT_MAX_BYTES
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise InvalidInput(
                f"The file is larger than {limit} bytes; split it.", code="too_large"
            )
        return bytes(data)


CSV_EXAMPLE = (
    "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"
    "H000123,Maria,Garcia,1970-05-17,surgeon_a,endoscopic,2026-11-02\n"
)


class ProcedureImport(APIView):
    """Throttled per person by `throttling.ImportAllowance`: checked before
    the file is read, counted by what became of it."""

    parser_classes = [MultiPartParser, CSVParser]
    roles = {"POST": DESK}

    @extend_schema(
        tags=["procedures"],
        summary="Import patients and procedures from CSV: all rows or none",
        description=(
            "Columns: record_number, given_name, family_name, birth_date, "
            "surgeon (full name, id or username), kind, surgery_date; "
            "optionally phone, email, reminders. Comma- or semicolon-separated "
            "(as the header line is), dates YYYY-MM-DD or DD/MM/YYYY (as the "
            "first date is); `read_as` says which. Send the file as the "
            "multipart field `file`, or as a `text/csv` body. Any bad row "
            "rejects the file (400, code `import_rejected`) with every problem "
            "in `errors` by line number; importing the same file again creates "
            "nothing new. A file of more than `IMPORT_SYNC_MAX_ROWS` rows "
            "(2,000 by default) is imported by a background job: the answer is "
            "202 with the job's id and URL, where its progress is read."
        ),
        request={
            "multipart/form-data": ImportUploadSerializer,
            "text/csv": OpenApiTypes.STR,
        },
        examples=[
            OpenApiExample(
                "CSV body", value=CSV_EXAMPLE, request_only=True, media_type="text/csv"
            )
        ],
        responses={
            200: ImportResultSerializer,
            202: ImportAcceptedSerializer,
            **api.error_responses(400, 409),
        },
    )
    def post(self, request: Request) -> Response:
        allowance = ImportAllowance(request)
        wait = allowance.wait()
        if wait is not None:
            raise exceptions.Throttled(
                wait=wait.seconds, detail=f"{wait.reason}; try again later."
            )
        try:
            upload = request.FILES.get("file")
            outcome = services.accept_import(
                data=self._file_bytes(request),
                file_name=upload.name if upload is not None else "",
                actor=actor(request),
                today=clock.today(),
                now=clock.now(),
                checked=allowance.file_read,
            )
        except Exception:
            allowance.refused()
            raise
        if isinstance(outcome, ImportJob):
            return accepted(outcome)
        return Response(ImportResultSerializer(outcome.as_dict()).data)

    @staticmethod
    def _file_bytes(request: Request) -> bytes:
        data = request.data
        if isinstance(data, bytes):
            return data
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(
                "Send the CSV as the multipart field 'file' or as a text/csv body.",
                code="file_missing",
            )
        limit = settings.IMPORT_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise InvalidInput(
                f"The file is larger than {limit} bytes; split it.", code="too_large"
            )
        return bytes(upload.read())
