"""A rule edit, previewed before it reaches a thousand procedures, then
applied by a resumable job that a second run finds nothing more to do for."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from clinic.models import Procedure
from followup import services
from followup.models import FollowUpRule, ReplanJob, ReplanJobStatus, Visit
from followup.services import plan

pytestmark = pytest.mark.django_db
PROCEDURES = 1000


def import_procedures(count: int) -> None:
    """`count` endoscopic procedures operated a week ago, by CSV import."""
    operated = timezone.localdate() - dt.timedelta(days=7)
    rows = ["record_number,given_name,family_name,birth_date,surgeon,kind,surgery_date"]
    rows += [
        f"R{n:05d},Ana,Garcia,1970-01-01,bench_surgeon,endoscopic,{operated}"
        for n in range(count)
    ]
    services.import_procedures_csv(
        data="\n".join(rows).encode(), actor=None, today=timezone.localdate()
    )


@pytest.fixture
def clinic(clinic_admin: User) -> Client:
    from tests.factories import SurgeonFactory, UserFactory

    SurgeonFactory.create(user=UserFactory.create(username="bench_surgeon"))
    import_procedures(PROCEDURES)
    client = Client()
    client.force_login(clinic_admin)
    return client


def widen_the_one_month_window() -> None:
    FollowUpRule.objects.filter(code="one_month_control").update(window_days_after=10)


def test_the_preview_counts_every_change_and_writes_nothing(clinic: Client) -> None:
    widen_the_one_month_window()
    before = list(Visit.objects.order_by("pk").values_list("pk", "window_end"))

    page = clinic.get("/admin/followup/followuprule/replan/")
    listed = clinic.get("/admin/followup/followuprule/replan/affected.csv")

    assert page.status_code == 200
    text = page.content.decode()
    assert f"{PROCEDURES} active procedures" in text
    assert f"<td>Moved to new dates</td><td>{PROCEDURES}</td>" in text
    assert f"Patients affected ({PROCEDURES})" in text
    assert text.count("admin/clinic/procedure/") == 100  # the first 100 listed
    rows = list(csv.reader(io.StringIO(listed.content.decode())))
    assert len(rows) == PROCEDURES + 1 and rows[1][3] == "moved"
    assert list(Visit.objects.order_by("pk").values_list("pk", "window_end")) == before


def test_applying_runs_a_job_that_shows_progress_and_a_rerun_changes_nothing(
    clinic: Client,
) -> None:
    widen_the_one_month_window()

    applied = clinic.post(
        "/admin/followup/followuprule/replan/", {"rules": preview_shown(clinic)}
    )
    job = ReplanJob.objects.get()
    waiting = clinic.get(applied["Location"])
    services.run_replan_job(job_id=job.pk)  # what the worker does
    done = clinic.get(applied["Location"])

    assert applied.status_code == 302
    assert f"0 of {PROCEDURES} procedures" in waiting.content.decode()
    assert 'http-equiv="refresh"' in waiting.content.decode()
    job.refresh_from_db()
    assert (job.status, job.done, job.visits_changed) == (
        ReplanJobStatus.FINISHED,
        PROCEDURES,
        PROCEDURES,
    )
    assert f"{PROCEDURES} of {PROCEDURES} procedures" in done.content.decode()
    assert 'http-equiv="refresh"' not in done.content.decode()
    windows = set(
        Visit.objects.filter(rule__code="one_month_control").values_list(
            "window_end", "due_date"
        )
    )
    assert all((end - due).days == 10 for end, due in windows)

    again = services.start_replan(actor=None, today=timezone.localdate())
    services.run_replan_job(job_id=again.pk)
    again.refresh_from_db()
    assert (again.done, again.visits_changed) == (PROCEDURES, 0)
    assert (
        clinic.get("/admin/followup/followuprule/replan/")
        .content.decode()
        .count("Nothing: every visit already follows the current rules.")
        == 1
    )


def test_a_job_resumes_where_a_dead_worker_stopped(clinic: Client) -> None:
    widen_the_one_month_window()
    job = services.start_replan(actor=None, today=timezone.localdate())
    halfway = Procedure.objects.order_by("pk").values_list("pk", flat=True)[499]
    # As if a worker had re-planned the first 500 procedures and died.
    for procedure in Procedure.objects.filter(pk__lte=halfway):
        services.replan_all(today=job.today, procedure_ids=[procedure.pk])
    ReplanJob.objects.filter(pk=job.pk).update(
        status=ReplanJobStatus.RUNNING,
        done=500,
        visits_changed=500,
        last_procedure_id=halfway,
    )

    services.run_replan_job(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.done, job.visits_changed) == (
        ReplanJobStatus.FINISHED,
        PROCEDURES,
        PROCEDURES,
    )


def test_only_a_clinic_admin_previews_or_applies(
    clinic: Client, front_desk: User
) -> None:
    desk = Client()
    desk.force_login(front_desk)

    assert desk.get("/admin/followup/followuprule/replan/").status_code in (302, 403)
    assert desk.post("/admin/followup/followuprule/replan/").status_code in (302, 403)
    assert not ReplanJob.objects.exists()


def in_words(day: dt.date) -> str:
    """The clinic's date format ("D j M Y"): Mon 30 Nov 2026."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def test_the_preview_shows_each_visits_old_and_new_date_in_words(
    clinic_admin: User,
) -> None:
    from tests.factories import SurgeonFactory, UserFactory

    SurgeonFactory.create(user=UserFactory.create(username="bench_surgeon"))
    import_procedures(1)
    admin = Client()
    admin.force_login(clinic_admin)
    control = Visit.objects.get(rule__code="one_month_control")
    before = control.due_date
    FollowUpRule.objects.filter(code="one_month_control").update(offset_amount=2)

    page = admin.get("/admin/followup/followuprule/replan/").content.decode()
    plan.replan(
        Procedure.objects.get(),
        today=timezone.localdate(),
        actor=clinic_admin,
        action="replanned",
    )

    control.refresh_from_db()
    after = control.due_date
    assert after != before
    assert (
        f"<li>One-month control: {in_words(before)} → {in_words(after)} "
        '<span class="quiet">(moved to new dates)</span></li>'
    ) in page
    assert before.isoformat() not in page


