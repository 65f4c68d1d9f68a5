"""Bulk reads of patient data: `PatientRead`, one row per request.

Its patients are a JSON list. On PostgreSQL a GIN index (`jsonb_path_ops`,
the operator class for `@>` alone, smaller than the default) serves "every
read that included this patient"; created by a vendor-guarded step, like the
trigram indexes (0004), since SQLite has no GIN. Clinic admins may view the
rows, like the rest of the audit trail (0003); nobody may change them.
"""

import django.db.models.deletion
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

INDEX = "patient_read_by_patient"


def add_patient_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON clinic_patientread "
        "USING gin (patient_ids jsonb_path_ops)"
    )


def remove_patient_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def grant_view(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    app_config = apps.get_app_config("clinic")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    right = Permission.objects.get(
        content_type__app_label="clinic", codename="view_patientread"
    )
    group, _ = Group.objects.get_or_create(name="clinic_admin")
    group.permissions.add(right)


def revoke_view(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for right in Permission.objects.filter(
        content_type__app_label="clinic", codename="view_patientread"
    ):
        for group in Group.objects.filter(name="clinic_admin"):
            group.permissions.remove(right)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0005_procedure_ids_by_surgeon"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PatientRead",
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
                ("reader_username", models.CharField(max_length=150)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("api_patients", "API: patient list or search"),
                            ("api_mri_studies", "API: a patient's MRI studies"),
                            ("api_contact_attempts", "API: a visit's contact attempts"),
                            ("desk_search", "Desk: worklist search"),
                            ("admin_patients", "Admin: patient list or search"),
                            ("replan_csv", "Admin: re-plan CSV"),
                        ],
                        max_length=24,
                    ),
                ),
                ("query", models.CharField(blank=True, max_length=1000)),
                ("count", models.PositiveIntegerField()),
                ("patient_ids", models.JSONField(default=list)),
                ("read_at", models.DateTimeField()),
                (
                    "reader",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-read_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["reader", "read_at"], name="patient_read_by_reader"
                    ),
                    models.Index(fields=["read_at"], name="patient_read_by_time"),
                ],
            },
        ),
        migrations.RunPython(add_patient_index, remove_patient_index),
        migrations.RunPython(grant_view, revoke_view),
    ]
