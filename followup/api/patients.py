"""Patients and surgeons: thin views over the patient services.

Each view names the roles its methods need (`roles`, checked by
`followup.api.base.RolesRequired`), finds its object through
`followup.access`, and is an input serializer, one service call and the
output serializer.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import audit, clock
from clinic.models import Patient, PatientReadKind, PatientViewChannel, Surgeon
from clinic.staff import staff_of
from core import api
from followup import services
from followup.access import access_patient
from followup.api.base import DESK, READERS, actor, read_input, record_read
from followup.api.record_serializers import (
    MriStudyCreateSerializer,
    MriStudySerializer,
    PatientCreateSerializer,
    PatientPatchSerializer,
    PatientQuerySerializer,
    PatientSerializer,
    SurgeonSerializer,
)


class PatientList(generics.GenericAPIView[Patient]):
    serializer_class = PatientSerializer
    filter_backends = []
    roles = {"GET": READERS, "POST": DESK}

    def get_queryset(self) -> QuerySet[Patient]:
        query = PatientQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return Patient.objects.visible_to(staff_of(self.request.user)).search(
            query.validated_data.get("q", "")
        )

    @extend_schema(
        tags=["patients"],
        summary="List patients",
        parameters=[PatientQuerySerializer],
        responses={200: PatientSerializer(many=True), **api.error_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        # Every name and birth date of the page, searched or not: one insert.
        record_read(
            request,
            kind=PatientReadKind.API_PATIENTS,
            patient_ids=[patient.pk for patient in page],
            count=len(page),
        )
        return self.get_paginated_response(PatientSerializer(page, many=True).data)

    @extend_schema(
        tags=["patients"],
        summary="Register a patient",
        request=PatientCreateSerializer,
        responses={201: PatientSerializer, **api.error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        given = read_input(request, PatientCreateSerializer)
        patient = services.create_patient(**given, today=clock.today())
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetail(APIView):
    @extend_schema(
        tags=["patients"],
        summary="Read a patient",
        responses={200: PatientSerializer, **api.error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = access_patient(request.user, pk, write=False)
        # Who read whose record, for the audit trail (clinic.audit).
        audit.record_patient_view(
            patient=patient,
            viewer=actor(request),
            channel=PatientViewChannel.API,
            now=clock.now(),
        )
        return Response(PatientSerializer(patient).data)

    @extend_schema(
        tags=["patients"],
        summary="Correct a patient's details",
        request=PatientPatchSerializer,
        responses={200: PatientSerializer, **api.error_responses(400, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        access_patient(request.user, pk, write=True)
        given = read_input(request, PatientPatchSerializer)
        patient = services.correct_patient(patient_id=pk, today=clock.today(), **given)
        return Response(PatientSerializer(patient).data)


class PatientMriStudies(APIView):
    """A patient's MRI studies, which their annual reviews need."""

    # POST is the front desk's, checked by access_patient after scoping, so
    # another surgeon's patient is a 404 rather than a 403.
    roles = {"GET": READERS}

    @extend_schema(
        tags=["patients"],
        summary="A patient's MRI studies, latest first",
        responses={200: MriStudySerializer(many=True), **api.error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        patient = access_patient(request.user, pk, write=False)
        studies = list(patient.mri_studies.order_by("-performed_on", "-id"))
        record_read(
            request,
            kind=PatientReadKind.API_MRI_STUDIES,
            patient_ids=[patient.pk],
            count=len(studies),
        )
        return Response(MriStudySerializer(studies, many=True).data)

    @extend_schema(
        tags=["patients"],
        summary="Record an MRI study",
        description="Front desk and clinic admins. A study counts for an annual "
        "review performed at most MRI_VALID_DAYS (default 60) before it; "
        "without `report_received_on` its MRI is `report_pending`.",
        request=MriStudyCreateSerializer,
        responses={
            201: MriStudySerializer,
            **api.error_responses(400, 404, 409),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        access_patient(request.user, pk, write=True)
        given = read_input(request, MriStudyCreateSerializer)
        study = services.record_mri_study(
            patient_id=pk, **given, actor=actor(request), today=clock.today()
        )
        return Response(MriStudySerializer(study).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["surgeons"],
    summary="List surgeons",
    responses={200: SurgeonSerializer(many=True), **api.error_responses(404)},
)
class SurgeonList(generics.ListAPIView[Surgeon]):
    """Every member of staff may list the surgeons (to book, to filter)."""

    serializer_class = SurgeonSerializer
    filter_backends = []
    roles = {"GET": READERS}

    def get_queryset(self) -> QuerySet[Surgeon]:
        return Surgeon.objects.order_by("family_name", "given_name", "id")
