"""On-call, as it stood before the first release: people, teams, schedules, escalation policies
and API keys, the default escalation policy, and what the operator groups may do with them.

Squashed from 0001–0007, which a database migrated before the squash has recorded: Django then
counts this migration as applied. On a fresh database it runs, after the tables:

- the default escalation policy (oncall/seed.py); its first level pages until acknowledged,
  every later level informs until resolved;
- the operator groups' on-call permissions: everyone reads schedules and escalation policies;
  Managers also change them, add overrides (cover a shift, a holiday, a swap) and see every
  API key. The groups are made here if they do not exist yet (this is the lowest app);
  incidents adds its own permissions to them. Calendar feeds need no group permission: every
  staff user manages their own (oncall/admin/);
- the repairs the bounds brought, which find nothing on a fresh database (elidable: a later
  squash may drop them): teams with no working days (read as every day) work Monday–Friday
  (a team that really works every day ticks all seven in the admin), and loop counts and
  delay cells outside their bounds are brought to the nearest one.
"""

import datetime

import django.contrib.auth.models
import django.contrib.auth.validators
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import oncall.models
import oncall.validators

SCHEDULE_MODELS = ["schedule", "layer", "layermember", "override", "escalationpolicy", "escalationlevel", "escalationdelay"]
READERS = ["Viewers", "Responders", "Incident commanders", "Managers"]
EDITORS = ["Managers"]

LOOP_COUNT_LEAST, LOOP_COUNT_MOST = 1, 10
DELAY_MOST = datetime.timedelta(days=30)
MONDAY_TO_FRIDAY = [1, 2, 3, 4, 5]

UNTIL_ACKNOWLEDGED, UNTIL_RESOLVED = "until_acknowledged", "until_resolved"


def seed_default_policy(apps, schema_editor):
    """The procedures' matrix as the default policy; operators fill in its targets."""
    from oncall.seed import DEFAULT_LEVELS, DEFAULT_POLICY_NAME

    Policy = apps.get_model("oncall", "EscalationPolicy")
    Level = apps.get_model("oncall", "EscalationLevel")
    Delay = apps.get_model("oncall", "EscalationDelay")
    policy, created = Policy.objects.get_or_create(
        name=DEFAULT_POLICY_NAME,
        defaults={
            "is_default": True,
            "loop_count": 3,
            "description": "On-call engineer → team lead → engineering manager → director, with the "
            "delays of the response matrix. Used by services without a policy of their own.",
        },
    )
    if not created:
        return
    for position, (name, cells) in enumerate(DEFAULT_LEVELS, 1):
        level = Level.objects.create(policy=policy, position=position, name=name)
        for rank, (delay, business_hours) in cells.items():
            Delay.objects.create(level=level, severity_rank=rank, delay=delay, business_hours=business_hours)


