"""The follow-up API's URLs: literal, as SPEC section 7 lists them."""

from django.urls import path

from followup.api import import_jobs, patients, procedures, reports, reviews, visits

urlpatterns = [
    path("patients/", patients.PatientList.as_view(), name="patient-list"),
    path("patients/<int:pk>/", patients.PatientDetail.as_view(), name="patient-detail"),
    path(
        "patients/<int:pk>/mri-studies/",
        patients.PatientMriStudies.as_view(),
        name="patient-mri-studies",
    ),
    path("surgeons/", patients.SurgeonList.as_view(), name="surgeon-list"),
    path("procedures/", procedures.ProcedureList.as_view(), name="procedure-list"),
    path(
        "procedures/import/",
        procedures.ProcedureImport.as_view(),
        name="procedure-import",
    ),
    path(
        "import-jobs/<int:pk>/",
        import_jobs.ImportJobDetail.as_view(),
        name="import-job",
    ),
    path(
        "procedures/<int:pk>/",
        procedures.ProcedureDetail.as_view(),
        name="procedure-detail",
    ),
    path(
        "procedures/<int:pk>/cancel/",
        procedures.ProcedureCancel.as_view(),
        name="procedure-cancel",
    ),
    path(
        "procedures/<int:pk>/end-annual-reviews/",
        procedures.ProcedureEndAnnualReviews.as_view(),
        name="procedure-end-annual-reviews",
    ),
    path("visits/", visits.VisitList.as_view(), name="visit-list"),
    path("visits/<int:pk>/", visits.VisitDetail.as_view(), name="visit-detail"),
    path("visits/<int:pk>/events/", visits.VisitEvents.as_view(), name="visit-events"),
    path(
        "visits/<int:pk>/contact-attempts/",
        visits.VisitContactAttempts.as_view(),
        name="visit-contact-attempts",
    ),
    path("visits/<int:pk>/slots/", visits.VisitSlots.as_view(), name="visit-slots"),
    path("visits/<int:pk>/book/", visits.BookVisit.as_view(), name="visit-book"),
    path(
        "visits/<int:pk>/reschedule/",
        visits.RescheduleVisit.as_view(),
        name="visit-reschedule",
    ),
    path("visits/<int:pk>/unbook/", visits.UnbookVisit.as_view(), name="visit-unbook"),
    path("visits/<int:pk>/cancel/", visits.CancelVisit.as_view(), name="visit-cancel"),
    path(
        "visits/<int:pk>/check-in/",
        visits.CheckInVisit.as_view(),
        name="visit-check-in",
    ),
    path(
        "visits/<int:pk>/no-show/", visits.NoShowVisit.as_view(), name="visit-no-show"
    ),
    path(
        "visits/<int:pk>/complete/",
        visits.CompleteVisit.as_view(),
        name="visit-complete",
    ),
    path("visits/<int:pk>/reopen/", visits.ReopenVisit.as_view(), name="visit-reopen"),
    path(
        "reviews/upcoming/", reviews.UpcomingReviews.as_view(), name="reviews-upcoming"
    ),
    path("reviews/overdue/", reviews.OverdueReviews.as_view(), name="reviews-overdue"),
    path(
        "reports/follow-up/",
        reports.FollowUpReport.as_view(),
        name="report-follow-up",
    ),
    path(
        "reports/follow-up.csv",
        reports.FollowUpReport.as_view(),
        {"format": "csv"},
        name="report-follow-up-csv",
    ),
]
