"""The people's pages (SPEC section 7): literal URLs."""

from django.urls import path

from web.views import calendar_links, entry, homes, surgeon

urlpatterns = [
    path("", entry.home, name="home"),
    path("login/", entry.LoginView.as_view(), name="login"),
    path("logout/", entry.LogoutView.as_view(), name="logout"),
    path("desk/", homes.desk, name="desk"),
    path("surgeon/", surgeon.home, name="surgeon-home"),
    path(
        "surgeon/visits/<int:pk>/complete/",
        surgeon.complete,
        name="surgeon-complete",
    ),
    path(
        "surgeon/procedures/<int:pk>/end-annual-reviews/",
        surgeon.end_annual_reviews,
        name="surgeon-end-annual-reviews",
    ),
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
]
