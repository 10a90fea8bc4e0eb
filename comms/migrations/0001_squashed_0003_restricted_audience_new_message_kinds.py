"""Comms, as it stood before the first release: contact methods and notification rules,
stakeholder groups, message templates and the notification outbox, with what a fresh database
needs: the shipped message templates (as rows operators edit in the admin), the stakeholder
groups the procedures name, and the comms permissions of the operator groups.

Squashed from 0001–0003, which a database migrated before the squash has recorded: Django then
counts this migration as applied.
"""

import datetime

import django.db.models.deletion
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# Who is kept informed, as the procedures describe it. Severities by name; subscriptions are
# comms.models.Subscription values.
STAKEHOLDER_GROUPS = [
    dict(
        name="Engineering", slug="engineering", audience="internal",
        description="Engineering at large: internal updates on every incident.",
        subscriptions=["internal_updates"], severities=["SEV-1", "SEV-2", "SEV-3", "SEV-4"],
    ),
    dict(
        name="Leadership", slug="leadership", audience="executives",
        description="Executives: short summaries of critical and high-severity incidents.",
        subscriptions=["executive_summaries"], severities=["SEV-1", "SEV-2"],
    ),
    dict(
        name="Customer support", slug="customer-support", audience="internal",
        description="Support staff: internal updates, and a copy of what customers are told, so they can answer tickets.",
        subscriptions=["internal_updates", "customer_notices"], severities=["SEV-1", "SEV-2", "SEV-3"],
    ),
    dict(
        name="Customers", slug="customers", audience="customers",
        description="Customer contacts (outside addresses): customer notices for the severities that notify customers.",
        subscriptions=["customer_notices"], severities=None,  # None: every severity with notify_customers
    ),
]

COMMS_MODELS = ["contactmethod", "notificationrule", "stakeholdergroup", "messagetemplate", "notification"]
VIEWER_PERMS = ["view_notification", "view_stakeholdergroup", "view_messagetemplate"]
# Responders manage their own contact methods and rules (the admin shows only their own
# without the change permission).
RESPONDER_PERMS = VIEWER_PERMS + ["add_contactmethod", "add_notificationrule"]
MANAGER_PERMS = [f"{action}_{model}" for model in COMMS_MODELS for action in ("view", "add", "change", "delete")]
GROUP_PERMS = {
    "Viewers": VIEWER_PERMS,
    "Responders": RESPONDER_PERMS,
    "Incident commanders": RESPONDER_PERMS,
    "Managers": MANAGER_PERMS,
}


def seed(apps, schema_editor):
    from comms.defaults import DEFAULTS

    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    for (kind, audience, channel), (subject, body) in DEFAULTS.items():
        MessageTemplate.objects.get_or_create(
            kind=kind, audience=audience, channel=channel, defaults={"subject": subject, "body": body}
        )

    StakeholderGroup = apps.get_model("comms", "StakeholderGroup")
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    for spec in STAKEHOLDER_GROUPS:
        spec = dict(spec)
        names = spec.pop("severities")
        group, created = StakeholderGroup.objects.get_or_create(slug=spec["slug"], defaults=spec)
        if created:
            severities = (
                SeverityLevel.objects.filter(notify_customers=True)
                if names is None
                else SeverityLevel.objects.filter(name__in=names)
            )
            group.severities.set(severities)

    # Permissions are normally created after all migrations; these are needed now.
    create_permissions(global_apps.get_app_config("comms"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="comms", codename__in=codenames))


