"""Registering patients and procedures: by hand, or from a CSV file.

By hand (`/desk/patients/new/`, and `/desk/patients/<id>/procedures/new/`
for a patient already registered) is one form in two steps. "Preview the
plan" checks every field with the services' own parsers and shows the visits
and milestones the pure planner will generate, writing nothing; "Save"
appears with the preview and saves exactly what was previewed (a fingerprint
of the previewed values travels with the form: changed details are previewed
again, never saved unseen). Save calls one service,
`register_patient_with_procedure` (or `create_procedure` for a patient
already registered), so a refusal writes nothing and the form comes back with
the reason and everything typed.

With htmx, a field is checked as the person types or leaves it: the same
view answers with that field's message only, and marks a shown preview as
out of date once the details differ from it. Without JavaScript the form
works as plain POSTs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from clinic import clock
from clinic.models import Patient
from followup import rules, services
from followup.exceptions import DomainError
from followup.models import FollowUpRule, RecoveryMilestone
from followup.services.plan import horizon
from web.patient_access import page_url, patient_for
from web.patients.forms import ProcedureFields, RegistrationForm
from web.refusals import say
from web.roles import DESK_ROLES, role_required

PREVIEW = "preview"
SAVE = "save"


# --- the plan preview ---------------------------------------------------------


@dataclass(frozen=True)
class PreviewVisit:
    title: str
    planned: rules.PlannedVisit
    # Its window has already closed: it will be overdue from the start.
    closed: bool


@dataclass(frozen=True)
class Preview:
    visits: list[PreviewVisit]
    milestones: list[tuple[str, dt.date]]
    horizon: dt.date
    recurring: bool
    fingerprint: str


def plan_preview(form: ProcedureFields, *, today: dt.date) -> Preview:
    """What saving this form will plan, from the pure planner; writes nothing."""
    proc = rules.Procedure(
        surgery_date=form.cleaned_data["surgery_date"], kind=form.cleaned_data["kind"]
    )
    active = list(FollowUpRule.objects.active())
    names = {rule.code: rule for rule in active}
    last = horizon(today)
    planned = rules.plan(proc, [rule.as_spec() for rule in active], horizon=last)
    visits = []
    for visit in planned:
        rule = names[visit.rule_code]
        title = f"{rule.name}, year {visit.occurrence}" if rule.recurring else rule.name
        visits.append(PreviewVisit(title, visit, closed=visit.window_end < today))
    milestones = [
        (spec.title, day)
        for spec, day in rules.milestones(proc, RecoveryMilestone.objects.specs())
    ]
    return Preview(
        visits=visits,
        milestones=milestones,
        horizon=last,
        recurring=any(names[visit.rule_code].recurring for visit in planned),
        fingerprint=form.fingerprint(),
    )


# --- the form page --------------------------------------------------------------


def _inline_checks(form: ProcedureFields, url: str) -> None:
    """htmx attributes: each field checked on the server as it is typed."""
    for name, field in form.fields.items():
        typing = "keyup changed delay:600ms, " if name in _TYPED else ""
        field.widget.attrs.update(
            {
                "hx-post": url,
                "hx-trigger": f"{typing}change",
                "hx-target": f"#error-{name}",
                "hx-swap": "innerHTML",
                "hx-vals": f'{{"check": "{name}"}}',
                "hx-sync": "this:replace",
                "aria-describedby": f"help-{name} error-{name}",
            }
        )


_TYPED = {"record_number", "given_name", "family_name"}


def _form_page(
    request: HttpRequest,
    form: ProcedureFields,
    *,
    patient: Patient | None,
    preview: Preview | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    if refusal:
        messages.error(request, refusal)
    title = (
        "Register a patient"
        if patient is None
        else f"New procedure for {patient.given_name} {patient.family_name}"
    )
    return render(
        request,
        "web/patients/register.html",
        {
            "title": title,
            "form": form,
            "patient": patient,
            "preview": preview,
            "refused": bool(refusal) or bool(form.errors),
        },
        status=status,
    )


def _check_one_field(
    request: HttpRequest, form: ProcedureFields, name: str
) -> HttpResponse:
    """htmx: one field's message, and whether a shown preview still holds."""
    valid = form.is_valid()
    previewed = request.POST.get("previewed", "")
    stale = bool(previewed) and not (valid and form.fingerprint() == previewed)
    # Stripped: an empty answer leaves the message element :empty (hidden).
    answer = render_to_string(
        "web/patients/register.html#field_check",
        {
            "errors": form.errors.get(name, []) if name in form.fields else [],
            "stale": stale,
        },
        request=request,
    )
    return HttpResponse(answer.strip())


def _register(
    request: HttpRequest,
    form: ProcedureFields,
    *,
    patient: Patient | None,
    save: Callable[[Any], services.PlanResult],
) -> HttpResponse:
    today = form.today
    check = request.POST.get("check", "")
    if request.htmx and check:  # type: ignore[attr-defined]
        return _check_one_field(request, form, check)
    if not form.is_valid():
        return _form_page(request, form, patient=patient, status=400)
    preview = plan_preview(form, today=today)
    if request.POST.get("action") != SAVE:
        return _form_page(request, form, patient=patient, preview=preview)
    if request.POST.get("previewed") != preview.fingerprint:
        messages.info(
            request,
            "The details changed since the plan was shown. Check the plan below, "
            "then save.",
        )
        return _form_page(request, form, patient=patient, preview=preview)
    try:
        saved = save(form)
    except DomainError as error:
        return _form_page(
            request,
            form,
            patient=patient,
            preview=preview,
            refusal=f"Not saved: {say(error)}",
            status=error.status,
        )
    count = len(saved.created)
    messages.success(
        request,
        f"Saved. {count} visit{'s' if count != 1 else ''} planned for "
        f"{saved.procedure.patient.given_name} {saved.procedure.patient.family_name}.",
    )
    return HttpResponseRedirect(page_url(saved.procedure.patient_id))


@role_required(*DESK_ROLES)
def register_patient(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    url = reverse("patient-register")
    if request.method != "POST":
        form = RegistrationForm(today=today)
        _inline_checks(form, url)
        return _form_page(request, form, patient=None)
    form = RegistrationForm(request.POST, today=today)
    _inline_checks(form, url)

    def save(form: RegistrationForm) -> services.PlanResult:
        data = form.cleaned_data
        return services.register_patient_with_procedure(
            record_number=data["record_number"],
            given_name=data["given_name"],
            family_name=data["family_name"],
            birth_date=data["birth_date"],
            surgeon=form.chosen_surgeon(),
            kind=data["kind"],
            surgery_date=data["surgery_date"],
            today=today,
            actor=request.user,  # type: ignore[arg-type]
            contact=form.contact(),
        )

    return _register(request, form, patient=None, save=save)


@role_required(*DESK_ROLES)
def register_procedure(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_for(request, pk, write=True)
    today = clock.today()
    url = reverse("procedure-register", args=[patient.pk])
    data = request.POST if request.method == "POST" else None
    form = ProcedureFields(data, today=today, birth_date=patient.birth_date)
    _inline_checks(form, url)
    if request.method != "POST":
        return _form_page(request, form, patient=patient)

    def save(form: ProcedureFields) -> services.PlanResult:
        return services.create_procedure(
            patient=patient,
            surgeon=form.chosen_surgeon(),
            kind=form.cleaned_data["kind"],
            surgery_date=form.cleaned_data["surgery_date"],
            today=today,
            actor=request.user,  # type: ignore[arg-type]
        )

    return _register(request, form, patient=patient, save=save)
