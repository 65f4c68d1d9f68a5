# MRI studies, which annual reviews read to know their scan is ready.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0001_initial'),
        ('followup', '0007_contact_attempts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='MriStudy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('performed_on', models.DateField()),
                ('reference', models.CharField(help_text='The imaging reference, e.g. a PACS accession number.', max_length=64)),
                ('report_received_on', models.DateField(blank=True, help_text="Empty while the radiologist's report is due.", null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='mri_studies', to='clinic.patient')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'MRI study',
                'verbose_name_plural': 'MRI studies',
                'ordering': ['-performed_on', '-id'],
                'indexes': [models.Index(fields=['patient', 'performed_on'], name='followup_mr_patient_f624fc_idx')],
                'constraints': [models.UniqueConstraint(fields=('patient', 'reference'), name='mri_study_one_per_reference'), models.CheckConstraint(condition=models.Q(('reference', ''), _negated=True), name='mri_study_reference_not_blank'), models.CheckConstraint(condition=models.Q(('report_received_on__isnull', True), ('report_received_on__gte', models.F('performed_on')), _connector='OR'), name='mri_study_report_not_before_scan')],
            },
        ),
    ]