def revoke(apps, schema_editor):
    """The groups lose their comms permissions; the seeded rows go with their tables (deleting them
    here first would leave PostgreSQL deferred checks pending on tables about to be dropped)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    comms_perms = Permission.objects.filter(content_type__app_label="comms")
    for group in Group.objects.filter(name__in=GROUP_PERMS):
        group.permissions.remove(*comms_perms)


class Migration(migrations.Migration):

    replaces = [
        ("comms", "0001_initial"),
        ("comms", "0002_seed_templates_groups"),
        ("comms", "0003_restricted_audience_new_message_kinds"),
    ]

    initial = True

    dependencies = [
        ("incidents", "0001_squashed_0011_time_spent_resolved"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ContactMethod',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='contact_methods', to=settings.AUTH_USER_MODEL)),
                ('channel', models.CharField(choices=[('email', 'Email'), ('sms', 'SMS'), ('chat', 'Chat')], max_length=10)),
                ('address', models.CharField(help_text='Email address; phone number in E.164 (+447700900123); or chat handle (@alice).', max_length=254)),
                ('webhook_url', models.URLField(blank=True, help_text='Chat only: an incoming-webhook URL for this person (else the shared chat webhook is used).')),
                ('label', models.CharField(blank=True, help_text='e.g. work phone.', max_length=60)),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['user_id', 'channel', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('user', 'channel', 'address'), name='contact_unique_address')],
            },
        ),
        migrations.CreateModel(
            name='NotificationRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notification_rules', to=settings.AUTH_USER_MODEL)),
                ('contact_method', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rules', to='comms.contactmethod')),
                ('delay', models.DurationField(default=datetime.timedelta(0), help_text='After the page; 0 = at once.')),
                ('only_if_unacknowledged', models.BooleanField(default=True, help_text='Skip it if someone acknowledged the incident before the delay passed.')),
            ],
            options={
                'ordering': ['user_id', 'delay', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('contact_method', 'delay'), name='rule_unique_delay'), models.CheckConstraint(condition=models.Q(('delay__gte', datetime.timedelta(0))), name='rule_delay_not_negative')],
            },
        ),
        migrations.CreateModel(
            name='StakeholderGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('slug', models.SlugField(max_length=100, unique=True)),
                ('description', models.TextField(blank=True)),
                ('audience', models.CharField(choices=[('internal', 'Internal stakeholders'), ('executives', 'Executives'), ('customers', 'Customers')], default='internal', help_text='Which wording they get.', max_length=20)),
                ('external_addresses', models.TextField(blank=True, help_text='Email addresses outside Vigil, one per line.')),
                ('subscriptions', models.JSONField(blank=True, default=list, help_text='Kinds of message: internal updates, executive summaries, customer notices.')),
                ('is_active', models.BooleanField(default=True)),
                ('members', models.ManyToManyField(blank=True, related_name='stakeholder_groups', to=settings.AUTH_USER_MODEL)),
                ('severities', models.ManyToManyField(blank=True, help_text='Severities they hear about.', related_name='+', to='incidents.severitylevel')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='MessageTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('declared', 'Incident declared'), ('status_update', 'Status update'), ('page', 'Page / escalation'), ('update_overdue', 'Update overdue reminder'), ('acknowledged', 'Acknowledged'), ('resolution', 'Resolution'), ('executive_summary', 'Executive summary'), ('customer_notice', 'Customer notice'), ('postmortem_reminder', 'Post-mortem reminder'), ('report', 'Report'), ('reopened', 'Reopened'), ('escalation_info', 'Escalation for information (no acknowledgement)'), ('status_page_overdue', 'Status page publication overdue')], max_length=30)),
                ('audience', models.CharField(choices=[('responders', 'Responders'), ('internal', 'Internal stakeholders'), ('executives', 'Executives'), ('customers', 'Customers'), ('restricted', 'Restricted incident')], max_length=20)),
                ('channel', models.CharField(choices=[('email', 'Email'), ('sms', 'SMS'), ('chat', 'Chat')], max_length=10)),
                ('subject', models.CharField(blank=True, help_text='Email only.', max_length=300)),
                ('body', models.TextField()),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['kind', 'audience', 'channel'],
                'constraints': [models.UniqueConstraint(fields=('kind', 'audience', 'channel'), name='template_unique_cell')],
            },
        ),
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=200, unique=True)),
                ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='notifications', to='incidents.timelineevent')),
                ('incident', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='incidents.incident')),
                ('kind', models.CharField(choices=[('declared', 'Incident declared'), ('status_update', 'Status update'), ('page', 'Page / escalation'), ('update_overdue', 'Update overdue reminder'), ('acknowledged', 'Acknowledged'), ('resolution', 'Resolution'), ('executive_summary', 'Executive summary'), ('customer_notice', 'Customer notice'), ('postmortem_reminder', 'Post-mortem reminder'), ('report', 'Report'), ('reopened', 'Reopened'), ('escalation_info', 'Escalation for information (no acknowledgement)'), ('status_page_overdue', 'Status page publication overdue')], max_length=30)),
                ('audience', models.CharField(choices=[('responders', 'Responders'), ('internal', 'Internal stakeholders'), ('executives', 'Executives'), ('customers', 'Customers'), ('restricted', 'Restricted incident')], max_length=20)),
                ('channel', models.CharField(choices=[('email', 'Email'), ('sms', 'SMS'), ('chat', 'Chat')], max_length=10)),
                ('recipient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                ('contact_method', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='comms.contactmethod')),
                ('address', models.CharField(help_text='Email, E.164 number, chat handle.', max_length=254)),
                ('webhook_url', models.URLField(blank=True)),
                ('subject', models.CharField(blank=True, max_length=300)),
                ('body', models.TextField()),
                ('html_body', models.TextField(blank=True)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed'), ('suppressed', 'Suppressed')], default='pending', max_length=12)),
                ('is_page', models.BooleanField(default=False, help_text='A page: carries an acknowledge link and code.')),
                ('only_if_unacknowledged', models.BooleanField(default=False)),
                ('send_after', models.DateTimeField(help_text='Not before this instant (delayed rules, throttles, retries).')),
                ('created_at', models.DateTimeField()),
                ('enqueued_at', models.DateTimeField(blank=True, null=True)),
                ('locked_until', models.DateTimeField(blank=True, help_text='A worker is sending it until then.', null=True)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('last_error', models.TextField(blank=True)),
                ('provider_id', models.CharField(blank=True, max_length=200)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('bundled_into', models.ForeignKey(blank=True, help_text="Throttled: delivered inside another notification's message.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='bundled', to='comms.notification')),
                ('ack_code', models.CharField(blank=True, db_index=True, help_text="Pages: reply 'ACK <code>' by SMS.", max_length=12)),
                ('ack_used_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['send_after'], name='notification_pending_due'), models.Index(fields=['channel', 'address', 'sent_at'], name='notification_throttle'), models.Index(fields=['incident', '-created_at'], name='notification_incident')],
            },
        ),
        migrations.RunPython(seed, revoke),
    ]
