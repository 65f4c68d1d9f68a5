from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from ops.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Where a browser looks for the icon of a page that names none (the
    # admin, the API's JSON): the site's own, not a 404 in the log.
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("web/favicon.svg"), permanent=True),
    ),
    path("admin/", admin.site.urls),
    path("api/", include("followup.api.urls")),
    path("", include("booking_links.urls")),  # /api/visits/<id>/booking-link/
    path("", include("messaging.urls")),  # /hooks/sms/twilio/, Twilio's webhooks
    path("", include("feeds.urls")),  # /calendar/<token>.ics, /api/calendar-links/
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own,
    # so the content security policy needs no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="web/api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    # Redoc styles itself with <style> elements it writes at run time
    # (styled-components), so this page alone allows inline styles; scripts
    # stay 'self' only.
    path(
        "api/redoc/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularRedocView.as_view(
                url_name="api-schema", template_name="web/api/redoc.html"
            )
        ),
        name="api-redoc",
    ),
    path("", include("web.urls")),  # /, /login/, /desk/, /surgeon/, ...
]

handler404 = "core.api.not_found"
handler500 = "core.api.server_error"
