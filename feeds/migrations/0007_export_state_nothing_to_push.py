"""A visit with nothing to push says so, instead of `exported`.

`nothing_to_push` replaces `not_configured` (a surgeon without a calendar)
and the `exported` that visits still to book were settled as. Both are told
apart from real exports by `exported_sequence`: it stays -1 until a push is
first attempted, so an `exported` entry at -1 never sent anything.

Backwards, these entries become pending: the older code's reconciliation
settles them again with the states it knows.
"""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    CalendarEntry = apps.get_model("feeds", "CalendarEntry")
    CalendarEntry.objects.filter(export_state="not_configured").update(
        export_state="nothing_to_push", exported_at=None
    )
    CalendarEntry.objects.filter(
        export_state="exported", exported_sequence__lt=0
    ).update(export_state="nothing_to_push", exported_at=None)


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    CalendarEntry = apps.get_model("feeds", "CalendarEntry")
    CalendarEntry.objects.filter(export_state="nothing_to_push").update(
        export_state="pending", pending_since=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0006_clinic_admin_calendar_rights"),
    ]

    operations = [
        # Choices are not a database constraint: the order is free.
        migrations.AlterField(
            model_name="calendarentry",
            name="export_state",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("exported", "Exported"),
                    ("failed", "Failed"),
                    ("nothing_to_push", "Nothing to push"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
