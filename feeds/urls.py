"""The feed URL and the calendar-link API: literal, as SPEC section 7 lists."""

from django.urls import path

from feeds import api, views

# Also served ahead of the session middleware (feeds.middleware).
feed_pattern = path("calendar/<str:token>.ics", views.feed, name="calendar-feed")

urlpatterns = [
    feed_pattern,
    path("api/calendar-links/", api.CalendarLinkList.as_view(), name="calendar-links"),
    path(
        "api/calendar-links/<int:pk>/",
        api.CalendarLinkDetail.as_view(),
        name="calendar-link-detail",
    ),
    path(
        "api/calendar-links/<int:pk>/rotate/",
        api.RotateCalendarLink.as_view(),
        name="calendar-link-rotate",
    ),
]
