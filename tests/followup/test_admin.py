"""The clinic admin's screens: records saved through the services, the protocol
and consultation sessions refused when they would break a plan."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from clinic.models import Patient, Procedure, Surgeon
from followup import services
from followup.admin.protocol import ConsultationSessionAdmin
from followup.admin.records import SurgeonAdmin
from followup.admin.seen import STALE_EDIT, UNSEEN_EDIT, row_digest
from followup.models import (
    ContactChannel,
    ContactOutcome,
    FollowUpRule,
    RecoveryMilestone,
)
from messaging.models import MessageTemplate
from tests.admin_forms import seen_on
from tests.factories import (
    ConsultationSessionFactory,
    PatientFactory,
    SurgeonFactory,
    UserFactory,
    make_procedure,
)
from tests.racing import at_once, reach_together

pytestmark = pytest.mark.django_db


def _admin_client(client: Client) -> Client:
    client.force_login(
        User.objects.create_superuser("root", "root@clinic.example", "pw-root-1234")
    )
    return client


def rule_form(rule: FollowUpRule, **changes: object) -> dict[str, object]:
    """The rule's admin form as its page shows it (but `seen`), with `changes`."""
    return {
        "code": rule.code,
        "name": rule.name,
        "purpose": rule.purpose,
        "applies_to": rule.applies_to,
        "offset_amount": rule.offset_amount,
        "offset_unit": rule.offset_unit,
        "window_days_before": rule.window_days_before,
        "window_days_after": rule.window_days_after,
        "duration_minutes": rule.duration_minutes,
        "requires_mri": "on" if rule.requires_mri else "",
        "recurring": "on" if rule.recurring else "",
        "active": "on",
        **changes,
    }


def post_rule(client: Client, rule: FollowUpRule, **changes: object) -> str:
    client.force_login(User.objects.create_superuser("root", "r@x.example", "pw-9x!"))
    url = f"/admin/followup/followuprule/{rule.pk}/change/"
    response = client.post(
        url, {"seen": seen_on(client, url), **rule_form(rule, **changes)}
    )
    return response.content.decode() if response.status_code == 200 else ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"offset_amount": 200_000}, "At most 36600 days after surgery."),
        ({"offset_unit": "year", "offset_amount": 500}, "At most 100 years"),
        ({"window_days_after": 5000}, "less than or equal to 366"),
        ({"duration_minutes": 10_000}, "less than or equal to 480"),
    ],
)
def test_a_rule_beyond_the_calendar_is_refused_and_unchanged(
    client: Client, changes: dict[str, object], message: str
) -> None:
    rule = FollowUpRule.objects.get(code="postop_control")

    page = post_rule(client, rule, **changes)

    assert message in page
    assert FollowUpRule.objects.get(pk=rule.pk).as_spec() == rule.as_spec()


def test_a_sensible_rule_edit_is_saved(client: Client) -> None:
    rule = FollowUpRule.objects.get(code="postop_control")

    assert post_rule(client, rule, window_days_after=6) == ""

    assert FollowUpRule.objects.get(pk=rule.pk).window_days_after == 6


def test_a_clinic_admin_can_open_every_admin_list(client: Client) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(User.objects.get(username="admin"))

    for url in (
        "/admin/",
        "/admin/clinic/patient/",
        "/admin/clinic/procedure/",
        "/admin/clinic/surgeon/",
        "/admin/followup/followuprule/",
        "/admin/followup/recoverymilestone/",
        "/admin/followup/visit/",
        f"/admin/clinic/procedure/{Procedure.objects.first().pk}/change/",  # type: ignore[union-attr]
    ):
        assert client.get(url).status_code == 200, url


