"""Visit and review URLs: literal, as SPEC section 7 lists them."""

from django.urls import path

from followup.api import views

urlpatterns = [
    path("visits/", views.VisitList.as_view(), name="visit-list"),
    path("visits/<int:pk>/", views.VisitDetail.as_view(), name="visit-detail"),
    path("visits/<int:pk>/events/", views.VisitEvents.as_view(), name="visit-events"),
    path("visits/<int:pk>/slots/", views.VisitSlots.as_view(), name="visit-slots"),
    path("visits/<int:pk>/book/", views.BookVisit.as_view(), name="visit-book"),
    path(
        "visits/<int:pk>/reschedule/",
        views.RescheduleVisit.as_view(),
        name="visit-reschedule",
    ),
    path("visits/<int:pk>/unbook/", views.UnbookVisit.as_view(), name="visit-unbook"),
    path("visits/<int:pk>/cancel/", views.CancelVisit.as_view(), name="visit-cancel"),
    path(
        "visits/<int:pk>/check-in/", views.CheckInVisit.as_view(), name="visit-check-in"
    ),
    path("visits/<int:pk>/no-show/", views.NoShowVisit.as_view(), name="visit-no-show"),
    path(
        "visits/<int:pk>/complete/",
        views.CompleteVisit.as_view(),
        name="visit-complete",
    ),
    path("reviews/upcoming/", views.UpcomingReviews.as_view(), name="reviews-upcoming"),
    path("reviews/overdue/", views.OverdueReviews.as_view(), name="reviews-overdue"),
]
