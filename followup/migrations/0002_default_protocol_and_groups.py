"""The clinic's default follow-up protocol (SPEC section 2) and the three roles.

The protocol is data: a clinic admin edits these rows afterwards. Reversing
removes only rows this migration created and that nothing references.
"""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

RULES = [
    {
        "code": "postop_control",
        "name": "Post-operative control",
        "purpose": "Wound check, first dressing and stitch removal.",
        "applies_to": "all",
        "offset_amount": 10,
        "offset_unit": "day",
        "window_days_before": 3,
        "window_days_after": 5,
        "duration_minutes": 20,
        "requires_mri": False,
        "recurring": False,
    },
    {
        "code": "one_month_control",
        "name": "One-month control",
        "purpose": "Control a month after surgery.",
        "applies_to": "all",
        "offset_amount": 1,
        "offset_unit": "month",
        "window_days_before": 7,
        "window_days_after": 7,
        "duration_minutes": 20,
        "requires_mri": False,
        "recurring": False,
    },
    {
        "code": "annual_mri_review",
        "name": "Annual MRI review",
        "purpose": "Yearly review of the implanted disc on an MRI scan.",
        "applies_to": "endoscopic_stem_cell",
        "offset_amount": 1,
        "offset_unit": "year",
        "window_days_before": 30,
        "window_days_after": 30,
        "duration_minutes": 30,
        "requires_mri": True,
        "recurring": True,
    },
]

MILESTONES = [
    ("daily_activity", "Daily activity recovered", 7, "day"),
    ("sports_resumed", "Sports may be resumed", 42, "day"),
    ("intense_effort", "Intense physical effort allowed", 3, "month"),
]

VIEW = ("view",)
EDIT = ("view", "add", "change")
GROUPS = {
    "front_desk": {
        "clinic": {"patient": EDIT, "procedure": EDIT, "surgeon": VIEW},
        "followup": {
            "visit": ("view", "change"),
            "visitevent": VIEW,
            "followuprule": VIEW,
            "recoverymilestone": VIEW,
        },
    },
    "surgeon": {
        "clinic": {"patient": VIEW, "procedure": ("view", "change"), "surgeon": VIEW},
        "followup": {
            "visit": ("view", "change"),
            "visitevent": VIEW,
            "followuprule": VIEW,
            "recoverymilestone": VIEW,
        },
    },
}
# DRF's authtoken app was listed (and depended on) here until its plain-text
# tokens gave way to knox's hashed ones; 0007 removes what it left behind.
ADMIN_APPS = ("clinic", "followup", "auth")


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    FollowUpRule = apps.get_model("followup", "FollowUpRule")
    RecoveryMilestone = apps.get_model("followup", "RecoveryMilestone")
    for row in RULES:
        FollowUpRule.objects.update_or_create(code=row["code"], defaults=row)
    for code, title, amount, unit in MILESTONES:
        RecoveryMilestone.objects.update_or_create(
            code=code,
            defaults={"title": title, "offset_amount": amount, "offset_unit": unit},
        )

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        codenames = [
            (app, f"{action}_{model}")
            for app, models in grants.items()
            for model, actions in models.items()
            for action in actions
        ]
        for app, codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app, codename=codename)
            )
    admin_group, _ = Group.objects.get_or_create(name="clinic_admin")
    admin_group.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
    )


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(
        name__in=[*GROUPS, "clinic_admin"]
    ).delete()
    apps.get_model("followup", "RecoveryMilestone").objects.filter(
        code__in=[code for code, *_ in MILESTONES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0001_initial"),
        ("clinic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
