"""The OpenAPI schema is served, and schemathesis finds no server error and no
response that breaks it, over every operation, in-process.

The schema is loaded from `/api/schema/` through the WSGI application as a
clinic admin with a token. Paths with an id hit a real, seeded object for
most examples (random ids alone would only ever test the 404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from knox.models import AuthToken
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    positive_data_acceptance,
)

from clinic.models import ProcedureKind, Surgeon
from config.wsgi import application
from followup.models import VisitStatus
from tests.api.conftest import World, put_in_state
from tests.factories import make_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_token(clinic_admin: Any) -> str:
    return str(AuthToken.objects.create(user=clinic_admin)[1])


@pytest.fixture
def seeded_ids(world: World, surgeon_a: Surgeon) -> dict[str, list[int]]:
    """Objects in several states, so ids in paths reach real rows."""
    booked = make_procedure(
        surgeon=surgeon_a,
        surgery_date=dt.date(2026, 11, 21),
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
    )
    booked_visit = booked.visits.get(rule__code="postop_control")
    put_in_state(
        booked_visit,
        VisitStatus.BOOKED,
        start=dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC),
    )
    return {
        "patients": [world.patient_a.pk, world.patient_b.pk, booked.patient_id],
        "procedures": [world.procedure_a.pk, world.procedure_b.pk, booked.pk],
        "visits": [world.visit_a.pk, world.visit_b.pk, booked_visit.pk],
    }


@pytest.fixture
def _connection_kept_open() -> Iterator[None]:
    # Through the WSGI handler, the end of a request closes a connection that
    # is inside a transaction: the test's own. Django's test client unhooks
    # the same handler for the same reason.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(
    _connection_kept_open: None,
    admin_token: str,
    seeded_ids: dict[str, list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    # Hundreds of generated requests from one user: not what throttles guard.
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "100000/minute")
    for scope in ("import", "import_refused"):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "100000/minute")
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        application,
        headers={"Authorization": f"Token {admin_token}"},
    )


def with_real_id(case: Any, seeded_ids: dict[str, list[int]]) -> None:
    """Point three of four generated ids at a seeded object of the path's kind."""
    pk = case.path_parameters.get("id") if case.path_parameters else None
    collection = case.path.split("/")[2]
    if isinstance(pk, int) and pk % 4 != 0 and collection in seeded_ids:
        known = seeded_ids[collection]
        case.path_parameters["id"] = known[pk % len(known)]


# `@schema.parametrize()` over `schemathesis.pytest.from_fixture` would be the
# usual shape, but its lazy loader sets `Function._nodeid`, which pytest 9 no
# longer has; loading the schema inside the test (where the database and the
# token exist) and running each operation's strategy does the same work.
EXAMPLES_PER_MODE = 8
# Not checked here: whether auth is enforced (test_roles tries every endpoint
# anonymously and with a bad token), and whether every schema-valid body is
# accepted (a valid-looking id or date can still break a clinic rule: 400).
NOT_CHECKED = [ignored_auth, positive_data_acceptance]


def test_the_api_never_errors_and_keeps_to_its_schema(
    api_schema: Any, admin_token: str, seeded_ids: dict[str, list[int]]
) -> None:
    headers = {"Authorization": f"Token {admin_token}"}
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 23

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
            )
            def run(case: Any) -> None:
                with_real_id(case, seeded_ids)
                case.call_and_validate(headers=headers, excluded_checks=NOT_CHECKED)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode.value}): {exc}")

    assert not failures, "\n\n".join(failures)


def test_the_schema_names_every_endpoint_of_the_contract(
    client_for: Any, world: World
) -> None:
    body = client_for("front_desk").get("/api/schema/?format=json").json()

    assert set(body["paths"]) >= {
        "/api/patients/",
        "/api/patients/{id}/",
        "/api/patients/{id}/mri-studies/",
        "/api/surgeons/",
        "/api/procedures/",
        "/api/procedures/{id}/",
        "/api/procedures/{id}/cancel/",
        "/api/procedures/{id}/end-annual-reviews/",
        "/api/procedures/import/",
        "/api/visits/",
        "/api/visits/{id}/",
        "/api/visits/{id}/events/",
        "/api/visits/{id}/slots/",
        "/api/visits/{id}/book/",
        "/api/visits/{id}/reschedule/",
        "/api/visits/{id}/unbook/",
        "/api/visits/{id}/cancel/",
        "/api/visits/{id}/check-in/",
        "/api/visits/{id}/no-show/",
        "/api/visits/{id}/complete/",
        "/api/visits/{id}/contact-attempts/",
        "/api/visits/{id}/messages/",
        "/api/patients/{id}/messages/",
        "/api/replies/",
        "/api/replies/{id}/resolve/",
        "/api/reviews/upcoming/",
        "/api/reviews/overdue/",
    }
    visit = body["components"]["schemas"]["Visit"]["properties"]
    assert set(visit) >= {
        "id",
        "procedure",
        "patient",
        "rule",
        "occurrence",
        "status",
        "fhir_status",
        "due_date",
        "window_start",
        "window_end",
        "requires_mri",
        "mri_status",
        "start",
        "end",
        "surgeon",
        "needs_rebooking",
        "confirmed",
        "confirmed_at",
        "sequence",
        "export_state",
    }


def test_every_operation_documents_the_refusals_any_call_can_meet(
    client_for: Any, world: World
) -> None:
    body = client_for("front_desk").get("/api/schema/?format=json").json()
    operations = [
        (f"{method.upper()} {path}", operation["responses"])
        for path, methods in body["paths"].items()
        for method, operation in methods.items()
        if isinstance(operation, dict) and "responses" in operation
    ]

    assert len(operations) > 20
    for name, responses in operations:
        assert {"403", "429", "503"} <= set(responses), name
    busy = body["paths"]["/api/visits/"]["get"]["responses"]["503"]
    assert "Retry-After" in busy["description"]


def test_the_schema_gives_the_page_size_bounds_the_api_enforces(
    client_for: Any, world: World
) -> None:
    body = client_for("front_desk").get("/api/schema/?format=json").json()
    paged = [
        (path, parameter["schema"])
        for path, methods in body["paths"].items()
        for operation in methods.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "page_size"
    ]

    assert {path for path, _ in paged} >= {"/api/visits/", "/api/patients/"}
    for _, schema in paged:
        assert (schema["minimum"], schema["maximum"]) == (1, 500)
    client = client_for("front_desk")
    assert client.get("/api/visits/?page_size=500").status_code == 200
    assert client.get("/api/visits/?page_size=501").status_code == 400
    assert client.get("/api/visits/?page_size=0").status_code == 400
    # Digits to str.isdigit that are not ASCII ("²", Arabic-Indic ten), and
    # more than int() reads.
    for odd in ("²", "\u0661\u0660", "9" * 5000):
        assert client.get(f"/api/visits/?page_size={odd}").status_code == 400, odd
