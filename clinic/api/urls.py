"""Patient, surgeon and procedure URLs: literal, as SPEC section 7 lists them."""

from django.urls import path

from clinic.api import views

urlpatterns = [
    path("patients/", views.PatientList.as_view(), name="patient-list"),
    path("patients/<int:pk>/", views.PatientDetail.as_view(), name="patient-detail"),
    path("surgeons/", views.SurgeonList.as_view(), name="surgeon-list"),
    path("procedures/", views.ProcedureList.as_view(), name="procedure-list"),
    path(
        "procedures/import/", views.ProcedureImport.as_view(), name="procedure-import"
    ),
    path(
        "procedures/<int:pk>/", views.ProcedureDetail.as_view(), name="procedure-detail"
    ),
    path(
        "procedures/<int:pk>/cancel/",
        views.ProcedureCancel.as_view(),
        name="procedure-cancel",
    ),
    path(
        "procedures/<int:pk>/end-annual-reviews/",
        views.ProcedureEndAnnualReviews.as_view(),
        name="procedure-end-annual-reviews",
    ),
]
