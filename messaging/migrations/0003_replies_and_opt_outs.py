"""Replies (their intent, the message they answer, who resolved them) and
the numbers that replied STOP, which clinic admins may read in the admin."""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def clinic_admins_read_opt_outs(apps, schema_editor):
    app_config = apps.get_app_config("messaging")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="clinic_admin")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="messaging", codename="view_smsoptout"
        )
    )


class Migration(migrations.Migration):

    dependencies = [
        ('followup', '0017_visit_confirmed'),
        ('messaging', '0002_default_schedule'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SmsOptOut',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('phone', models.CharField(max_length=32, unique=True)),
                ('at', models.DateTimeField()),
            ],
            options={
                'verbose_name': 'SMS opt-out',
            },
        ),
        migrations.AddField(
            model_name='message',
            name='answers',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='messaging.message'),
        ),
        migrations.AddField(
            model_name='message',
            name='intent',
            field=models.CharField(blank=True, choices=[('confirm', 'Confirmed'), ('change', 'Wants another time'), ('cancel', 'Cannot come'), ('opt_out', 'Stopped texts'), ('opt_in', 'Started texts again'), ('unclear', 'Unclear')], max_length=10),
        ),
        migrations.AddField(
            model_name='message',
            name='outcome',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='message',
            name='resolved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='message',
            name='resolved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='message',
            name='to',
            field=models.CharField(help_text='The number or address, as it was when written; a reply: the number it came from.', max_length=254),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('channel', 'sms'), ('direction', 'out')), fields=['to', '-sent_at'], name='message_sms_by_number'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('resolved_at__isnull', True), models.Q(models.Q(('direction', 'in'), ('intent__in', ['change', 'unclear'])), models.Q(('direction', 'out'), ('status', 'failed')), _connector='OR')), fields=['-created_at'], name='message_needing_person'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('provider_id', ''), _negated=True), fields=['provider_id'], name='message_by_provider_id'),
        ),
        migrations.AddField(
            model_name='smsoptout',
            name='message',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='messaging.message'),
        ),
        migrations.AddConstraint(
            model_name='message',
            constraint=models.UniqueConstraint(condition=models.Q(('direction', 'in'), models.Q(('provider_id', ''), _negated=True)), fields=('provider_id',), name='message_reply_once_per_sid'),
        ),
        migrations.AddConstraint(
            model_name='message',
            constraint=models.CheckConstraint(condition=models.Q(('intent', ''), ('intent__in', ['confirm', 'change', 'cancel', 'opt_out', 'opt_in', 'unclear']), _connector='OR'), name='message_intent_known'),
        ),
        migrations.RunPython(clinic_admins_read_opt_outs, migrations.RunPython.noop),
    ]
