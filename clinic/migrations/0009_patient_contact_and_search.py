"""Patients' contact details and consent (`phone`, `email`, `reminders`),
and the search by a name without accents, a phone or a birth date.

`search_name` holds the names folded (`clinic.search.fold`), written by
`Patient.save`; existing patients get theirs here, a chunk at a time. On
PostgreSQL a trigram index over it serves the search's `LIKE '%word%'`
(`core.db.add_trigram_index`; nothing on SQLite).
"""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from clinic.search import search_name
from core import db

CHUNK = 2000
INDEX = "patient_search_name_trgm"


def fill_search_names(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    patient_model = apps.get_model("clinic", "Patient")
    patients = patient_model.objects.using(schema_editor.connection.alias)
    last = 0
    while chunk := list(patients.filter(pk__gt=last).order_by("pk")[:CHUNK]):
        for patient in chunk:
            patient.search_name = search_name(patient.given_name, patient.family_name)
        patients.bulk_update(chunk, ["search_name"])
        last = chunk[-1].pk


def add_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    db.add_trigram_index(
        schema_editor, name=INDEX, table="clinic_patient", column="search_name"
    )


def drop_index(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    db.drop_trigram_index(schema_editor, name=INDEX)


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0008_credentials_end_on_deactivation'),
    ]

    operations = [
        migrations.AddField(
            model_name='patient',
            name='email',
            field=models.EmailField(blank=True, default='', max_length=254),
        ),
        migrations.AddField(
            model_name='patient',
            name='phone',
            field=models.CharField(blank=True, default='', help_text='In E.164 (+34612345678); typed in any format.', max_length=16),
        ),
        migrations.AddField(
            model_name='patient',
            name='reminders',
            field=models.CharField(choices=[('sms', 'By SMS'), ('email', 'By email'), ('none', 'No reminders')], default='none', help_text='The channel the patient agreed to be reminded by.', max_length=8),
        ),
        migrations.AddField(
            model_name='patient',
            name='search_name',
            field=models.CharField(default='', editable=False, max_length=201),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(condition=models.Q(('phone', ''), _negated=True), fields=['phone'], name='patient_by_phone'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(fields=['birth_date'], name='patient_by_birth_date'),
        ),
        migrations.AddConstraint(
            model_name='patient',
            constraint=models.CheckConstraint(condition=models.Q(('reminders__in', ['sms', 'email', 'none'])), name='patient_reminders_known'),
        ),
        migrations.AddConstraint(
            model_name='patient',
            constraint=models.CheckConstraint(condition=models.Q(('phone', ''), ('reminders', 'sms'), _negated=True), name='patient_sms_reminders_need_phone'),
        ),
        migrations.AddConstraint(
            model_name='patient',
            constraint=models.CheckConstraint(condition=models.Q(('email', ''), ('reminders', 'email'), _negated=True), name='patient_email_reminders_need_email'),
        ),
        migrations.RunPython(fill_search_names, migrations.RunPython.noop),
        migrations.RunPython(add_index, drop_index),
    ]