def test_the_admin_asks_an_anonymous_visitor_to_log_in(client: Client) -> None:
    response = client.get("/admin/clinic/patient/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/clinic/patient/"


def test_renaming_a_patient_in_the_admin_republishes_their_visits(
    client: Client,
) -> None:
    procedure = make_procedure()
    patient = procedure.patient
    before = sorted(procedure.visits.values_list("sequence", flat=True))

    url = f"/admin/clinic/patient/{patient.pk}/change/"
    admin = _admin_client(client)

    response = admin.post(
        url,
        {
            "seen": seen_on(admin, url),
            "record_number": patient.record_number,
            "given_name": "Mariana",
            "family_name": patient.family_name,
            "birth_date": patient.birth_date.isoformat(),
            "reminders": "none",
        },
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.given_name == "Mariana"
    after = sorted(procedure.visits.values_list("sequence", flat=True))
    assert after == [s + 1 for s in before]


def test_a_record_number_typed_in_small_letters_is_saved_in_capitals_or_refused(
    client: Client,
) -> None:
    patient, other = PatientFactory.create_batch(2)
    admin = _admin_client(client)

    def change(who: Patient, number: str) -> HttpResponse:
        url = f"/admin/clinic/patient/{who.pk}/change/"
        return admin.post(  # type: ignore[return-value]
            url,
            {
                "seen": seen_on(admin, url),
                "record_number": number,
                "given_name": who.given_name,
                "family_name": who.family_name,
                "birth_date": who.birth_date.isoformat(),
                "reminders": "none",
            },
        )

    taken = change(other, patient.record_number.lower())
    renamed = change(patient, "h-100231")

    assert taken.status_code == 200
    assert "Patient with this Record number already exists." in taken.text
    assert renamed.status_code == 302
    patient.refresh_from_db()
    assert patient.record_number == "H-100231"


def test_the_admin_refuses_a_procedure_the_service_would_refuse(
    client: Client,
) -> None:
    patient, surgeon = PatientFactory.create(), SurgeonFactory.create()

    response = _admin_client(client).post(
        "/admin/clinic/procedure/add/",
        {
            "patient": patient.pk,
            "surgeon": surgeon.pk,
            "kind": "endoscopic",
            "surgery_date": "2099-01-01",
            "visits-TOTAL_FORMS": "0",
            "visits-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "days ahead; check the year" in response.content.decode()
    assert Procedure.objects.count() == 0


def test_the_admin_cannot_move_a_procedure_to_another_surgeon(client: Client) -> None:
    procedure = make_procedure()
    other = SurgeonFactory.create()

    _admin_client(client).post(
        f"/admin/clinic/procedure/{procedure.pk}/change/",
        {
            "surgeon": other.pk,
            "visits-TOTAL_FORMS": "0",
            "visits-INITIAL_FORMS": "0",
        },
    )

    procedure.refresh_from_db()
    assert procedure.surgeon_id != other.pk


def test_the_admin_refuses_a_future_birth_date_as_a_form_error(
    client: Client,
) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = _admin_client(client).post(
        "/admin/clinic/patient/add/",
        {
            "record_number": "MRN-77",
            "given_name": "Lucia",
            "family_name": "Moreno",
            "birth_date": tomorrow.isoformat(),
            "reminders": "none",
        },
        follow=True,
    )

    page = response.content.decode()
    assert response.redirect_chain == []
    assert f"Birth date {tomorrow} is in the future." in page
    assert 'class="errorlist' in page
    assert not Patient.objects.filter(record_number="MRN-77").exists()
    assert list(get_messages(response.wsgi_request)) == []
    assert "added successfully" not in page


def test_the_admin_refuses_a_number_for_a_name_as_a_form_error(
    client: Client,
) -> None:
    response = _admin_client(client).post(
        "/admin/clinic/patient/add/",
        {
            "record_number": "MRN-78",
            "given_name": "1234",
            "family_name": "Moreno",
            "birth_date": "1970-01-01",
            "reminders": "none",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "given_name &#x27;1234&#x27; is not a name" in response.content.decode()
    assert not Patient.objects.filter(record_number="MRN-78").exists()


def test_the_admin_refuses_a_birth_date_after_the_patients_surgery(
    client: Client,
) -> None:
    procedure = make_procedure()
    patient = procedure.patient
    after_surgery = procedure.surgery_date + dt.timedelta(days=1)

    url = f"/admin/clinic/patient/{patient.pk}/change/"
    admin = _admin_client(client)

    response = admin.post(
        url,
        {
            "seen": seen_on(admin, url),
            "record_number": patient.record_number,
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "birth_date": after_surgery.isoformat(),
            "reminders": "none",
        },
        follow=True,
    )

    assert response.redirect_chain == []
    assert (
        escape(
            f"Birth date {after_surgery} is after the patient's surgery on "
            f"{procedure.surgery_date}."
        )
        in response.content.decode()
    )
    assert list(get_messages(response.wsgi_request)) == []
    born = patient.birth_date
    patient.refresh_from_db()
    assert patient.birth_date == born


def test_a_clinic_admin_edits_sessions_in_the_admin_and_bad_hours_are_refused(
    clinic_admin: User, client: Client
) -> None:
    surgeon = SurgeonFactory.create()
    client.force_login(clinic_admin)
    form = {
        "surgeon": surgeon.pk,
        "weekday": 1,
        "start_time": "16:00",
        "end_time": "15:00",
        "slot_minutes": 10,
    }

    listing = client.get("/admin/followup/consultationsession/")
    refused = client.post("/admin/followup/consultationsession/add/", form)
    created = client.post(
        "/admin/followup/consultationsession/add/", {**form, "end_time": "19:00"}
    )

    assert listing.status_code == 200
    assert refused.status_code == 200
    assert "A session must end after it starts." in refused.content.decode()
    assert created.status_code == 302
    assert [str(s) for s in surgeon.sessions.all()] == [
        "Tuesday 16:00-19:00 every 10 min"
    ]


SESSIONS = "/admin/followup/consultationsession/"


def session_form(surgeon: Surgeon, **changes: object) -> dict[str, object]:
    """The add or change form of a Friday session, as an admin fills it."""
    return {
        "surgeon": surgeon.pk,
        "weekday": 4,
        "start_time": "09:00",
        "end_time": "12:00",
        "slot_minutes": 20,
        "valid_from": "",
        "valid_to": "",
        **changes,
    }


def test_a_session_overlapping_another_of_the_surgeons_is_refused_in_the_admin(
    clinic_admin: User, client: Client
) -> None:
    surgeon = SurgeonFactory.create(given_name="Ana", family_name="Alvarez")
    ConsultationSessionFactory.create(
        surgeon=surgeon,
        weekday=4,
        start_time=dt.time(9),
        end_time=dt.time(12),
        slot_minutes=20,
        valid_from=dt.date(2027, 1, 1),
    )
    client.force_login(clinic_admin)

    refused = client.post(
        f"{SESSIONS}add/", session_form(surgeon, start_time="11:10", end_time="13:00")
    )

    assert refused.status_code == 200
    text = refused.content.decode()
    assert (
        escape(
            f"{surgeon} already consults Fridays 09:00-12:00 (from 2027-01-01), "
            "which overlaps these hours: the slots of both would be offered at "
            "once. Change the hours or the dates, or edit that session instead."
        )
        in text
    )
    assert 'name="start_time" value="11:10"' in text  # what was typed, kept
    assert 'name="end_time" value="13:00"' in text
    assert surgeon.sessions.count() == 1
    # Touching hours, dates apart, another weekday or another surgeon: saved.
    for allowed in (
        session_form(surgeon, start_time="12:00", end_time="14:00"),
        session_form(surgeon, start_time="08:00", end_time="09:00"),
        session_form(surgeon, start_time="10:00", valid_to="2026-12-31"),
        session_form(surgeon, weekday=3),
        session_form(SurgeonFactory.create()),
    ):
        assert client.post(f"{SESSIONS}add/", allowed).status_code == 302, allowed
    assert [str(s) for s in surgeon.sessions.order_by("weekday", "start_time")] == [
        "Thursday 09:00-12:00 every 20 min",
        "Friday 08:00-09:00 every 20 min",
        "Friday 09:00-12:00 every 20 min",
        "Friday 10:00-12:00 every 20 min",
        "Friday 12:00-14:00 every 20 min",
    ]


def test_a_session_too_short_for_the_shortest_visit_is_refused_in_the_admin(
    clinic_admin: User, client: Client
) -> None:
    # The shortest visit of an active rule takes 20 minutes; a rule switched
    # off plans no visit, so its 5 minutes do not count.
    FollowUpRule.objects.filter(code="postop_control").update(duration_minutes=25)
    shortest = FollowUpRule.objects.active().order_by("duration_minutes").first()
    assert shortest is not None and shortest.duration_minutes == 20
    FollowUpRule.objects.create(
        code="retired_check",
        name="Retired check",
        offset_amount=1,
        offset_unit="day",
        window_days_before=0,
        window_days_after=0,
        duration_minutes=5,
        active=False,
    )
    surgeon = SurgeonFactory.create()
    session = ConsultationSessionFactory.create(surgeon=surgeon, weekday=4)
    client.force_login(clinic_admin)
    url = f"{SESSIONS}{session.pk}/change/"

    added = client.post(
        f"{SESSIONS}add/",
        session_form(surgeon, weekday=3, start_time="10:00", end_time="10:05"),
    )
    changed = client.post(
        url,
        session_form(
            surgeon,
            start_time="12:00",
            end_time="12:19",
            slot_minutes=5,
            seen=seen_on(client, url),
        ),
    )
    just_long_enough = client.post(
        f"{SESSIONS}add/",
        session_form(surgeon, weekday=3, start_time="10:00", end_time="10:20"),
    )

    assert added.status_code == 200
    assert (
        escape(
            "This session is 5 minutes long; the shortest visit "
            f"({shortest.name}) takes 20 minutes, so no visit could ever be booked "
            "in it. Make it at least 20 minutes long."
        )
        in added.content.decode()
    )
    assert 'name="end_time" value="10:05"' in added.content.decode()  # kept
    assert changed.status_code == 200
    text = changed.content.decode()
    assert "This session is 19 minutes long" in text
    assert 'name="end_time" value="12:19"' in text
    session.refresh_from_db()
    assert str(session) == "Friday 09:00-14:00 every 10 min"
    assert just_long_enough.status_code == 302
    assert [str(s) for s in surgeon.sessions.filter(weekday=3)] == [
        "Thursday 10:00-10:20 every 20 min"
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_overlapping_hours_at_once_save_one_and_refuse_one(
    clinic_admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    surgeon = SurgeonFactory.create(given_name="Ana", family_name="Alvarez")
    first, second = two_admins(clinic_admin)
    reach_together(monkeypatch, ConsultationSessionAdmin, "save_model")

    def add(client: Client, start: str) -> tuple[str, Any]:
        form = session_form(surgeon, start_time=start, end_time=f"{start[:2]}:50")
        return start, client.post(f"{SESSIONS}add/", form)

    answers = dict(at_once([lambda: add(first, "09:00"), lambda: add(second, "09:30")]))

    kept, refused = saved_and_refused(answers)
    assert "which overlaps these hours" in refused
    assert [f"{s.start_time:%H:%M}" for s in surgeon.sessions.all()] == [kept]


def test_a_session_changed_to_overlap_another_is_refused_and_kept_as_it_was(
    clinic_admin: User, client: Client
) -> None:
    surgeon = SurgeonFactory.create()
    morning = ConsultationSessionFactory.create(
        surgeon=surgeon, weekday=4, start_time=dt.time(9), end_time=dt.time(12)
    )
    afternoon = ConsultationSessionFactory.create(
        surgeon=surgeon, weekday=4, start_time=dt.time(12), end_time=dt.time(14)
    )
    client.force_login(clinic_admin)
    afternoon_url = f"{SESSIONS}{afternoon.pk}/change/"
    morning_url = f"{SESSIONS}{morning.pk}/change/"

    refused = client.post(
        afternoon_url,
        session_form(
            surgeon,
            start_time="11:30",
            end_time="14:00",
            slot_minutes=10,
            seen=seen_on(client, afternoon_url),
        ),
    )
    # Its own hours again (it is not compared with itself): saved.
    saved = client.post(
        morning_url,
        session_form(
            surgeon,
            start_time="08:30",
            slot_minutes=10,
            seen=seen_on(client, morning_url),
        ),
    )

    assert refused.status_code == 200
    text = refused.content.decode()
    assert f"{surgeon} already consults Fridays 09:00-12:00 (always)" in text
    assert 'name="start_time" value="11:30"' in text
    afternoon.refresh_from_db()
    assert str(afternoon) == "Friday 12:00-14:00 every 10 min"
    assert saved.status_code == 302
    morning.refresh_from_db()
    assert str(morning) == "Friday 08:30-12:00 every 10 min"


def test_a_visits_contact_attempts_are_listed_read_only_on_its_admin_page(
    client: Client,
) -> None:
    visit = make_procedure().visits.get(rule__code="postop_control")
    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.CALL_BACK_LATER,
        call_back_on=dt.date(2026, 12, 24),
        note="Ask for the son",
        actor=None,
        now=dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC),
    )

    page = _admin_client(client).get(f"/admin/followup/visit/{visit.pk}/change/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "Call back later" in text
    assert "Ask for the son" in text
    assert 'name="contact_attempts-0-note"' not in text  # shown, not editable


def test_the_admin_refuses_a_record_number_with_a_formula(client: Client) -> None:
    response = _admin_client(client).post(
        "/admin/clinic/patient/add/",
        {
            "record_number": "Z;=1+1;",
            "given_name": "Zoe",
            "family_name": "Moreno",
            "birth_date": "1970-01-01",
            "reminders": "none",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "Record numbers hold letters, digits" in response.content.decode()
    assert not Patient.objects.filter(given_name="Zoe").exists()


def test_the_admin_saves_contact_details_in_e164_and_refuses_sms_to_a_landline(
    client: Client,
) -> None:
    admin_client = _admin_client(client)
    details = {
        "record_number": "MRN-88",
        "given_name": "Lucía",
        "family_name": "Ibáñez",
        "birth_date": "1960-01-01",
        "email": "",
    }

    refused = admin_client.post(
        "/admin/clinic/patient/add/",
        {**details, "phone": "912 34 56 78", "reminders": "sms"},
    )
    saved = admin_client.post(
        "/admin/clinic/patient/add/",
        {**details, "phone": "612 34 56 78", "reminders": "sms"},
    )

    assert refused.status_code == 200
    assert "Reminders by SMS need a mobile number" in refused.content.decode()
    assert saved.status_code == 302
    patient = Patient.objects.get(record_number="MRN-88")
    assert (patient.phone, patient.reminders) == ("+34612345678", "sms")
    listed = admin_client.get("/admin/clinic/patient/", {"q": "lucia ibanez"})
    assert "MRN-88" in listed.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "/admin/auditlog/logentry/?patient=\u00b2",
        "/admin/auditlog/logentry/?actor=\u2460",
        "/admin/clinic/patientview/?patient=\u00b2",
        "/admin/clinic/patientview/?viewer=\u00b9",
        "/admin/clinic/patientread/?patient=\u00b3",
        "/admin/clinic/patientread/?reader=\u00b2",
    ],
)
def test_an_audit_filter_of_a_digit_that_is_no_number_finds_nothing(
    clinic_admin: User, client: Client, query: str
) -> None:
    client.force_login(clinic_admin)

    response = client.get(query)

    assert response.status_code == 200


def test_saving_a_rule_over_another_admins_edit_since_is_refused_in_words(
    clinic_admin: User, client: Client
) -> None:
    rule = FollowUpRule.objects.get(code="postop_control")
    client.force_login(clinic_admin)
    seen = seen_on(client, f"/admin/followup/followuprule/{rule.pk}/change/")
    # Another admin widens the window meanwhile.
    assert post_rule(Client(), rule, window_days_after=9) == ""

    refused = client.post(
        f"/admin/followup/followuprule/{rule.pk}/change/",
        {
            **rule_form(rule, name="Post-op check, renamed"),
            "seen": seen,
        },
    )

    assert refused.status_code == 200
    text = refused.content.decode()
    assert "Someone else changed this since you opened it" in text
    assert "Post-op check, renamed" in text  # what was typed, kept
    saved = FollowUpRule.objects.get(pk=rule.pk)
    assert (saved.name, saved.window_days_after) == (rule.name, 9)


def saved_and_refused(answers: dict[str, Any]) -> tuple[str, str]:
    """Of two saves sent at once (what each typed: its answer), what the one
    saved typed, and the page that refused the other."""
    statuses = {typed: answer.status_code for typed, answer in answers.items()}
    assert sorted(statuses.values()) == [200, 302]
    kept = next(typed for typed, status in statuses.items() if status == 302)
    refused = next(answer for answer in answers.values() if answer.status_code == 200)
    return kept, refused.content.decode()


def two_admins(clinic_admin: User) -> tuple[Client, Client]:
    first, second = Client(), Client()
    first.force_login(clinic_admin)
    second.force_login(
        UserFactory.create(username="admin_2", group="clinic_admin", is_staff=True)
    )
    return first, second


def test_saving_a_surgeon_over_another_admins_rename_is_refused_in_words(
    clinic_admin: User,
) -> None:
    surgeon = SurgeonFactory.create(given_name="Ana", family_name="Alvarez")
    url = f"/admin/clinic/surgeon/{surgeon.pk}/change/"
    first, second = two_admins(clinic_admin)
    form = {"user": "", "given_name": "Ana", "family_name": "Alvarez", "active": "on"}
    first_seen, second_seen = seen_on(first, url), seen_on(second, url)

    renamed = first.post(url, {**form, "given_name": "Anabel", "seen": first_seen})
    refused = second.post(
        url, {**form, "family_name": "Álvarez Ruiz", "seen": second_seen}
    )

    assert renamed.status_code == 302
    assert refused.status_code == 200
    text = refused.content.decode()
    assert escape(STALE_EDIT) in text
    assert 'value="Álvarez Ruiz"' in text  # what was typed, kept
    surgeon.refresh_from_db()
    assert (surgeon.given_name, surgeon.family_name) == ("Anabel", "Alvarez")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_saving_the_same_surgeon_at_once_keep_one_edit_and_refuse_one(
    clinic_admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both pages show the same row and both press Save at the same moment:
    # each save is checked, then written, while the other is being checked.
    surgeon = SurgeonFactory.create(given_name="Ana", family_name="Alvarez")
    url = f"/admin/clinic/surgeon/{surgeon.pk}/change/"
    first, second = two_admins(clinic_admin)
    form = {"user": "", "given_name": "Ana", "family_name": "Alvarez", "active": "on"}
    seen = seen_on(first, url), seen_on(second, url)
    reach_together(monkeypatch, SurgeonAdmin, "save_model")

    def save(client: Client, name: str, seen: str) -> tuple[str, Any]:
        return name, client.post(url, {**form, "given_name": name, "seen": seen})

    answers = dict(
        at_once(
            [
                lambda: save(first, "Anabel", seen[0]),
                lambda: save(second, "Anita", seen[1]),
            ]
        )
    )

    kept, refused = saved_and_refused(answers)
    assert escape(STALE_EDIT) in refused
    surgeon.refresh_from_db()
    assert surgeon.given_name == kept


def test_saving_a_patient_over_another_admins_correction_is_refused_in_words(
    clinic_admin: User,
) -> None:
    patient = PatientFactory.create(
        given_name="Lucia", family_name="Ibanez", birth_date=dt.date(1960, 1, 1)
    )
    url = f"/admin/clinic/patient/{patient.pk}/change/"
    first, second = two_admins(clinic_admin)
    form = {
        "record_number": patient.record_number,
        "given_name": "Lucia",
        "family_name": "Ibanez",
        "birth_date": "1960-01-01",
        "phone": "",
        "email": "",
        "reminders": "none",
    }
    first_seen, second_seen = seen_on(first, url), seen_on(second, url)

    corrected = first.post(url, {**form, "given_name": "Lucía", "seen": first_seen})
    refused = second.post(
        url, {**form, "birth_date": "1961-01-01", "seen": second_seen}
    )

    assert corrected.status_code == 302
    assert refused.status_code == 200
    text = refused.content.decode()
    assert escape(STALE_EDIT) in text
    assert 'value="1961-01-01"' in text  # what was typed, kept
    patient.refresh_from_db()
    assert (patient.given_name, patient.birth_date) == ("Lucía", dt.date(1960, 1, 1))


def test_a_wrong_number_noted_by_the_desk_does_not_stale_the_patients_admin_page(
    clinic_admin: User, front_desk: User
) -> None:
    """The hold is not on the form, so the admin's save cannot undo it."""
    patient = PatientFactory.create(
        phone="+34612345678", birth_date=dt.date(1960, 1, 1)
    )
    visit = make_procedure(patient=patient).visits.get(rule__code="postop_control")
    url = f"/admin/clinic/patient/{patient.pk}/change/"
    first, _ = two_admins(clinic_admin)
    seen = seen_on(first, url)
    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.WRONG_NUMBER,
        call_back_on=None,
        note="",
        actor=front_desk,
        now=timezone.now(),
    )

    saved = first.post(
        url,
        {
            "record_number": patient.record_number,
            "given_name": "Marta",
            "family_name": patient.family_name,
            "birth_date": "1960-01-01",
            "phone": "612 34 56 78",
            "email": "",
            "reminders": "none",
            "seen": seen,
        },
    )

    assert saved.status_code == 302
    patient.refresh_from_db()
    assert (patient.given_name, patient.wrong_phone) == ("Marta", "+34612345678")


def changes_typed_in_every_seen_form() -> list[
    tuple[str, Model, dict[str, object], str]
]:
    """Each admin change form that guards against a stale page: its address,
    its row, a valid change typed into it, and that change as the form shows
    it."""
    rule = FollowUpRule.objects.get(code="postop_control")
    milestone = RecoveryMilestone.objects.first()
    assert milestone is not None
    surgeon = SurgeonFactory.create(given_name="Ana", family_name="Alvarez")
    patient = PatientFactory.create(birth_date=dt.date(1960, 1, 1))
    session = ConsultationSessionFactory.create(surgeon=surgeon, weekday=4)
    template = MessageTemplate.objects.get(kind="reminder", channel="sms")
    return [
        (
            f"/admin/followup/followuprule/{rule.pk}/change/",
            rule,
            {
                **rule_form(rule, name="Post-op check, renamed"),
            },
            "Post-op check, renamed",
        ),
        (
            f"/admin/followup/recoverymilestone/{milestone.pk}/change/",
            milestone,
            {
                "code": milestone.code,
                "title": "Back to the gym, renamed",
                "applies_to": milestone.applies_to,
                "offset_amount": milestone.offset_amount,
                "offset_unit": milestone.offset_unit,
                "active": "on",
            },
            "Back to the gym, renamed",
        ),
        (
            f"/admin/clinic/surgeon/{surgeon.pk}/change/",
            surgeon,
            {"user": "", "given_name": "Ana", "family_name": "Renamed", "active": "on"},
            'value="Renamed"',
        ),
        (
            f"/admin/clinic/patient/{patient.pk}/change/",
            patient,
            {
                "record_number": patient.record_number,
                "given_name": "Renamed",
                "family_name": patient.family_name,
                "birth_date": "1960-01-01",
                "phone": "",
                "email": "",
                "reminders": "none",
            },
            'value="Renamed"',
        ),
        (
            f"{SESSIONS}{session.pk}/change/",
            session,
            session_form(surgeon, start_time="09:40"),
            'name="start_time" value="09:40"',
        ),
        (
            f"/admin/messaging/messagetemplate/{template.pk}/change/",
            template,
            {
                "kind": template.kind,
                "channel": template.channel,
                "active": "on" if template.active else "",
                "offset_days": template.offset_days,
                "send_time": f"{template.send_time:%H:%M}"
                if template.send_time
                else "",
                "subject": template.subject,
                "text": "Renamed {{ day }}.",
            },
            "Renamed {{ day }}.",
        ),
    ]


@pytest.mark.parametrize(
    "seen",
    [None, "", "not-a-digest", "0123456789abcdef0"],
    ids=["absent", "empty", "malformed", "too-long"],
)
def test_a_change_posted_without_the_page_it_was_made_on_is_refused_in_words(
    clinic_admin: User, client: Client, seen: str | None
) -> None:
    # An old tab, a script or a hand-made POST: nothing says what its sender
    # saw, so it could undo another admin's edit unseen.
    client.force_login(clinic_admin)

    for url, row, typed, kept in changes_typed_in_every_seen_form():
        row.refresh_from_db()
        stored = row_digest(row)
        sent = typed if seen is None else {**typed, "seen": seen}

        refused = client.post(url, sent)

        assert refused.status_code == 200, url
        text = refused.content.decode()
        assert escape(UNSEEN_EDIT) in text, url
        assert kept in text, url  # what was typed, kept
        row.refresh_from_db()
        assert row_digest(row) == stored, url
        # The same change from the page as shown: saved.
        saved = client.post(url, {**typed, "seen": seen_on(client, url)})
        assert saved.status_code == 302, url
