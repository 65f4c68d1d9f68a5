"""Serve a surgeon's feed of 10,000 visits: against django-ical, memory, a 304.

Run with DATABASE_URL pointing at PostgreSQL::

    PYTHONPATH=. .venv/bin/python bench/feed.py

It never touches the developer's data: it creates and migrates a throwaway
database (`bench_feed_<pid>`) and drops it at the end. It books 10,000 visits
for one surgeon, renders their entries once (as the export task does), then
times, in this one run, through the same middleware and URL resolution
(`django.test.Client`; the figures of a bare WSGI call are printed too):

- the feed, `GET /calendar/<token>.ics` (link lookup, version, throttling,
  the body from this process's memory, validated by the version); the link
  is held in memory after the first poll (`feeds.link_cache`), and the
  figure of a poll that reads it from the database is printed too
  (`feed_link_read_ms`);
- the same events rendered by a django-ical `ICalFeed`;
- the same bytes returned from memory by a trivial view, served like the
  feed ahead of the session middleware (feeds.middleware);
- a conditional request answered 304.

Each figure is the median of several runs. It prints, last,
`feed_vs_django_ical=<x> feed_vs_memory=<y> not_modified_ms=<ms>`; the bars
are x >= 200, y <= 2 and a 304 under 2 ms (exit status 1 when one is missed).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import statistics
import sys
import time
import zoneinfo
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402
from django_ical.views import ICalFeed  # noqa: E402

import config.urls  # noqa: E402
from bench._throwaway_db import run_in_throwaway_db  # noqa: E402
from clinic.models import Patient, Procedure, Surgeon  # noqa: E402
from feeds import links, rendering, versions  # noqa: E402
from feeds.middleware import FAST_PATTERNS  # noqa: E402
from followup.models import FollowUpRule, Visit, VisitStatus  # noqa: E402

VISITS = 10_000
MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
# In UTC: adding minutes to a Madrid wall time would double-book at DST changes.
FIRST_SLOT = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)
BARS = {"feed_vs_django_ical": 200.0, "feed_vs_memory": 2.0, "not_modified_ms": 2.0}

SURGEON_ID = 0
MEMORY_BODY = b""


def memory_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(MEMORY_BODY, content_type="text/calendar; charset=utf-8")


class DjangoIcalFeed(ICalFeed):  # type: ignore[misc]
    """The same events, rendered per request by django-ical."""

    product_id = rendering.PRODID
    timezone = "Europe/Madrid"
    title = "Dr. Bench Surgeon · follow-up visits"

    def items(self) -> Any:
        return (
            Visit.objects.filter(surgeon_id=SURGEON_ID)
            .select_related("rule", "procedure__patient", "surgeon")
            .order_by("pk")
        )

    def item_guid(self, visit: Visit) -> str:
        return rendering.visit_uid(visit)

    def item_title(self, visit: Visit) -> str:
        return f"{visit.rule.name} · {visit.procedure.patient.label()}"

    def item_description(self, visit: Visit) -> str:
        return f"With {visit.surgeon}."

    def item_link(self, visit: Visit) -> str:
        return "/"

    def item_start_datetime(self, visit: Visit) -> dt.datetime | None:
        return visit.start

    def item_end_datetime(self, visit: Visit) -> dt.datetime | None:
        return visit.end

    def item_updateddate(self, visit: Visit) -> dt.datetime:
        return visit.updated_at

    def item_status(self, visit: Visit) -> str:
        return "CONFIRMED"


memory_pattern = path("bench/memory.ics", memory_view)
urlpatterns = [
    memory_pattern,
    path("bench/django-ical.ics", DjangoIcalFeed()),
    # The project's own patterns, not include()d: the feed's URL is then
    # resolved exactly as in production, with no extra level of nesting.
    *config.urls.urlpatterns,
]


def build_visits() -> Surgeon:
    """10,000 booked visits of one surgeon, 5,000 procedures of two visits."""
    # A feed lives only while its surgeon's login is active and a surgeon's.
    login = User.objects.create(username="bench-surgeon")
    login.groups.add(Group.objects.get(name="surgeon"))
    surgeon = Surgeon.objects.create(
        given_name="Bench", family_name="Surgeon", user=login
    )
    patients = Patient.objects.bulk_create(
        Patient(
            record_number=f"F{n:07d}",
            given_name="María",
            family_name="García",
            birth_date=dt.date(1970, 1, 1),
        )
        for n in range(VISITS // 2)
    )
    procedures = Procedure.objects.bulk_create(
        Procedure(
            patient=patient,
            surgeon=surgeon,
            kind="endoscopic",
            surgery_date=dt.date(2026, 11, 20),
        )
        for patient in patients
    )
    rules = list(
        FollowUpRule.objects.filter(code__in=["postop_control", "one_month_control"])
    )
    has_patient = any(field.name == "patient" for field in Visit._meta.fields)
    visits = []
    for index in range(VISITS):
        procedure = procedures[index // 2]
        rule = rules[index % 2]
        start = FIRST_SLOT + dt.timedelta(minutes=30 * index)
        extra = {"patient_id": procedure.patient_id} if has_patient else {}
        visits.append(
            Visit(
                procedure=procedure,
                rule=rule,
                occurrence=1,
                due_date=start.date(),
                window_start=start.date(),
                window_end=start.date(),
                duration_minutes=20,
                status=VisitStatus.BOOKED,
                start=start,
                end=start + dt.timedelta(minutes=20),
                surgeon=surgeon,
                **extra,
            )
        )
    Visit.objects.bulk_create(visits, batch_size=2_000)
    ids = list(Visit.objects.filter(surgeon=surgeon).values_list("pk", flat=True))
    # What the export task does as the visits change: render each entry once.
    for first in range(0, len(ids), 2_000):
        rendering.refresh_entries(Visit(pk=pk) for pk in ids[first : first + 2_000])
    versions.bump(versions.keys_for_visits(ids))
    return surgeon


def call(
    app: WSGIHandler, url: str, **headers: str
) -> tuple[str, dict[str, str], bytes]:
    """One request through the WSGI application, the body read as a server would."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": url,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    for name, value in headers.items():
        environ[f"HTTP_{name.upper()}"] = value
    status: list[str] = []
    answered: dict[str, str] = {}

    def start_response(code: str, response_headers: Any, exc_info: Any = None) -> Any:
        status.append(code)
        answered.update(response_headers)
        return None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return status[0], answered, body


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def medians(actions: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """The median time of each action, run in turns so load hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            times[name].append(_timed(action))
    return {name: statistics.median(values) for name, values in times.items()}


def run() -> dict[str, float]:
    global SURGEON_ID, MEMORY_BODY
    started = time.perf_counter()
    surgeon = build_visits()
    SURGEON_ID = surgeon.pk
    print(
        f"database={connection.vendor} visits={VISITS} "
        f"setup_seconds={time.perf_counter() - started:.1f}"
    )

    app = WSGIHandler()
    feed_url = links.create_link(scope="surgeon", surgeon_id=surgeon.pk).path
    status, headers, body = call(app, feed_url)
    assert status.startswith("200"), status
    assert body.count(b"BEGIN:VEVENT") == VISITS
    MEMORY_BODY = body
    etag = headers["ETag"]
    print(f"feed_bytes={len(body)} cache={settings.CACHES['default']['BACKEND']}")

    ical_status, _, ical_body = call(app, "/bench/django-ical.ics")
    assert ical_status.startswith("200") and ical_body.count(b"BEGIN:VEVENT") == VISITS

    client = Client()
    timed = medians(
        {
            "feed": lambda: client.get(feed_url),
            "memory": lambda: client.get("/bench/memory.ics"),
            "not_modified": lambda: client.get(
                feed_url, headers={"If-None-Match": etag}
            ),
            "wsgi_feed": lambda: call(app, feed_url),
            "wsgi_memory": lambda: call(app, "/bench/memory.ics"),
            "wsgi_not_modified": lambda: call(app, feed_url, if_none_match=etag),
        },
        301,
    )
    assert client.get(feed_url, headers={"If-None-Match": etag}).status_code == 304
    django_ical = medians({"ical": lambda: client.get("/bench/django-ical.ics")}, 3)
    # A link this process does not hold (feeds.link_cache): its row is read.
    settings.FEED_LINK_MEMORY = False
    read = medians({"feed": lambda: client.get(feed_url)}, 301)["feed"] * 1000
    settings.FEED_LINK_MEMORY = True
    ms = {name: value * 1000 for name, value in timed.items()}
    print(
        "django.test.Client: "
        f"feed_ms={ms['feed']:.3f} memory_ms={ms['memory']:.3f} "
        f"not_modified_ms={ms['not_modified']:.3f} "
        f"django_ical_ms={django_ical['ical'] * 1000:.0f} "
        f"feed_link_read_ms={read:.3f}"
    )
    # The bare WSGI call has less fixed cost per request, so the feed's own
    # work weighs more in its ratio: shown too.
    print(
        "bare WSGI call: "
        f"feed_ms={ms['wsgi_feed']:.3f} memory_ms={ms['wsgi_memory']:.3f} "
        f"not_modified_ms={ms['wsgi_not_modified']:.3f} "
        f"feed_vs_memory={ms['wsgi_feed'] / ms['wsgi_memory']:.2f}"
    )
    return {
        "feed_vs_django_ical": django_ical["ical"] / timed["feed"],
        "feed_vs_memory": timed["feed"] / timed["memory"],
        "not_modified_ms": ms["not_modified"],
    }


def main() -> int:
    # This module adds the two comparison views in front of the real URLs.
    settings.ROOT_URLCONF = __name__
    # The memory view is served the way the feed is, ahead of the session
    # middleware (feeds.middleware): the two differ only in the view.
    FAST_PATTERNS.append(memory_pattern)
    settings.ALLOWED_HOSTS = ["*"]
    # Thousands of requests from one address: throttling still runs, never bites.
    settings.FEED_REQUESTS_PER_IP_HOUR = 10**9
    settings.FEED_REQUESTS_PER_TOKEN_HOUR = 10**9
    figures = run_in_throwaway_db("bench_feed", run)
    missed = [
        name
        for name, value in figures.items()
        if (value > BARS[name] if name != "feed_vs_django_ical" else value < BARS[name])
    ]
    if missed:
        print(f"missed bars: {', '.join(missed)}", file=sys.stderr)
    print(
        f"feed_vs_django_ical={figures['feed_vs_django_ical']:.0f} "
        f"feed_vs_memory={figures['feed_vs_memory']:.2f} "
        f"not_modified_ms={figures['not_modified_ms']:.3f}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
