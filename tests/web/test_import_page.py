"""The import page for big files (a job with a progress bar) and its throttle.

IMPORT_SYNC_MAX_ROWS is 2 here, so a few rows make a "big" file. The job is
run by calling its service (its task is only sent after a commit, which a
test's transaction never does).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from clinic.models import Patient, Surgeon
from followup import services
from followup.models import ImportJob
from tests.factories import UserFactory
from tests.followup.world import NOW

pytestmark = pytest.mark.django_db

HEADER = "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"


def csv_rows(count: int, *, bad_line: int | None = None) -> bytes:
    lines = [HEADER]
    for n in range(1, count + 1):
        born = "1970-02-30" if n + 1 == bad_line else "1970-05-17"
        lines.append(f"K{n:05d},Ana,Ruiz,{born},surgeon_a,endoscopic,2026-11-02\n")
    return "".join(lines).encode()


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)
    settings.IMPORT_SYNC_MAX_ROWS = 2
    cache.clear()  # the throttle's counts


def upload(client: Client, content: bytes, name: str = "big.csv") -> Any:
    return client.post(
        "/desk/import/", {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_a_big_file_goes_to_a_job_whose_page_shows_a_progress_bar(
    desk: Client, surgeon_a: Surgeon
) -> None:
    response = upload(desk, csv_rows(5))

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/desk/import/jobs/{job.pk}/"
    page = desk.get(response["Location"]).content.decode()
    assert '<progress id="import-progress" max="5" value="0">' in page
    assert "0 of 5 rows" in page
    # htmx polls the section; without JavaScript the page refreshes itself.
    assert f'hx-get="/desk/import/jobs/{job.pk}/" hx-trigger="every 2s"' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert f'<a href="/desk/import/jobs/{job.pk}/">Refresh</a>' in page
    section = desk.get(f"/desk/import/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert section.content.decode().lstrip().startswith('<div id="import-job"')


def test_a_finished_job_page_shows_the_counts_how_it_read_the_file_and_stops_refreshing(
    desk: Client, surgeon_a: Surgeon
) -> None:
    upload(desk, csv_rows(5))
    job = ImportJob.objects.get()

    services.run_import_job(job_id=job.pk, now=NOW)

    page = desk.get(f"/desk/import/jobs/{job.pk}/").content.decode()
    assert "Imported big.csv" in page
    assert "<dt>Procedures registered</dt><dd>5</dd>" in page
    assert "Read as a comma-separated file with dates as yyyy-mm-dd." in page
    api = desk.get(f"/api/import-jobs/{job.pk}/").json()
    assert api["result"]["read_as"] == {"separator": ",", "dates": "yyyy-mm-dd"}
    assert "<progress" not in page
    assert "hx-trigger" not in page
    assert "http-equiv" not in page


def test_a_failed_job_page_lists_the_problems_by_line(
    desk: Client, surgeon_a: Surgeon
) -> None:
    upload(desk, csv_rows(5, bad_line=4))
    job = ImportJob.objects.get()

    services.run_import_job(job_id=job.pk, now=NOW)

    page = desk.get(f"/desk/import/jobs/{job.pk}/").content.decode()
    assert "Nothing was imported from big.csv" in page
    assert '<td class="line">4</td>' in page
    assert "is not a real date" in page
    assert not Patient.objects.filter(record_number__startswith="K").exists()


def test_a_job_page_is_not_found_for_another_clerk(
    desk: Client, surgeon_a: Surgeon, client: Client
) -> None:
    upload(desk, csv_rows(5))
    job = ImportJob.objects.get()
    other = Client()
    other.force_login(UserFactory.create(username="desk_2", group="front_desk"))

    assert other.get(f"/desk/import/jobs/{job.pk}/").status_code == 404


def test_a_small_file_is_still_imported_at_once_on_the_page(
    desk: Client, surgeon_a: Surgeon
) -> None:
    response = upload(desk, csv_rows(2), name="small.csv")

    assert response.status_code == 200
    assert "Imported small.csv" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_page_says_how_it_read_a_spanish_excel_file(
    desk: Client, surgeon_a: Surgeon
) -> None:
    excel = (
        "record_number;given_name;family_name;birth_date;surgeon;kind;surgery_date\r\n"
        "K1;Ana;Ruiz;17/05/1970;Ana Alvarez;endoscopic;2/11/2026\r\n"
    ).encode("utf-8-sig")

    page = upload(desk, excel, name="excel.csv").content.decode()

    assert "Imported excel.csv" in page
    assert "Read as a semicolon-separated file with dates as dd/mm/yyyy." in page
    assert Patient.objects.get().record_number == "K1"


def test_the_page_tells_what_a_file_may_look_like(desk: Client) -> None:
    page = desk.get("/desk/import/").content.decode()

    assert "dd/mm/yyyy" in page
    assert "semicolons" in page
    assert "full name" in page


def test_the_page_is_throttled_like_the_api_and_says_when_to_retry(
    desk: Client, surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "import", "2/hour")
    first, second = (upload(desk, csv_rows(1), name=f"f{n}.csv") for n in (1, 2))
    # The API draws on the same allowance.
    third = desk.post(
        "/api/procedures/import/", data=csv_rows(1), content_type="text/csv"
    )

    refused = upload(desk, csv_rows(5, bad_line=None), name="big.csv")

    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    page = refused.content.decode()
    assert "You have imported many files in a short time" in page
    assert "Nothing was imported" in page
    assert '<input type="file"' in page  # the form is there to try again
    assert not ImportJob.objects.exists()


def test_a_clerk_saving_a_file_again_until_it_is_right_is_not_locked_out(
    desk: Client, surgeon_a: Surgeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "import", "2/hour")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "import_refused", "4/hour")
    wrong_columns = b"record;name;born\nK00001;Ana;17/05/1970\n"

    refused = [
        upload(desk, wrong_columns, name="take1.csv"),
        upload(desk, HEADER.encode("utf-16"), name="take2.csv"),
        desk.post("/desk/import/", {}),  # no file chosen
    ]
    imported = upload(desk, csv_rows(1), name="take4.csv")
    refused.append(upload(desk, wrong_columns, name="take1-again.csv"))
    # Refused files past their own allowance: no upload is read, here nor
    # through the API, until the hour has room again.
    flood = upload(desk, wrong_columns, name="take5.csv")
    api = desk.post("/api/procedures/import/", data=b"a,b\n", content_type="text/csv")

    assert [r.status_code for r in refused] == [400, 400, 400, 400]
    assert imported.status_code == 200
    assert Patient.objects.filter(record_number="K00001").exists()
    assert (flood.status_code, api.status_code) == (429, 429)
    page = flood.content.decode()
    assert "Many of your files were refused in a short time" in page
    assert "Nothing was imported" in page
    assert 0 < int(flood["Retry-After"]) <= 3600


def test_a_job_finished_before_read_as_was_recorded_still_shows(
    desk: Client, front_desk: User
) -> None:
    counts = {
        "rows": 1,
        "patients_created": 1,
        "procedures_created": 1,
        "visits_created": 2,
        "unchanged": 0,
    }
    job = ImportJob.objects.create(
        created_by=front_desk,
        file_name="old.csv",
        today=NOW.date(),
        data=b"",
        rows=1,
        touched_at=NOW,
        state="done",
        result=counts,
    )

    page = desk.get(f"/desk/import/jobs/{job.pk}/").content.decode()
    api = desk.get(f"/api/import-jobs/{job.pk}/").json()

    assert "<dt>Visits planned</dt><dd>2</dd>" in page
    assert "Read as" not in page
    assert api["result"] == {**counts, "read_as": None}
