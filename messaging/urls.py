"""Twilio's webhooks and the messages' API (SPEC section 8): literal URLs."""

from django.urls import path

from messaging import api, hooks

urlpatterns = [
    path("hooks/sms/twilio/", hooks.InboundSms.as_view(), name="sms-inbound"),
    path("hooks/sms/twilio/status/", hooks.SmsStatus.as_view(), name="sms-status"),
    path(
        "api/visits/<int:pk>/messages/",
        api.VisitMessages.as_view(),
        name="visit-messages",
    ),
    path(
        "api/patients/<int:pk>/messages/",
        api.PatientMessages.as_view(),
        name="patient-messages",
    ),
    path("api/replies/", api.Replies.as_view(), name="reply-list"),
    path(
        "api/replies/<int:pk>/resolve/",
        api.ResolveReply.as_view(),
        name="reply-resolve",
    ),
]
