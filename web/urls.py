"""The people's pages (SPEC section 7): literal URLs."""

from django.urls import path

from web.views import calendar_links, entry, homes, patients, registration

urlpatterns = [
    path("", entry.home, name="home"),
    path("login/", entry.LoginView.as_view(), name="login"),
    path("logout/", entry.LogoutView.as_view(), name="logout"),
    path("desk/", homes.desk, name="desk"),
    path("surgeon/", homes.surgeon, name="surgeon-home"),
    path("calendar-links/", calendar_links.calendar_links, name="calendar-links-page"),
    path(
        "calendar-links/<int:pk>/rotate/",
        calendar_links.rotate,
        name="calendar-link-rotate-page",
    ),
    path(
        "calendar-links/<int:pk>/revoke/",
        calendar_links.revoke,
        name="calendar-link-revoke-page",
    ),
    path("desk/patients/new/", registration.register_patient, name="patient-register"),
    path("desk/patients/<int:pk>/", patients.patient_page, name="patient-page"),
    path(
        "desk/patients/<int:pk>/procedures/new/",
        registration.register_procedure,
        name="procedure-register",
    ),
    path(
        "desk/patients/<int:pk>/calendar-link/",
        patients.create_link,
        name="patient-link-create",
    ),
    path(
        "desk/patients/<int:pk>/calendar-link/<int:link_id>/rotate/",
        patients.rotate_link,
        name="patient-link-rotate",
    ),
    path(
        "desk/patients/<int:pk>/calendar-link/<int:link_id>/revoke/",
        patients.revoke_link,
        name="patient-link-revoke",
    ),
    path("desk/import/", registration.import_csv, name="procedure-import-page"),
]
