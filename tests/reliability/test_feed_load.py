"""Load: 200 concurrent conditional and full requests for a surgeon's feed,
side by side with a static file of the same size served by the same
gunicorn (WhiteNoise, which answers If-None-Match with 304 too).

Two modes, each timed in alternating bursts so that a noisy machine
weighs on both targets alike: `304` sends the ETag the target last gave
(If-None-Match), `200` sends none and gets the whole body. Requests ask
for `identity`, so both targets send the same bytes.

feed_vs_static = static requests/s / feed requests/s, the worse of the two
modes: higher is worse, 1.0 is "as cheap as a static file"; the bar (1.5)
is checked by `make reliability`, not here. The client runs on the same
cores as the server, so each burst also records the server's CPU per
request (gunicorn's workers plus PostgreSQL's backends), which the
client's own limits do not distort.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from clinic.models import Patient, Procedure, Surgeon
from feeds import links, rendering, versions
from followup.models import FollowUpRule, Visit, VisitStatus
from tests.feeds.conftest import worker_database_url
from tests.reliability import faults
from tests.reliability.hammer import Burst, hammer
from tests.reliability.record import Row, record_row
from tests.reliability.seeding import FULL_LENGTH, LOAD_SECONDS
from tests.reliability.servers import backend_pids, run_gunicorn

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
CONCURRENCY = 200
# A busy surgeon's calendar: about 390 bytes an event.
VISITS = 1_000 if FULL_LENGTH else 200
FIRST_SLOT = dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC)


def busy_surgeon() -> Surgeon:
    """VISITS booked visits of one surgeon, rendered as the export leaves them."""
    login = User.objects.create(username="feed-surgeon")
    login.groups.add(Group.objects.get(name="surgeon"))
    surgeon = Surgeon.objects.create(given_name="Feed", family_name="Load", user=login)
    patients = Patient.objects.bulk_create(
        Patient(
            record_number=f"L{n:07d}",
            given_name="María",
            family_name="García",
            birth_date=dt.date(1970, 1, 1),
        )
        for n in range(VISITS)
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
    rule = FollowUpRule.objects.get(code="postop_control")
    visits = []
    for index, procedure in enumerate(procedures):
        start = FIRST_SLOT + dt.timedelta(minutes=30 * index)
        visits.append(
            Visit(
                procedure=procedure,
                patient_id=procedure.patient_id,
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
            )
        )
    Visit.objects.bulk_create(visits)
    ids = list(Visit.objects.filter(surgeon=surgeon).values_list("pk", flat=True))
    rendering.refresh_entries(Visit(pk=pk) for pk in ids)
    versions.bump(versions.keys_for_visits(ids))
    return surgeon


def measure(
    urls: dict[str, str], etags: dict[str, str], server: list[int], seconds: float
) -> dict[tuple[str, str], Burst]:
    """Alternating bursts: each round runs every (target, mode) once."""
    rounds = 3 if FULL_LENGTH else 1
    each = max(1.0, seconds / (rounds * 4))
    results: dict[tuple[str, str], Burst] = {}
    for _ in range(rounds):
        for mode in ("304", "200"):
            for target, url in urls.items():
                headers = {"Accept-Encoding": "identity"}
                if mode == "304":
                    headers["If-None-Match"] = etags[target]
                burst = hammer(
                    url,
                    headers=headers,
                    concurrency=CONCURRENCY,
                    seconds=each,
                    server_pids=server,
                )
                results.setdefault((target, mode), Burst()).add(burst)
    return results


def test_a_feed_under_200_concurrent_polls_against_a_static_file(
    web_env: dict[str, str], tmp_path: Path
) -> None:
    surgeon = busy_surgeon()
    feed_path = links.create_link(scope="surgeon", surgeon_id=surgeon.pk).path
    body = Client().get(feed_path, HTTP_ACCEPT_ENCODING="identity").content
    assert body.count(b"BEGIN:VEVENT") == VISITS
    static_root = tmp_path / "static"
    static_root.mkdir()
    (static_root / "feed-sized.ics").write_bytes(body)
    env = {
        **web_env,
        "DJANGO_STATIC_ROOT": str(static_root),
        # One client address polls one token thousands of times a minute
        # here: the feed throttle (120/hour a token) would answer 429.
        "FEED_REQUESTS_PER_TOKEN_HOUR": str(10**9),
        "FEED_REQUESTS_PER_IP_HOUR": str(10**9),
    }
    # As production runs it: gunicorn's default number of workers here.
    with run_gunicorn(env, tmp_path / "gunicorn.log", workers=None) as web:
        urls = {
            "feed": web.url + feed_path,
            "static": web.url + "/static/feed-sized.ics",
        }
        etags = {}
        for target, url in urls.items():
            # Warm-up: every worker opens its connection and holds the body.
            warm = hammer(
                url,
                headers={"Accept-Encoding": "identity"},
                concurrency=20,
                seconds=1.0,
                server_pids=[],
            )
            assert warm.statuses.keys() == {200}, (target, warm.statuses, web.output())
            etags[target] = warm.etag
        assert web.process is not None
        server = [
            *faults.children(web.process.pid),
            *backend_pids(worker_database_url()),
        ]
        results = measure(urls, etags, server, LOAD_SECONDS)

    ratios = {
        mode: results["static", mode].per_second / results["feed", mode].per_second
        for mode in ("304", "200")
    }
    figures = {
        f"{target}_{mode}": {
            "requests_per_s": round(burst.per_second, 1),
            "p99_ms": round(burst.p99_ms(), 1),
            "server_cpu_ms_per_request": round(burst.server_ms_per_request, 3),
            "client_cpu_share": round(burst.client_cpu / burst.seconds, 2),
            "statuses": {str(k): v for k, v in burst.statuses.items()},
        }
        for (target, mode), burst in results.items()
    }
    feed = [burst for (target, _), burst in results.items() if target == "feed"]
    record_row(
        Row(
            test="feed_vs_static",
            load=f"{CONCURRENCY} concurrent, 304s and 200s, {len(body)} B",
            faults="none",
            server_errors=sum(
                n for b in results.values() for s, n in b.statuses.items() if s >= 500
            )
            + sum(b.errors for b in results.values()),
            p99_ms=round(max(b.p99_ms() for b in feed), 1),
            extra={
                "feed_vs_static": round(max(ratios.values()), 2),
                "feed_vs_static_304": round(ratios["304"], 2),
                "feed_vs_static_200": round(ratios["200"], 2),
                "body_bytes": len(body),
                **figures,
            },
        )
    )

    for (target, mode), burst in results.items():
        assert burst.errors == 0, (target, mode)
        assert burst.statuses.keys() == {int(mode)}, (target, mode, burst.statuses)
        if mode == "200":
            assert burst.body_bytes == len(body)
