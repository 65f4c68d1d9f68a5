"""Twilio's webhooks (SPEC section 8): literal URLs."""

from django.urls import path

from messaging import hooks

urlpatterns = [
    path("hooks/sms/twilio/", hooks.InboundSms.as_view(), name="sms-inbound"),
    path("hooks/sms/twilio/status/", hooks.SmsStatus.as_view(), name="sms-status"),
]
