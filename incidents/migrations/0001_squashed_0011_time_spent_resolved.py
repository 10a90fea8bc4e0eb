"""Incidents, as they stood before the first release: the response matrix, incident types and the
service catalog, incidents and their timeline, the deadline engine and alert ingestion, with the
seeded matrix and the operator groups.

Squashed from 0001–0011, which a database migrated before the squash has recorded: Django then
counts this migration as applied. On a fresh database it runs, after the tables:

- the default response matrix (SEV-1…SEV-4) and the incident types of the procedures
  (incidents/seed.py, less the fields later migrations add; the post-mortem draft's business
  days as first seeded), then each severity's status-page window;
- the groups operators are put in (Viewers, Responders, Incident commanders, Managers) with
  their incident permissions; everyone sees the alert log and maintenance, commanders
  schedule maintenance, managers also make integrations and heartbeats;
- the repairs that came with the outbox and the matrix's bounds, which find nothing on a fresh
  database (elidable: a later squash may drop them): events written before the outbox are
  history (nobody is paged for them), and a severity outside a bound takes the default
  matrix's value for its rank (a duration of zero or less), the bound (one above it) or
  #666666 (a colour that is not #rrggbb).
"""

import datetime
import re

import django.core.validators
import django.db.models.deletion
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models
from django.db.models import F

import oncall.validators

# Who sees and manages ingestion in the admin.
INGESTION_VIEW = ["view_integration", "view_alertevent", "view_maintenancewindow", "view_heartbeat"]
MAINTENANCE = ["add_maintenancewindow", "change_maintenancewindow", "delete_maintenancewindow"]
INGESTION_GRANTS = {
    "Viewers": INGESTION_VIEW,
    "Responders": INGESTION_VIEW,
    "Incident commanders": INGESTION_VIEW + MAINTENANCE,
    "Managers": INGESTION_VIEW + MAINTENANCE + ["add_integration", "change_integration", "add_heartbeat", "change_heartbeat"],
}

# The bounds as the matrix first had them (not imported from the models, which may move on).
BOUNDS = {
    "ack_sla": (datetime.timedelta(days=7), False),
    "first_update_interval": (datetime.timedelta(days=7), False),
    "update_interval": (datetime.timedelta(days=7), False),
    "resolve_target": (datetime.timedelta(days=90), False),
    "observation_period": (datetime.timedelta(days=30), True),
}
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# The post-mortem draft's business days as the matrix first had them (None: the default, 5).
# 0003 made them the post-mortem due-date policy that incidents/seed.py now lists, in fields this
# migration's model does not have yet.
DRAFT_BUSINESS_DAYS = {"SEV-1": 2, "SEV-2": 5}


def seed_matrix(apps, schema_editor):
    from incidents.seed import INCIDENT_TYPES, SEVERITIES

    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    IncidentType = apps.get_model("incidents", "IncidentType")
    known = {field.name for field in SeverityLevel._meta.get_fields()}
    for row in SEVERITIES:
        row = {name: value for name, value in row.items() if name in known}
        row["postmortem_draft_business_days"] = DRAFT_BUSINESS_DAYS.get(row["name"])
        SeverityLevel.objects.update_or_create(name=row["name"], defaults=row)
    for row in INCIDENT_TYPES:
        IncidentType.objects.update_or_create(slug=row["slug"], defaults=row)


