"""`/healthz` for a load balancer: JSON, 200 when healthy, 503 otherwise.

No login, no session, no throttle: it answers the same to anyone, with
counts and ages only (`ops.health`), and costs two small queries and a broker
connection.
"""

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ops.health import health


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    report = health(now=timezone.now())
    return JsonResponse(report.as_dict(), status=200 if report.healthy else 503)
