"""Consultation sessions, and each visit's patient copied from its procedure.

`Visit.patient` is added nullable and back-filled here; 0004 makes it
required. They are two migrations because PostgreSQL refuses to ALTER a
table that has pending (deferred) foreign-key checks from the back-fill in
the same transaction.
"""

import django.db.models.deletion
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import OuterRef, Subquery


def copy_patient_from_procedure(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    Visit = apps.get_model("followup", "Visit")
    Procedure = apps.get_model("clinic", "Procedure")
    Visit.objects.filter(patient__isnull=True).update(
        patient_id=Subquery(
            Procedure.objects.filter(pk=OuterRef("procedure_id")).values("patient_id")
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("followup", "0002_default_protocol_and_groups"),
    ]

    operations = [
        migrations.AddField(
            model_name="visit",
            name="patient",
            field=models.ForeignKey(
                help_text="The procedure's patient, copied here so that the "
                "database itself can refuse a patient's overlapping bookings.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="visits",
                to="clinic.patient",
            ),
        ),
        migrations.RunPython(copy_patient_from_procedure, migrations.RunPython.noop),
        migrations.CreateModel(
            name="ConsultationSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "Monday"),
                            (1, "Tuesday"),
                            (2, "Wednesday"),
                            (3, "Thursday"),
                            (4, "Friday"),
                            (5, "Saturday"),
                            (6, "Sunday"),
                        ]
                    ),
                ),
                (
                    "start_time",
                    models.TimeField(help_text="Clinic-local wall-clock time."),
                ),
                (
                    "end_time",
                    models.TimeField(help_text="Clinic-local wall-clock time."),
                ),
                (
                    "slot_minutes",
                    models.PositiveIntegerField(
                        default=10,
                        help_text="Bookings start on this grid from the start time.",
                    ),
                ),
                (
                    "valid_from",
                    models.DateField(
                        blank=True,
                        help_text="First day it applies; empty: always.",
                        null=True,
                    ),
                ),
                (
                    "valid_to",
                    models.DateField(
                        blank=True,
                        help_text="Last day it applies; empty: open-ended.",
                        null=True,
                    ),
                ),
                (
                    "surgeon",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sessions",
                        to="clinic.surgeon",
                    ),
                ),
            ],
            options={
                "ordering": ["surgeon", "weekday", "start_time"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("end_time__gt", models.F("start_time"))),
                        name="session_ends_after_start",
                        violation_error_message="A session must end after it starts.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("slot_minutes__gt", 0)),
                        name="session_slot_positive",
                        violation_error_message="The slot length must be at least one minute.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("weekday__gte", 0), ("weekday__lte", 6)),
                        name="session_weekday_known",
                        violation_error_message="The weekday must be Monday (0) to Sunday (6).",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("valid_from__isnull", True),
                            ("valid_to__isnull", True),
                            ("valid_to__gte", models.F("valid_from")),
                            _connector="OR",
                        ),
                        name="session_valid_to_after_from",
                        violation_error_message="'Valid to' must not be before 'valid from'.",
                    ),
                ],
            },
        ),
    ]