def _schedule_permissions(apps, actions):
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for action in actions for model in SCHEDULE_MODELS]
    found = list(Permission.objects.filter(content_type__app_label="oncall", codename__in=codenames))
    assert len(found) == len(codenames), "on-call permissions are missing"
    return found


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; these are needed now.
    create_permissions(global_apps.get_app_config("oncall"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    for name in READERS:
        Group.objects.get_or_create(name=name)[0].permissions.add(*_schedule_permissions(apps, ["view"]))
    for name in EDITORS:
        Group.objects.get_or_create(name=name)[0].permissions.add(*_schedule_permissions(apps, ["add", "change", "delete"]))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    every = _schedule_permissions(apps, ["view", "add", "change", "delete"])
    for group in Group.objects.filter(name__in=READERS + EDITORS):
        group.permissions.remove(*every)


def grant_managers(apps, schema_editor):
    """Managers see every API key and make keys for others (everyone else: their own)."""
    create_permissions(global_apps.get_app_config("oncall"), apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    perms = Permission.objects.filter(content_type__app_label="oncall", codename__in=["view_apikey", "change_apikey"])
    Group.objects.get_or_create(name="Managers")[0].permissions.add(*perms)


def teams_work_monday_to_friday(apps, schema_editor):
    """Teams with no working days (read as every day) work Monday–Friday."""
    Team = apps.get_model("oncall", "Team")
    for team in Team.objects.only("pk", "working_days"):
        if not team.working_days:
            team.working_days = MONDAY_TO_FRIDAY
            team.save(update_fields=["working_days"])


def escalation_settings_within_bounds(apps, schema_editor):
    Policy = apps.get_model("oncall", "EscalationPolicy")
    Delay = apps.get_model("oncall", "EscalationDelay")
    Policy.objects.filter(loop_count__lt=LOOP_COUNT_LEAST).update(loop_count=LOOP_COUNT_LEAST)
    Policy.objects.filter(loop_count__gt=LOOP_COUNT_MOST).update(loop_count=LOOP_COUNT_MOST)
    Delay.objects.filter(delay__lt=datetime.timedelta(0)).update(delay=datetime.timedelta(0))
    Delay.objects.filter(delay__gt=DELAY_MOST).update(delay=DELAY_MOST)


def set_lasts(apps, schema_editor):
    """The first level of each policy (the on-call engineer) pages until acknowledged; every later
    level (team lead, managers, director) informs until resolved."""
    Level = apps.get_model("oncall", "EscalationLevel")
    first_of = {}
    for pk, policy_id, position in Level.objects.order_by("policy_id", "position").values_list("pk", "policy_id", "position"):
        first_of.setdefault(policy_id, pk)
    Level.objects.exclude(pk__in=first_of.values()).update(lasts=UNTIL_RESOLVED)
    Level.objects.filter(pk__in=first_of.values()).update(lasts=UNTIL_ACKNOWLEDGED)


class Migration(migrations.Migration):

    replaces = [
        ("oncall", "0001_initial"),
        ("oncall", "0002_schedules_and_policies"),
        ("oncall", "0003_default_policy"),
        ("oncall", "0004_schedule_permissions"),
        ("oncall", "0005_api_keys"),
        ("oncall", "0006_settings_bounds_and_working_days"),
        ("oncall", "0007_escalation_level_lasts"),
    ]

    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name='User',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('password', models.CharField(max_length=128, verbose_name='password')),
                ('last_login', models.DateTimeField(blank=True, null=True, verbose_name='last login')),
                ('is_superuser', models.BooleanField(default=False, help_text='Designates that this user has all permissions without explicitly assigning them.', verbose_name='superuser status')),
                ('username', models.CharField(error_messages={'unique': 'A user with that username already exists.'}, help_text='Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.', max_length=150, unique=True, validators=[django.contrib.auth.validators.UnicodeUsernameValidator()], verbose_name='username')),
                ('first_name', models.CharField(blank=True, max_length=150, verbose_name='first name')),
                ('last_name', models.CharField(blank=True, max_length=150, verbose_name='last name')),
                ('email', models.EmailField(blank=True, max_length=254, verbose_name='email address')),
                ('is_staff', models.BooleanField(default=False, help_text='Designates whether the user can log into this admin site.', verbose_name='staff status')),
                ('is_active', models.BooleanField(default=True, help_text='Designates whether this user should be treated as active. Unselect this instead of deleting accounts.', verbose_name='active')),
                ('date_joined', models.DateTimeField(default=django.utils.timezone.now, verbose_name='date joined')),
                ('time_zone', models.CharField(default='UTC', help_text='IANA name, e.g. Europe/London. Times in Vigil are shown in this zone.', max_length=64, validators=[oncall.models.validate_time_zone])),
                ('groups', models.ManyToManyField(blank=True, help_text='The groups this user belongs to. A user will get all permissions granted to each of their groups.', related_name='user_set', related_query_name='user', to='auth.group', verbose_name='groups')),
                ('user_permissions', models.ManyToManyField(blank=True, help_text='Specific permissions for this user.', related_name='user_set', related_query_name='user', to='auth.permission', verbose_name='user permissions')),
            ],
            options={
                'verbose_name': 'user',
                'verbose_name_plural': 'users',
                'abstract': False,
                'swappable': 'AUTH_USER_MODEL',
            },
            managers=[
                ('objects', django.contrib.auth.models.UserManager()),
            ],
        ),
        migrations.CreateModel(
            name='Team',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('slug', models.SlugField(max_length=100, unique=True)),
                ('description', models.TextField(blank=True)),
                ('manager', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='managed_teams', to=settings.AUTH_USER_MODEL)),
                ('time_zone', models.CharField(default='UTC', max_length=64, validators=[oncall.models.validate_time_zone])),
                ('working_days', models.JSONField(default=oncall.models.list_of_weekdays, error_messages={'blank': 'Tick the days the team works (all seven for a team that works every day).'}, help_text='ISO weekday numbers, 1 = Monday … 7 = Sunday; at least one (a team that works every day lists all seven).', validators=[oncall.models.validate_working_days])),
                ('working_hours_start', models.TimeField(default=datetime.time(9, 0))),
                ('working_hours_end', models.TimeField(default=datetime.time(17, 0), help_text="In the team's zone. An end before the start crosses midnight (a night team); an end equal to the start means all day (24 h).")),
                ('members', models.ManyToManyField(blank=True, related_name='teams', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='Schedule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('slug', models.SlugField(max_length=100, unique=True)),
                ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='schedules', to='oncall.team')),
                ('time_zone', models.CharField(default='UTC', help_text='Hand-offs and restrictions are in this zone.', max_length=64, validators=[oncall.models.validate_time_zone])),
                ('description', models.TextField(blank=True)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='Layer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('schedule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='layers', to='oncall.schedule')),
                ('name', models.CharField(max_length=100)),
                ('priority', models.PositiveSmallIntegerField(default=1, help_text='Higher layers cover lower ones.')),
                ('rotation', models.CharField(choices=[('daily', 'Daily'), ('weekly', 'Weekly'), ('hours', 'Every N hours')], default='weekly', max_length=10)),
                ('rotation_hours', models.PositiveSmallIntegerField(blank=True, help_text="Shift length for 'every N hours'.", null=True)),
                ('start_date', models.DateField(help_text="The first shift starts on this date at the hand-off time (schedule's zone).")),
                ('handoff_time', models.TimeField(default=datetime.time(9, 0))),
                ('restriction_days', models.JSONField(blank=True, default=list, help_text='ISO weekdays covered (1 = Monday); empty = every day.')),
                ('restriction_start', models.TimeField(blank=True, null=True)),
                ('restriction_end', models.TimeField(blank=True, help_text='May be before the start: the window crosses midnight.', null=True)),
            ],
            options={
                'ordering': ['schedule', '-priority'],
                'constraints': [models.UniqueConstraint(fields=('schedule', 'priority'), name='layer_priority_unique_per_schedule'), models.CheckConstraint(condition=models.Q(models.Q(('rotation', 'hours'), _negated=True), ('rotation_hours__gte', 1), _connector='OR'), name='layer_hours_rotation_has_length'), models.CheckConstraint(condition=models.Q(models.Q(('restriction_end__isnull', True), ('restriction_start__isnull', True)), models.Q(('restriction_end__isnull', False), ('restriction_start__isnull', False)), _connector='OR'), name='layer_restriction_window_complete')],
            },
        ),
        migrations.CreateModel(
            name='LayerMember',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('layer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='members', to='oncall.layer')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='layer_memberships', to=settings.AUTH_USER_MODEL)),
                ('position', models.PositiveSmallIntegerField()),
            ],
            options={
                'ordering': ['layer', 'position'],
                'constraints': [models.UniqueConstraint(fields=('layer', 'position'), name='layer_member_position_unique')],
            },
        ),
        migrations.CreateModel(
            name='Override',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('schedule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='overrides', to='oncall.schedule')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='overrides', to=settings.AUTH_USER_MODEL)),
                ('start', models.DateTimeField()),
                ('end', models.DateTimeField()),
                ('reason', models.CharField(blank=True, max_length=200)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['start'],
                'indexes': [models.Index(fields=['schedule', 'end', 'start'], name='override_schedule_window')],
                'constraints': [models.CheckConstraint(condition=models.Q(('end__gt', models.F('start'))), name='override_ends_after_start')],
            },
        ),
        migrations.CreateModel(
            name='CalendarFeed',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='calendar_feeds', to=settings.AUTH_USER_MODEL)),
                ('schedule', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='calendar_feeds', to='oncall.schedule')),
                ('token_hash', models.CharField(max_length=64, unique=True)),
                ('token_prefix', models.CharField(help_text='The first characters, to tell feeds apart.', max_length=8)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('schedule__isnull', True), ('user__isnull', False)), models.Q(('schedule__isnull', False), ('user__isnull', True)), _connector='OR'), name='calendar_feed_for_a_user_or_a_schedule')],
            },
        ),
        migrations.CreateModel(
            name='EscalationPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='escalation_policies', to='oncall.team')),
                ('description', models.TextField(blank=True)),
                ('loop_count', models.PositiveSmallIntegerField(default=3, help_text='How many times an unacknowledged incident re-pages level 1 (and engages the next level early), one acknowledge-SLA period apart; 1 to 10.', validators=[django.core.validators.MinValueValidator(1, 'Re-page at least 1 time.'), django.core.validators.MaxValueValidator(10, 'Re-page at most 10 times.')])),
                ('is_default', models.BooleanField(default=False, help_text='Used for services without a policy of their own.')),
            ],
            options={
                'verbose_name_plural': 'escalation policies',
                'ordering': ['name'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('is_default',), name='one_default_escalation_policy'), models.CheckConstraint(condition=models.Q(('loop_count__gte', 1), ('loop_count__lte', 10)), name='escalation_policy_loop_count_in_bounds')],
            },
        ),
        migrations.CreateModel(
            name='EscalationLevel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('policy', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='levels', to='oncall.escalationpolicy')),
                ('position', models.PositiveSmallIntegerField(help_text='1 is engaged first.')),
                ('name', models.CharField(help_text='e.g. On-call engineer, Team lead, Engineering manager.', max_length=100)),
                ('lasts', models.CharField(choices=[('until_acknowledged', 'Page until acknowledged'), ('until_resolved', 'Inform until resolved')], default='until_acknowledged', help_text='Page until acknowledged (on-call engineers: re-paged until someone acknowledges), or inform until resolved (management: brought in by how long the incident has run; after acknowledgement told who acknowledged and who commands, never paged).', max_length=20)),
                ('users', models.ManyToManyField(blank=True, related_name='escalation_levels', to=settings.AUTH_USER_MODEL)),
                ('schedules', models.ManyToManyField(blank=True, help_text='Whoever is on call on these when engaged.', related_name='escalation_levels', to='oncall.schedule')),
            ],
            options={
                'ordering': ['policy', 'position'],
                'constraints': [models.UniqueConstraint(fields=('policy', 'position'), name='escalation_level_position_unique')],
            },
        ),
        migrations.CreateModel(
            name='EscalationDelay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='delays', to='oncall.escalationlevel')),
                ('severity_rank', models.PositiveSmallIntegerField()),
                ('delay', models.DurationField(help_text='Counted from declaration; 0 s or more and at most 30 d.', validators=[oncall.validators.DurationWithin(datetime.timedelta(days=30), zero_allowed=True)])),
                ('business_hours', models.BooleanField(default=False, help_text="If the delay ends outside the team's working hours, wait for the next working-hours start.")),
            ],
            options={
                'ordering': ['level', 'severity_rank'],
                'constraints': [models.UniqueConstraint(fields=('level', 'severity_rank'), name='escalation_delay_one_per_severity'), models.CheckConstraint(condition=models.Q(('delay__gte', datetime.timedelta(0)), ('delay__lte', datetime.timedelta(days=30))), name='escalation_delay_in_bounds')],
            },
        ),
        migrations.CreateModel(
            name='ApiKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='What uses it, e.g. Slack bot, Alertmanager.', max_length=100)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to=settings.AUTH_USER_MODEL)),
                ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('prefix', models.CharField(editable=False, help_text="The key's first characters, to tell keys apart.", max_length=16)),
                ('scopes', models.JSONField(default=list, help_text='Any of read, write, ingest, chat.')),
                ('rate_limit_per_minute', models.PositiveIntegerField(default=600, help_text='Requests per minute before 429.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
            ],
            options={
                'verbose_name': 'API key',
                'ordering': ['-created_at'],
            },
        ),
        migrations.RunPython(seed_default_policy, migrations.RunPython.noop),
        migrations.RunPython(grant, revoke),
        migrations.RunPython(grant_managers, migrations.RunPython.noop),
        migrations.RunPython(teams_work_monday_to_friday, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(escalation_settings_within_bounds, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(set_lasts, migrations.RunPython.noop),
    ]
