import django.db.models.deletion
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant_managers(apps, schema_editor):
    """Managers see every API key and make keys for others (everyone else: their own)."""
    create_permissions(global_apps.get_app_config("oncall"), apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    perms = Permission.objects.filter(content_type__app_label="oncall", codename__in=["view_apikey", "change_apikey"])
    Group.objects.get_or_create(name="Managers")[0].permissions.add(*perms)


class Migration(migrations.Migration):

    dependencies = [
        ('oncall', '0004_schedule_permissions'),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='What uses it, e.g. Slack bot, Alertmanager.', max_length=100)),
                ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('prefix', models.CharField(editable=False, help_text="The key's first characters, to tell keys apart.", max_length=16)),
                ('scopes', models.JSONField(default=list, help_text='Any of read, write, ingest, chat.')),
                ('rate_limit_per_minute', models.PositiveIntegerField(default=600, help_text='Requests per minute before 429.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'API key',
                'ordering': ['-created_at'],
            },
        ),
        migrations.RunPython(grant_managers, migrations.RunPython.noop),
    ]
