"""The default templates carry the visit's booking link (`{{ link }}`).

SMS: the invitation and the overdue text offer the link beside the clinic's
phone; the reminder keeps "Reply C to confirm, R to change, X to cancel"
and adds the link. Email: each message carries the link instead of asking
for a reply (an email reply reaches nobody). Only a template whose text is
still the default of 0002 is changed: a clinic admin's own text is kept.
Backwards: the texts still this migration's go back to 0002's.
"""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

OLD_SMS = {
    "invitation": (
        "Hello {{ given_name }}, your {{ visit }} is due between {{ window_start }} "
        "and {{ window_end }}. Please call {{ clinic_phone }} to book it."
    ),
    "reminder": (
        "Hello {{ given_name }}, a reminder of your {{ visit }} on {{ day }} at "
        "{{ time }} with {{ surgeon }}. Reply C to confirm, R to change, X to cancel."
    ),
    "overdue": (
        "Hello {{ given_name }}, your {{ visit }} is still to book. Please call "
        "{{ clinic_phone }} to find a time."
    ),
}
OLD_EMAIL = {
    **OLD_SMS,
    "reminder": (
        "Hello {{ given_name }},\n\nThis is a reminder of your {{ visit }} on "
        "{{ day }} at {{ time }} with {{ surgeon }}.\n\nTo change or cancel it, "
        "please call {{ clinic_phone }}."
    ),
}
NEW_SMS = {
    "invitation": (
        "Hello {{ given_name }}, your {{ visit }} is due between {{ window_start }} "
        "and {{ window_end }}. Book a time here: {{ link }} or call "
        "{{ clinic_phone }}."
    ),
    "reminder": (
        "Hello {{ given_name }}, a reminder of your {{ visit }} on {{ day }} at "
        "{{ time }} with {{ surgeon }}. Reply C to confirm, R to change, X to "
        "cancel, or change it here: {{ link }}"
    ),
    "overdue": (
        "Hello {{ given_name }}, your {{ visit }} is still to book. Find a time "
        "here: {{ link }} or call {{ clinic_phone }}."
    ),
}
NEW_EMAIL = {
    "invitation": (
        "Hello {{ given_name }},\n\nYour {{ visit }} is due between "
        "{{ window_start }} and {{ window_end }}. Choose the time that suits you "
        "on your booking page:\n\n{{ link }}\n\nOr call us on {{ clinic_phone }}."
    ),
    "reminder": (
        "Hello {{ given_name }},\n\nThis is a reminder of your {{ visit }} on "
        "{{ day }} at {{ time }} with {{ surgeon }}.\n\nTo move it to another "
        "time, or to give the time up if you cannot come, open your booking "
        "page:\n\n{{ link }}\n\nOr call us on {{ clinic_phone }}."
    ),
    "overdue": (
        "Hello {{ given_name }},\n\nYour {{ visit }} is still to book. Choose a "
        "time on your booking page:\n\n{{ link }}\n\nOr call us on "
        "{{ clinic_phone }}."
    ),
}
TEXTS = {"sms": (OLD_SMS, NEW_SMS), "email": (OLD_EMAIL, NEW_EMAIL)}


def _replace(apps: Apps, *, forwards: bool) -> None:
    Template = apps.get_model("messaging", "MessageTemplate")
    for channel, (old, new) in TEXTS.items():
        before, after = (old, new) if forwards else (new, old)
        for kind, text in before.items():
            Template.objects.filter(kind=kind, channel=channel, text=text).update(
                text=after[kind]
            )


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _replace(apps, forwards=True)


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _replace(apps, forwards=False)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_replies_and_opt_outs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="messagetemplate",
            name="text",
            field=models.TextField(
                help_text="Placeholders: {{ given_name }}, {{ visit }}, "
                "{{ window_start }}, {{ window_end }}, {{ day }}, {{ time }}, "
                "{{ surgeon }}, {{ clinic_phone }}, {{ link }} (the visit's booking "
                "link, put in when the message is sent)."
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
