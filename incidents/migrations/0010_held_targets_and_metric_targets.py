"""What an incident was held to, and the targets of the metrics.

- Each incident keeps the due instants and targets it is held to (`incidents.sla.held`), stamped
  from now on by `declare` and `change_severity`. Existing incidents are backfilled from their
  severity as it is at this migration: older incidents are held to that, whatever it was when they ran.
- Severities gain MTTA/MTTR targets (seeded for SEV-1…SEV-4, else their acknowledge SLA and
  resolve target); one `MetricTargets` row holds the MTTD and post-mortem completion targets.
- Managers may view and change the metric targets, as they change severities.

Reversing drops the fields and the row with the schema (the backfill's reverse does nothing).
"""

import datetime

import django.core.validators
import oncall.validators
from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations, models
from django.db.models import ExpressionWrapper, F

WALL = "wall"
MANAGER_GRANTS = ["view_metrictargets", "change_metrictargets"]


def seed_targets(apps, schema_editor):
    from incidents.seed import MEAN_TARGETS, METRIC_TARGETS

    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    for severity in SeverityLevel.objects.all():
        targets = MEAN_TARGETS.get(severity.name) or dict(
            mtta_target=severity.ack_sla or None, mttr_target=severity.resolve_target or None
        )
        SeverityLevel.objects.filter(pk=severity.pk).update(**targets)
    apps.get_model("incidents", "MetricTargets").objects.update_or_create(pk=1, defaults=METRIC_TARGETS)


def backfill_held(apps, schema_editor):
    """Wall-clock targets in one UPDATE per severity; a severity on a working-hours clock through
    the engine's own computation (`sla.held`), incident by incident. The running code's models are
    only built in memory from this migration's rows, never queried: a database upgraded past later
    migrations in one go has not got their columns yet."""
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    Incident = apps.get_model("incidents", "Incident")
    at = lambda duration: ExpressionWrapper(F("declared_at") + duration, output_field=models.DateTimeField())  # noqa: E731
    for sev in SeverityLevel.objects.all():
        incidents = Incident.objects.filter(severity=sev)
        incidents.update(
            held_update_interval=sev.update_interval, held_mtta_target=sev.mtta_target, held_mttr_target=sev.mttr_target
        )
        walls = {"ack_due_at": (sev.ack_sla_clock, sev.ack_sla), "first_update_due_at": (sev.update_clock, sev.first_update_interval),
                 "resolve_due_at": (sev.resolve_clock, sev.resolve_target)}
        incidents.update(**{name: at(length) for name, (clock, length) in walls.items() if clock == WALL})
        if all(clock == WALL for clock, _ in walls.values()) or not incidents.exists():
            continue
        from incidents import deadlines, sla
        from incidents.models import Incident as Current, SeverityLevel as CurrentSeverity

        severity = CurrentSeverity(**{field: getattr(sev, field) for field in _SEVERITY_FIELDS})
        calendars = {}
        for row in incidents.values("pk", "declared_at", "escalation_policy_id").iterator():
            policy_id = row["escalation_policy_id"]
            if policy_id not in calendars:
                calendars[policy_id] = deadlines.calendar_of(_policy(policy_id))
            held = sla.held(Current(pk=row["pk"], declared_at=row["declared_at"], severity=severity), calendars[policy_id])
            Incident.objects.filter(pk=row["pk"]).update(
                **{name: held[name] for name, (clock, _) in walls.items() if clock != WALL}
            )


# What `sla.held` reads of a severity.
_SEVERITY_FIELDS = (
    "id", "name", "rank", "ack_sla", "ack_sla_clock", "first_update_interval", "update_interval", "update_clock",
    "resolve_target", "resolve_clock", "mtta_target", "mttr_target",
)


def _policy(policy_id):
    """The escalation policy whose team's working hours an incident counts on (oncall's tables)."""
    from oncall.models import EscalationPolicy

    return EscalationPolicy.objects.select_related("team").filter(pk=policy_id).first() if policy_id else None


