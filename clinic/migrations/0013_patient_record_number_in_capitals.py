"""Record numbers in capitals: "mrn00012" and "MRN00012" were two patients.

Numbers already stored are written in capitals first. Two patients whose
numbers differ only in capitals are one patient registered twice, or two
numbers one of which was mistyped: which, only the clinic can say, so the
migration stops and names them rather than choosing.
"""

from typing import Any

from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Upper


def to_capitals(apps: Any, schema_editor: Any) -> None:
    Patient = apps.get_model("clinic", "Patient")
    clashes = (
        Patient.objects.annotate(number=Upper("record_number"))
        .values("number")
        .annotate(patients=Count("pk"))
        .filter(patients__gt=1)
        .values_list("number", flat=True)
    )
    if clashes:
        raise RuntimeError(
            "These record numbers belong to more than one patient when written "
            f"in capitals: {', '.join(sorted(clashes))}. Merge or renumber those "
            "patients in the admin, then migrate again."
        )
    Patient.objects.exclude(record_number=Upper("record_number")).update(
        record_number=Upper("record_number")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0012_patient_wrong_phone"),
    ]

    operations = [
        migrations.RunPython(to_capitals, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "record_number",
                        Upper("record_number"),
                    )
                ),
                name="patient_record_number_in_capitals",
            ),
        ),
    ]