def create_groups(apps, schema_editor):
    from incidents.seed import GROUPS

    # Permissions are normally created after all migrations; this one needs them now.
    for label in ("oncall", "incidents"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.add(*wanted)


def mark_history_dispatched(apps, schema_editor):
    """Events written before the outbox existed are history: nobody should be paged for them now."""
    apps.get_model("incidents", "TimelineEvent").objects.update(dispatched_at=F("occurred_at"))


def grant_ingestion(apps, schema_editor):
    create_permissions(global_apps.get_app_config("incidents"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in INGESTION_GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*Permission.objects.filter(content_type__app_label="incidents", codename__in=codenames))


def repair(severity) -> list[str]:
    """Bring one severity row inside the bounds; returns the names of the fields it changed."""
    from incidents.seed import SEVERITIES

    default = min(SEVERITIES, key=lambda row: (abs(row["rank"] - severity.rank), -row["rank"]))
    changed = []
    for field, (most, zero_allowed) in BOUNDS.items():
        value = getattr(severity, field)
        zero = datetime.timedelta(0)
        if value is None or value < zero or (value == zero and not zero_allowed):
            setattr(severity, field, default[field])
        elif value > most:
            setattr(severity, field, most)
        else:
            continue
        changed.append(field)
    if not HEX_COLOR.fullmatch(severity.color or ""):
        severity.color = "#666666"
        changed.append("color")
    return changed


def repair_severities(apps, schema_editor):
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    for severity in SeverityLevel.objects.all():
        changed = repair(severity)
        if changed:
            severity.save(update_fields=changed)


def seed_windows(apps, schema_editor):
    from incidents.seed import STATUS_PAGE_WINDOWS

    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    for name, window in STATUS_PAGE_WINDOWS.items():
        SeverityLevel.objects.filter(name=name).update(status_page_window=window)


class Migration(migrations.Migration):

    replaces = [
        ("incidents", "0001_initial"),
        ("incidents", "0002_seed_matrix"),
        ("incidents", "0003_groups"),
        ("incidents", "0004_deadline_engine"),
        ("incidents", "0005_timeline_outbox"),
        ("incidents", "0006_alert_ingestion"),
        ("incidents", "0007_postmortem_reminder_event"),
        ("incidents", "0008_engine_event_kinds"),
        ("incidents", "0009_severity_bounds"),
        ("incidents", "0010_status_page_window_reopen_round"),
        ("incidents", "0011_time_spent_resolved"),
    ]

    initial = True

    dependencies = [
        ("oncall", "0001_squashed_0007_escalation_level_lasts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SeverityLevel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='Short name, e.g. SEV-1.', max_length=20, unique=True)),
                ('label', models.CharField(help_text='e.g. Critical.', max_length=40)),
                ('rank', models.PositiveSmallIntegerField(help_text='1 is the most severe.', unique=True)),
                ('description', models.TextField(blank=True)),
                ('color', models.CharField(default='#666666', help_text='Badge colour, #rrggbb (e.g. #b71c1c).', max_length=7, validators=[django.core.validators.RegexValidator('\\A#[0-9a-fA-F]{6}\\Z', 'Give the colour as #rrggbb, e.g. #b71c1c.')])),
                ('ack_sla', models.DurationField(help_text='Unacknowledged this long after declaration, level 1 is paged again and the next level engaged; more than 0 s and at most 7 d.', validators=[oncall.validators.DurationWithin(datetime.timedelta(days=7))], verbose_name='acknowledge SLA')),
                ('first_update_interval', models.DurationField(help_text='First status update due this long after declaration; more than 0 s and at most 7 d.', validators=[oncall.validators.DurationWithin(datetime.timedelta(days=7))])),
                ('update_interval', models.DurationField(help_text='Later status updates due this long after the previous one; more than 0 s and at most 7 d.', validators=[oncall.validators.DurationWithin(datetime.timedelta(days=7))])),
                ('resolve_target', models.DurationField(help_text='Resolved within this long after declaration; more than 0 s and at most 90 d.', validators=[oncall.validators.DurationWithin(datetime.timedelta(days=90))])),
                ('observation_period', models.DurationField(default=datetime.timedelta(0), help_text='How long a resolved incident is watched before it may be closed; 0 s or more and at most 30 d.', validators=[oncall.validators.DurationWithin(datetime.timedelta(days=30), zero_allowed=True)])),
                ('postmortem_policy', models.CharField(choices=[('required', 'Required'), ('optional', 'Optional'), ('none', 'Not expected')], max_length=10)),
                ('postmortem_draft_business_days', models.PositiveSmallIntegerField(blank=True, help_text='Business days after resolution for the post-mortem draft.', null=True)),
                ('show_on_status_page', models.BooleanField(default=False)),
                ('status_page_window', models.DurationField(blank=True, help_text='How soon after declaration a customer-facing incident should be public on the status page: 0 publishes it at declaration; a longer window reminds the communications lead when it passes unpublished. Empty: publishing is optional and nobody is reminded.', null=True)),
                ('notify_customers', models.BooleanField(default=False)),
            ],
            options={
                'ordering': ['rank'],
                'constraints': [models.CheckConstraint(condition=models.Q(('ack_sla__gt', datetime.timedelta(0)), ('ack_sla__lte', datetime.timedelta(days=7))), name='severity_ack_sla_in_bounds'), models.CheckConstraint(condition=models.Q(('first_update_interval__gt', datetime.timedelta(0)), ('first_update_interval__lte', datetime.timedelta(days=7))), name='severity_first_update_in_bounds'), models.CheckConstraint(condition=models.Q(('update_interval__gt', datetime.timedelta(0)), ('update_interval__lte', datetime.timedelta(days=7))), name='severity_update_interval_in_bounds'), models.CheckConstraint(condition=models.Q(('resolve_target__gt', datetime.timedelta(0)), ('resolve_target__lte', datetime.timedelta(days=90))), name='severity_resolve_target_in_bounds'), models.CheckConstraint(condition=models.Q(('observation_period__gte', datetime.timedelta(0)), ('observation_period__lte', datetime.timedelta(days=30))), name='severity_observation_period_in_bounds'), models.CheckConstraint(condition=models.Q(('color__regex', '\\A#[0-9a-fA-F]{6}\\Z')), name='severity_color_is_hex')],
            },
        ),
        migrations.CreateModel(
            name='IncidentType',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=60, unique=True)),
                ('slug', models.SlugField(max_length=60, unique=True)),
                ('description', models.TextField(blank=True)),
                ('symptoms', models.TextField(blank=True, help_text='How this kind of incident shows itself.')),
                ('checklist', models.JSONField(blank=True, default=list, help_text="Initial actions, one string each; they become the incident's task list.")),
                ('restricted_by_default', models.BooleanField(default=False, help_text='Incidents of this type start restricted to their participants.')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='Service',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('slug', models.SlugField(max_length=100, unique=True)),
                ('owning_team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='services', to='oncall.team')),
                ('description', models.TextField(blank=True)),
                ('runbook_url', models.URLField(blank=True)),
                ('runbook', models.TextField(blank=True, help_text='Markdown.')),
                ('customer_facing', models.BooleanField(default=False)),
                ('escalation_policy', models.ForeignKey(blank=True, help_text='Who is paged for its incidents. Empty: the default policy.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='services', to='oncall.escalationpolicy')),
                ('depends_on', models.ManyToManyField(blank=True, related_name='dependents', to='incidents.service')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='Incident',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(editable=False, unique=True)),
                ('title', models.CharField(max_length=200)),
                ('summary', models.TextField(blank=True)),
                ('severity', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='incidents', to='incidents.severitylevel')),
                ('incident_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='incidents', to='incidents.incidenttype', verbose_name='type')),
                ('status', models.CharField(choices=[('triggered', 'Triggered'), ('investigating', 'Investigating'), ('identified', 'Identified'), ('monitoring', 'Monitoring'), ('resolved', 'Resolved'), ('closed', 'Closed')], default='triggered', max_length=20)),
                ('origin', models.CharField(choices=[('monitoring', 'Monitoring alert'), ('customer_report', 'Customer report'), ('internal', 'Internal report'), ('third_party', 'Third party')], default='internal', max_length=20, verbose_name='source')),
                ('users_affected_estimated', models.PositiveIntegerField(blank=True, null=True)),
                ('users_affected_confirmed', models.PositiveIntegerField(blank=True, null=True)),
                ('regions', models.JSONField(blank=True, default=list, help_text='Affected regions, e.g. eu-west-1.')),
                ('revenue_impact', models.CharField(choices=[('none', 'None'), ('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], default='none', max_length=10)),
                ('reputation_impact', models.CharField(choices=[('none', 'None'), ('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], default='none', max_length=10)),
                ('compliance_impact', models.CharField(choices=[('none', 'None'), ('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], default='none', max_length=10)),
                ('impact_description', models.TextField(blank=True)),
                ('customer_facing', models.BooleanField(default=False)),
                ('public_on_status_page', models.BooleanField(default=False)),
                ('is_restricted', models.BooleanField(default=False, help_text='Visible only to participants and holders of the restricted permission.', verbose_name='restricted')),
                ('is_drill', models.BooleanField(default=False, help_text='An exercise: pages only participants, left out of metrics.', verbose_name='drill')),
                ('mitigation', models.CharField(blank=True, choices=[('rollback', 'Rollback'), ('failover', 'Failover'), ('fix_forward', 'Fix forward'), ('workaround', 'Workaround'), ('degraded_mode', 'Degraded mode')], max_length=20)),
                ('mitigation_notes', models.TextField(blank=True)),
                ('resolution_summary', models.TextField(blank=True)),
                ('detected_at', models.DateTimeField(blank=True, help_text='When the problem was first noticed.', null=True)),
                ('declared_at', models.DateTimeField(editable=False)),
                ('acknowledged_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('reopened_at', models.DateTimeField(blank=True, editable=False, help_text='The latest reopen.', null=True)),
                ('reopen_acknowledged_at', models.DateTimeField(blank=True, editable=False, help_text="When the latest reopen's acknowledge round was acknowledged.", null=True)),
                ('time_spent_resolved', models.DurationField(default=datetime.timedelta(0), editable=False, help_text='Time spent resolved before being reopened (all reopens).')),
                ('mitigated_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('resolved_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('closed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('escalation_policy', models.ForeignKey(blank=True, editable=False, help_text='Chosen at declaration from the affected services (else the default policy).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incidents', to='oncall.escalationpolicy')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('services', models.ManyToManyField(blank=True, related_name='incidents', to='incidents.service', verbose_name='affected services')),
            ],
            options={
                'ordering': ['-declared_at'],
                'permissions': [('view_restricted_incident', 'Can see restricted incidents'), ('respond_incident', 'Can acknowledge, add notes and post updates'), ('command_incident', 'Can change severity, assign roles, resolve, reopen and close')],
                'indexes': [models.Index(fields=['status', '-declared_at'], name='incident_status_declared'), models.Index(fields=['-declared_at'], name='incident_declared')],
                'constraints': [models.CheckConstraint(condition=models.Q(('resolved_at__isnull', True), ('status__in', ['resolved', 'closed']), _connector='OR'), name='incident_resolved_at_only_when_resolved'), models.CheckConstraint(condition=models.Q(('closed_at__isnull', True), ('status', 'closed'), _connector='OR'), name='incident_closed_at_only_when_closed'), models.CheckConstraint(condition=models.Q(('status', 'triggered'), ('acknowledged_at__isnull', False), ('resolved_at__isnull', False), _connector='OR'), name='incident_worked_means_acknowledged')],
            },
        ),
        migrations.CreateModel(
            name='Participant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='participants', to='incidents.incident')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='incident_roles', to=settings.AUTH_USER_MODEL)),
                ('role', models.CharField(choices=[('commander', 'Incident commander'), ('technical_lead', 'Technical lead'), ('communications_lead', 'Communications lead'), ('scribe', 'Scribe'), ('sme', 'Subject-matter expert'), ('responder', 'Responder')], max_length=30)),
                ('joined_at', models.DateTimeField()),
                ('left_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['joined_at', 'pk'],
                'indexes': [models.Index(condition=models.Q(('left_at', None)), fields=['user', 'incident'], name='participant_current_by_user')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('left_at', None), ('role__in', ['commander', 'technical_lead', 'communications_lead', 'scribe'])), fields=('incident', 'role'), name='participant_one_holder_per_single_role'), models.UniqueConstraint(condition=models.Q(('left_at', None)), fields=('incident', 'user', 'role'), name='participant_role_held_once')],
            },
        ),
        migrations.CreateModel(
            name='IncidentTask',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tasks', to='incidents.incident')),
                ('position', models.PositiveSmallIntegerField()),
                ('title', models.CharField(max_length=300)),
                ('done_at', models.DateTimeField(blank=True, null=True)),
                ('done_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['position', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='EvidenceLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='evidence', to='incidents.incident')),
                ('kind', models.CharField(choices=[('dashboard', 'Dashboard'), ('logs', 'Log snapshot'), ('trace', 'Trace'), ('other', 'Other')], default='dashboard', max_length=20)),
                ('url', models.URLField(max_length=1000)),
                ('title', models.CharField(blank=True, max_length=200)),
                ('added_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('added_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['added_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='TimelineEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='timeline', to='incidents.incident')),
                ('kind', models.CharField(choices=[('declared', 'Declared'), ('acknowledged', 'Acknowledged'), ('status_changed', 'Status changed'), ('severity_changed', 'Severity changed'), ('role_assigned', 'Role assigned'), ('role_released', 'Role released'), ('note', 'Note'), ('status_update', 'Status update'), ('details_changed', 'Details changed'), ('task_added', 'Task added'), ('task_done', 'Task done'), ('task_reopened', 'Task reopened'), ('evidence_added', 'Evidence added'), ('resolved', 'Resolved'), ('reopened', 'Reopened'), ('closed', 'Closed'), ('escalated', 'Escalated'), ('ack_sla_breached', 'Acknowledge SLA breached'), ('update_overdue', 'Status update overdue'), ('resolve_target_breached', 'Resolve target breached'), ('nobody_to_page', 'Nobody to page'), ('status_page_overdue', 'Status page publication overdue'), ('notification_failed', 'Notification failed'), ('postmortem_reminder', 'Post-mortem reminder')], max_length=30)),
                ('occurred_at', models.DateTimeField()),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('source', models.CharField(choices=[('admin', 'Admin'), ('api', 'API'), ('chat', 'Chat'), ('integration', 'Integration'), ('engine', 'SLA engine'), ('page', 'Page (acknowledge link or SMS reply)'), ('system', 'System')], max_length=20)),
                ('message', models.TextField()),
                ('data', models.JSONField(blank=True, default=dict)),
                ('visibility', models.CharField(choices=[('internal', 'Internal'), ('external', 'External')], default='internal', max_length=10)),
                ('dispatched_at', models.DateTimeField(blank=True, editable=False, null=True)),
            ],
            options={
                'ordering': ['-occurred_at', '-pk'],
                'indexes': [models.Index(condition=models.Q(('dispatched_at__isnull', True)), fields=['occurred_at'], name='timeline_undispatched'), models.Index(fields=['incident', '-occurred_at'], name='timeline_incident_time'), models.Index(condition=models.Q(('kind', 'status_update')), fields=['incident', '-occurred_at'], name='timeline_incident_updates')],
            },
        ),
        migrations.CreateModel(
            name='Deadline',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deadlines', to='incidents.incident')),
                ('kind', models.CharField(choices=[('escalation', 'Escalation level'), ('ack_timeout', 'Acknowledge SLA'), ('update_overdue', 'Status update due'), ('resolve_breached', 'Resolve target'), ('status_page', 'Status page publication')], max_length=20)),
                ('level', models.PositiveSmallIntegerField(default=0, help_text='Escalation level position (0 for other kinds).')),
                ('round', models.PositiveSmallIntegerField(default=1, help_text='Which repeat: acknowledge re-page or missed update.')),
                ('due_at', models.DateTimeField()),
                ('fired_at', models.DateTimeField(blank=True, null=True)),
                ('cancelled_at', models.DateTimeField(blank=True, null=True)),
                ('targets', models.JSONField(blank=True, default=list, help_text='Who it paged or told, resolved when it fired.')),
                ('note', models.CharField(blank=True, max_length=200)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['due_at', 'pk'],
                'indexes': [models.Index(condition=models.Q(('cancelled_at', None), ('fired_at', None)), fields=['due_at'], name='deadline_pending_due'), models.Index(fields=['incident', 'kind'], name='deadline_incident_kind')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('cancelled_at', None), ('fired_at', None)), fields=('incident', 'kind', 'level', 'round'), name='deadline_one_pending_per_key'), models.CheckConstraint(condition=models.Q(('fired_at', None), ('cancelled_at', None), _connector='OR'), name='deadline_fired_or_cancelled_not_both')],
            },
        ),
        migrations.CreateModel(
            name='EngineHeartbeat',
            fields=[
                ('name', models.CharField(max_length=40, primary_key=True, serialize=False)),
                ('last_tick_at', models.DateTimeField()),
                ('last_tick_seconds', models.FloatField(default=0, help_text='How long the last tick took.')),
                ('last_fired', models.PositiveIntegerField(default=0)),
                ('last_lag_seconds', models.FloatField(default=0, help_text="Largest delay from a deadline's due time to its firing in the last tick.")),
            ],
        ),
        migrations.CreateModel(
            name='Integration',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='What sends, e.g. Grafana checkout alerts.', max_length=100)),
                ('service', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='integrations', to='incidents.service')),
                ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('key_prefix', models.CharField(editable=False, help_text="The key's first characters, to tell keys apart.", max_length=8)),
                ('critical_severity', models.ForeignKey(blank=True, help_text='Empty: SEV-1.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incidents.severitylevel')),
                ('error_severity', models.ForeignKey(blank=True, help_text='Empty: SEV-2.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incidents.severitylevel')),
                ('warning_severity', models.ForeignKey(blank=True, help_text='Empty: SEV-3.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incidents.severitylevel')),
                ('info_severity', models.ForeignKey(blank=True, help_text='Empty: SEV-4.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incidents.severitylevel')),
                ('is_active', models.BooleanField(default=True, help_text="An inactive integration's events are refused.", verbose_name='active')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='AlertGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('integration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_groups', to='incidents.integration')),
                ('dedup_key', models.CharField(max_length=255)),
                ('incident', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alert_groups', to='incidents.incident')),
                ('opened_at', models.DateTimeField()),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('alert_count', models.PositiveIntegerField(default=1)),
                ('last_alert_at', models.DateTimeField()),
                ('last_noted_at', models.DateTimeField()),
                ('noted_count', models.PositiveIntegerField(default=1, help_text='alert_count when the timeline last said so.')),
            ],
            options={
                'ordering': ['-opened_at'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('closed_at', None)), fields=('integration', 'dedup_key'), name='alertgroup_one_open_per_key')],
            },
        ),
        migrations.CreateModel(
            name='AlertEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('integration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_events', to='incidents.integration')),
                ('received_at', models.DateTimeField()),
                ('format', models.CharField(choices=[('events_v2', 'PagerDuty Events v2'), ('alertmanager', 'Alertmanager webhook')], default='events_v2', max_length=20)),
                ('payload', models.JSONField(help_text='The request body as received.')),
                ('dedup_key', models.CharField(max_length=255)),
                ('action', models.CharField(choices=[('trigger', 'Trigger'), ('acknowledge', 'Acknowledge'), ('resolve', 'Resolve')], max_length=12)),
                ('summary', models.CharField(blank=True, max_length=1024)),
                ('source', models.CharField(blank=True, help_text='The affected system, as the sender named it.', max_length=255)),
                ('severity', models.CharField(blank=True, max_length=10)),
                ('status', models.CharField(choices=[('received', 'Received'), ('processed', 'Processed'), ('failed', 'Failed'), ('suppressed', 'Suppressed (maintenance)')], default='received', max_length=12)),
                ('outcome', models.CharField(blank=True, help_text='What processing did.', max_length=200)),
                ('error', models.TextField(blank=True)),
                ('processed_at', models.DateTimeField(blank=True, null=True)),
                ('incident', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alert_events', to='incidents.incident')),
            ],
            options={
                'ordering': ['-received_at', '-pk'],
                'indexes': [models.Index(fields=['-received_at'], name='alertevent_received'), models.Index(fields=['integration', 'dedup_key'], name='alertevent_integration_key'), models.Index(condition=models.Q(('status', 'received')), fields=['received_at'], name='alertevent_unprocessed')],
            },
        ),
        migrations.CreateModel(
            name='MaintenanceWindow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('service', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='maintenance_windows', to='incidents.service')),
                ('starts_at', models.DateTimeField()),
                ('ends_at', models.DateTimeField()),
                ('reason', models.CharField(max_length=300)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['-starts_at'],
                'indexes': [models.Index(fields=['service', 'ends_at'], name='maintenance_service_ends')],
                'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='maintenance_ends_after_start', violation_error_message='A maintenance window must end after it starts.')],
            },
        ),
        migrations.CreateModel(
            name='Heartbeat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('service', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='heartbeats', to='incidents.service')),
                ('name', models.CharField(max_length=100)),
                ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('key_prefix', models.CharField(editable=False, max_length=8)),
                ('interval_minutes', models.PositiveIntegerField(default=60, help_text='Expected time between pings.')),
                ('grace_minutes', models.PositiveIntegerField(default=5, help_text='Lateness allowed before it counts as missed.')),
                ('severity', models.ForeignKey(blank=True, help_text='Of the incident a miss opens. Empty: SEV-2.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incidents.severitylevel')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('state', models.CharField(choices=[('new', 'Waiting for the first ping'), ('up', 'Up'), ('down', 'Down (ping missed)')], default='new', editable=False, max_length=8)),
                ('last_ping_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('down_since', models.DateTimeField(blank=True, editable=False, null=True)),
                ('incident', models.ForeignKey(blank=True, editable=False, help_text='The incident of the current outage.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='incidents.incident')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['name'],
                'indexes': [models.Index(condition=models.Q(('is_active', True), ('state', 'up')), fields=['last_ping_at'], name='heartbeat_up_last_ping')],
                'constraints': [models.CheckConstraint(condition=models.Q(('interval_minutes__gte', 1)), name='heartbeat_interval_positive')],
            },
        ),
        migrations.RunPython(seed_matrix, migrations.RunPython.noop),
        migrations.RunPython(create_groups, migrations.RunPython.noop),
        migrations.RunPython(mark_history_dispatched, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(grant_ingestion, migrations.RunPython.noop),
        migrations.RunPython(repair_severities, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(seed_windows, migrations.RunPython.noop),
    ]
