from django.apps import AppConfig


class WebConfig(AppConfig):
    """The people's pages: the top layer, over clinic, followup and feeds."""

    name = "web"
    verbose_name = "Pages"
