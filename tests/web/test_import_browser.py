"""A big CSV import in Chromium: the job's progress bar moves by htmx polling
and turns into the counts when the job ends, with no reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from followup import services
from followup.models import ImportJob
from tests.followup.world import NOW
from tests.web.conftest import assert_no_serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date\n"
BIG_CSV = HEADER + "".join(
    f"L{n:05d},Ana,Ruiz,1970-05-17,surgeon_a,endoscopic,2026-11-02\n"
    for n in range(1, 6)
)


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setattr("clinic.clock.now", lambda: NOW)
    settings.IMPORT_SYNC_MAX_ROWS = 2
    # This test plays the worker.
    monkeypatch.setattr(
        "followup.tasks.run_import_job.delay_on_commit", lambda job_id: None
    )


def test_a_big_import_shows_its_progress_then_its_counts(
    new_page: Callable[..., Any], cast: dict[str, User]
) -> None:
    page = new_page(user=cast["front_desk"])
    page.goto("/desk/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": BIG_CSV.encode()}]
    )
    page.get_by_role("button", name="Import").click()

    bar = page.locator("progress#import-progress")
    expect(bar).to_have_attribute("max", "5")
    expect(bar).to_have_attribute("value", "0")
    assert_no_serious_axe_violations(page)
    job = ImportJob.objects.get()

    ImportJob.objects.filter(pk=job.pk).update(state="running", done_rows=3)
    expect(bar).to_have_attribute("value", "3", timeout=10_000)
    expect(page.get_by_text("3 of 5 rows")).to_be_visible()

    ImportJob.objects.filter(pk=job.pk).update(state="queued")
    services.run_import_job(job_id=job.pk, now=NOW)
    result = page.locator(".import-result")
    expect(result).to_contain_text("Imported big.csv", timeout=10_000)
    procedures = result.locator("div", has_text="Procedures registered")
    expect(procedures.locator("dd")).to_have_text("5")
    expect(bar).to_have_count(0)
