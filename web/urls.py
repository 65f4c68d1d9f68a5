"""The people's pages (SPEC section 7): literal URLs."""

from django.urls import URLPattern, path

from web import visit_actions as rows
from web.account import views as account
from web.appointments import views as appointments
from web.desk import export as desk_export
from web.desk import views as desk
from web.links import views as links
from web.patient_link import urls as patient_link_urls
from web.patients import imports, registration
from web.patients import views as patients
from web.replies import views as replies
from web.reports import views as reports
from web.surgeon import views as surgeon
from web.visit_page import VISIT_PAGE, make_booking_link

# The pages a visit's row is shown on: its actions go back to the one it came from.
ROW_PLACES = {
    "places": rows.Places(
        default=desk.DESK, visit_page=VISIT_PAGE, others=(appointments.APPOINTMENTS,)
    )
}


def _link_moves(prefix: str, place: object, name: str) -> list[URLPattern]:
    """The rotate and revoke URLs of a page's links; `name` takes the move."""
    return [
        path(
            f"{prefix}<int:link_id>/{move}/",
            links.change,
            {"place": place, "move": move},
            name=name.format(move=move),
        )
        for move in links.MOVES
    ]


urlpatterns = [
    path("", account.home, name="home"),
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.LogoutView.as_view(), name="logout"),
    path(
        "account/password/",
        account.PasswordChangeView.as_view(),
        name="account-password",
    ),
    path("account/two-factor/", account.two_factor, name="account-two-factor"),
    path(
        "account/two-factor/verify/", account.verify, name="account-two-factor-verify"
    ),
    path("desk/", desk.desk, name="desk"),
    path("desk/list.csv", desk_export.desk_csv, name="desk-csv"),
    path("desk/appointments/", appointments.appointments, name="appointments"),
    path(
        "desk/appointments.csv",
        appointments.appointments_csv,
        name="appointments-csv",
    ),
    path("desk/replies/", replies.replies_page, name="desk-replies"),
    path("desk/replies/<int:pk>/resolve/", replies.resolve, name="desk-reply-resolve"),
    path("desk/visits/<int:pk>/", rows.visit_row, ROW_PLACES, name="desk-visit"),
    *(
        path(f"desk/visits/<int:pk>/{slug}/", view, ROW_PLACES, name=f"desk-{slug}")
        for slug, view in (
            ("book", rows.book),
            ("reschedule", rows.reschedule),
            ("unbook", rows.unbook),
            ("cancel", rows.cancel),
            ("check-in", rows.check_in),
            ("no-show", rows.no_show),
            ("contact", rows.contact),
        )
    ),
    path("desk/visits/<int:pk>/complete/", desk.complete, name="desk-complete"),
    path(
        "desk/visits/<int:pk>/booking-link/",
        make_booking_link,
        name="desk-booking-link",
    ),
    path("surgeon/", surgeon.home, name="surgeon-home"),
    path(
        "surgeon/visits/<int:pk>/complete/", surgeon.complete, name="surgeon-complete"
    ),
    path(
        "surgeon/procedures/<int:pk>/end-annual-reviews/",
        surgeon.end_annual_reviews,
        name="surgeon-end-annual-reviews",
    ),
    path("calendar-links/", links.calendar_links, name="calendar-links-page"),
    *_link_moves("calendar-links/", links.OWN_LINKS, "calendar-link-{move}-page"),
    path("desk/patients/new/", registration.register_patient, name="patient-register"),
    path("desk/patients/<int:pk>/", patients.patient_page, name="patient-page"),
    # What the desk does from a patient's page, each a form posting to its
    # own URL under the patient's.
    *(
        path(f"desk/patients/<int:pk>/{rest}", view, name=name)
        for rest, view, name in (
            (
                "visits/<int:visit_id>/contact/",
                patients.record_contact,
                "patient-contact",
            ),
            (
                "contact-details/",
                patients.set_contact_details,
                "patient-contact-details",
            ),
            ("visits/<int:visit_id>/reopen/", patients.reopen_visit, "patient-reopen"),
            ("mri-studies/", patients.record_mri_study, "patient-mri-study"),
            (
                "mri-studies/<int:study_id>/report/",
                patients.record_mri_report,
                "patient-mri-report",
            ),
            ("procedures/new/", registration.register_procedure, "procedure-register"),
        )
    ),
    path(
        "desk/patients/<int:pk>/calendar-link/",
        links.create,
        {"place": patients.PATIENT_LINKS},
        name="patient-link-create",
    ),
    *_link_moves(
        "desk/patients/<int:pk>/calendar-link/",
        patients.PATIENT_LINKS,
        "patient-link-{move}",
    ),
    path("desk/import/", imports.import_csv, name="procedure-import-page"),
    path("desk/import/jobs/<int:pk>/", imports.import_job_page, name="import-job-page"),
    path("reports/", reports.reports_page, name="reports-page"),
    # The patient's booking page: no login, the token is the key.
    *patient_link_urls.page_patterns,
]