def grant_managers(apps, schema_editor):
    create_permissions(global_apps.get_app_config("incidents"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Managers").first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(content_type__app_label="incidents", codename__in=MANAGER_GRANTS))


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0009_fired_deadlines_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='MetricTargets',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mttd_target', models.DurationField(default=datetime.timedelta(seconds=300), help_text='The mean time to detect (declared, or first alert, minus detected) should stay within this; more than 0 s and at most 90 d.', validators=[oncall.validators.DurationWithin(datetime.timedelta(days=90))], verbose_name='MTTD target')),
                ('postmortem_completion_target', models.PositiveSmallIntegerField(default=100, help_text='The share of required post-mortems published by their due date should reach this; 1 to 100 %.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(100)], verbose_name='post-mortem completion target (%)')),
            ],
            options={
                'verbose_name': 'metric targets',
                'verbose_name_plural': 'metric targets',
            },
        ),
        migrations.AddField(
            model_name='incident',
            name='ack_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='acknowledge due'),
        ),
        migrations.AddField(
            model_name='incident',
            name='first_update_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='first update due'),
        ),
        migrations.AddField(
            model_name='incident',
            name='held_mtta_target',
            field=models.DurationField(blank=True, editable=False, null=True, verbose_name='MTTA target held to'),
        ),
        migrations.AddField(
            model_name='incident',
            name='held_mttr_target',
            field=models.DurationField(blank=True, editable=False, null=True, verbose_name='MTTR target held to'),
        ),
        migrations.AddField(
            model_name='incident',
            name='held_update_interval',
            field=models.DurationField(blank=True, editable=False, null=True, verbose_name='update cadence held to'),
        ),
        migrations.AddField(
            model_name='incident',
            name='resolve_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='resolve due'),
        ),
        migrations.AddField(
            model_name='severitylevel',
            name='mtta_target',
            field=models.DurationField(blank=True, help_text="The mean time to acknowledge this severity's incidents should stay within this; more than 0 s and at most 90 d. Empty: no target.", null=True, validators=[oncall.validators.DurationWithin(datetime.timedelta(days=90))], verbose_name='MTTA target'),
        ),
        migrations.AddField(
            model_name='severitylevel',
            name='mttr_target',
            field=models.DurationField(blank=True, help_text="The mean time to resolve this severity's incidents should stay within this; more than 0 s and at most 90 d. Empty: no target.", null=True, validators=[oncall.validators.DurationWithin(datetime.timedelta(days=90))], verbose_name='MTTR target'),
        ),
        migrations.AddConstraint(
            model_name='severitylevel',
            constraint=models.CheckConstraint(condition=models.Q(('mtta_target__isnull', True), models.Q(('mtta_target__gt', datetime.timedelta(0)), ('mtta_target__lte', datetime.timedelta(days=90))), _connector='OR'), name='severity_mtta_target_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='severitylevel',
            constraint=models.CheckConstraint(condition=models.Q(('mttr_target__isnull', True), models.Q(('mttr_target__gt', datetime.timedelta(0)), ('mttr_target__lte', datetime.timedelta(days=90))), _connector='OR'), name='severity_mttr_target_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='metrictargets',
            constraint=models.CheckConstraint(condition=models.Q(('pk', 1)), name='metric_targets_one_row'),
        ),
        migrations.AddConstraint(
            model_name='metrictargets',
            constraint=models.CheckConstraint(condition=models.Q(('mttd_target__gt', datetime.timedelta(0)), ('mttd_target__lte', datetime.timedelta(days=90))), name='metric_targets_mttd_in_bounds'),
        ),
        migrations.AddConstraint(
            model_name='metrictargets',
            constraint=models.CheckConstraint(condition=models.Q(('postmortem_completion_target__gte', 1), ('postmortem_completion_target__lte', 100)), name='metric_targets_completion_is_a_share'),
        ),
        migrations.RunPython(seed_targets, migrations.RunPython.noop),
        migrations.RunPython(backfill_held, migrations.RunPython.noop),
        migrations.RunPython(grant_managers, migrations.RunPython.noop),
    ]
