"""Every visit has its patient; no overlapping active bookings on PostgreSQL.

The guarantee behind the booking service's friendly overlap check: two
exclusion constraints over `tstzrange(start, "end", '[)')` (a slot ending
at 09:20 does not overlap one starting at 09:20), one per surgeon and one
per patient, only for visits holding their slot (booked, checked in).

They are created by a vendor-guarded RunPython, not declared in
`Visit.Meta`: SQLite (the embedded demo database) cannot parse
`EXCLUDE USING gist`, and its schema editor rebuilds a table from the
model's Meta constraints on every later ALTER, so a declared constraint
would break every future migration of `visit` there. On SQLite the booking
service's check-then-write is serialised instead by
`transaction_mode=IMMEDIATE` (config.settings). Django's
`BtreeGistExtension` is not used: it skips SQLite going forwards but queries
`pg_extension` going backwards, so this migration could not be reversed
there; the same guarded step creates the extension, and reversing leaves it
installed (other schemas may use it).

Clinic admins edit consultation sessions; front desk and surgeons read them.
"""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Func, Q
import django.db.models.deletion

ACTIVE_STATUSES = ("booked", "checked_in")
OWNERS = {
    "visit_no_overlapping_bookings_per_surgeon": "surgeon",
    "visit_no_overlapping_bookings_per_patient": "patient",
}
SESSION_GRANTS = {
    "clinic_admin": ("view", "add", "change", "delete"),
    "front_desk": ("view",),
    "surgeon": ("view",),
}


def _constraints():  # noqa: ANN202 - imported only where PostgreSQL runs
    from django.contrib.postgres.constraints import ExclusionConstraint
    from django.contrib.postgres.fields import (
        DateTimeRangeField,
        RangeBoundary,
        RangeOperators,
    )

    class TsTzRange(Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    return [
        ExclusionConstraint(
            name=name,
            expressions=[
                (owner, RangeOperators.EQUAL),
                (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
            ],
            condition=Q(status__in=ACTIVE_STATUSES),
        )
        for name, owner in OWNERS.items()
    ]


def add_exclusion_constraints(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    Visit = apps.get_model("followup", "Visit")
    for constraint in _constraints():
        schema_editor.add_constraint(Visit, constraint)


def remove_exclusion_constraints(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    Visit = apps.get_model("followup", "Visit")
    for constraint in _constraints():
        schema_editor.remove_constraint(Visit, constraint)


def grant_session_permissions(
    apps: Apps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    app_config = apps.get_app_config("followup")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, actions in SESSION_GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="followup",
                codename__in=[f"{a}_consultationsession" for a in actions],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("followup", "0003_visit_patient_consultation_session"),
    ]

    operations = [
        migrations.AlterField(
            model_name="visit",
            name="patient",
            field=models.ForeignKey(
                help_text="The procedure's patient, copied here so that the "
                "database itself can refuse a patient's overlapping bookings.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="visits",
                to="clinic.patient",
            ),
        ),
        migrations.RunPython(add_exclusion_constraints, remove_exclusion_constraints),
        migrations.RunPython(grant_session_permissions, migrations.RunPython.noop),
    ]
