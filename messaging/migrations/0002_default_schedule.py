"""The schedule of SPEC section 8, by SMS and by email; clinic admins edit
the templates and read the messages.

invitation: 7 days before a visit's window opens, while it is to book;
reminder: 2 days before a booked visit, at its time of day; overdue: the
day after a window closes while to book, or after a no-show. The texts never
ask for a reply that carriers read as an opt-out (no "reply CANCEL").
"""

import datetime as dt

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

TEN = dt.time(10, 0)
SMS = {
    "invitation": (
        -7,
        TEN,
        "Hello {{ given_name }}, your {{ visit }} is due between {{ window_start }} "
        "and {{ window_end }}. Please call {{ clinic_phone }} to book it.",
    ),
    "reminder": (
        -2,
        None,
        "Hello {{ given_name }}, a reminder of your {{ visit }} on {{ day }} at "
        "{{ time }} with {{ surgeon }}. Reply C to confirm, R to change, X to cancel.",
    ),
    "overdue": (
        1,
        TEN,
        "Hello {{ given_name }}, your {{ visit }} is still to book. Please call "
        "{{ clinic_phone }} to find a time.",
    ),
}
SUBJECTS = {
    "invitation": "Time to book your {{ visit }}",
    "reminder": "Your {{ visit }} on {{ day }} at {{ time }}",
    "overdue": "Your {{ visit }} is still to book",
}
EMAIL_REMINDER = (
    "Hello {{ given_name }},\n\nThis is a reminder of your {{ visit }} on {{ day }} "
    "at {{ time }} with {{ surgeon }}.\n\nTo change or cancel it, please call "
    "{{ clinic_phone }}."
)
RIGHTS = [
    "add_messagetemplate",
    "change_messagetemplate",
    "view_messagetemplate",
    "view_message",
]


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Template = apps.get_model("messaging", "MessageTemplate")
    for kind, (offset, at, text) in SMS.items():
        Template.objects.get_or_create(
            kind=kind,
            channel="sms",
            defaults={"offset_days": offset, "send_time": at, "text": text},
        )
        Template.objects.get_or_create(
            kind=kind,
            channel="email",
            defaults={
                "offset_days": offset,
                "send_time": at,
                "subject": SUBJECTS[kind],
                "text": EMAIL_REMINDER if kind == "reminder" else text,
            },
        )
    app_config = apps.get_app_config("messaging")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="clinic_admin")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="messaging", codename__in=RIGHTS
        )
    )


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("messaging", "MessageTemplate").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_messages_and_templates"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("followup", "0002_default_protocol_and_groups"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