def preview_shown(clinic: Client) -> str:
    """The digest of the rules the preview page shows, as its Apply posts it."""
    page = clinic.get("/admin/followup/followuprule/replan/").content.decode()
    return page.split('name="rules" value="')[1].split('"')[0]


@pytest.mark.parametrize("sent", [{}, {"rules": ""}, {"rules": " "}])
def test_an_apply_that_does_not_say_which_preview_is_refused_in_words(
    clinic: Client, sent: dict[str, str]
) -> None:
    # An old page or a script: it could re-plan with rules nobody previewed.
    widen_the_one_month_window()
    before = list(Visit.objects.order_by("pk").values_list("pk", "window_end"))

    applied = clinic.post("/admin/followup/followuprule/replan/", sent)

    assert applied.status_code == 409
    text = applied.content.decode()
    assert "This Apply did not say which preview it applies" in text
    assert f"<td>Moved to new dates</td><td>{PROCEDURES}</td>" in text
    assert not ReplanJob.objects.exists()
    assert list(Visit.objects.order_by("pk").values_list("pk", "window_end")) == before


def test_applying_a_preview_of_rules_edited_since_is_refused_in_words(
    clinic: Client,
) -> None:
    seen = preview_shown(clinic)
    before = list(Visit.objects.order_by("pk").values_list("pk", "window_end"))
    widen_the_one_month_window()  # another admin's edit, after the preview

    applied = clinic.post("/admin/followup/followuprule/replan/", {"rules": seen})

    assert applied.status_code == 409
    text = applied.content.decode()
    assert "The follow-up rules changed since this preview was shown" in text
    assert f"<td>Moved to new dates</td><td>{PROCEDURES}</td>" in text
    assert not ReplanJob.objects.exists()
    assert list(Visit.objects.order_by("pk").values_list("pk", "window_end")) == before


def test_applying_a_preview_of_the_current_rules_starts_the_job(
    clinic: Client,
) -> None:
    widen_the_one_month_window()
    seen = preview_shown(clinic)

    applied = clinic.post("/admin/followup/followuprule/replan/", {"rules": seen})

    assert applied.status_code == 302
    assert ReplanJob.objects.count() == 1
