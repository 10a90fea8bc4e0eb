"""`incidents.0008` holds the incidents that existed before it to their severity as it stands at
migration time, on each target's clock, and seeds the metric targets."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.contrib.auth.models import Group

from incidents import models
from incidents.models import MetricTargets, SeverityLevel
from tests.migrating import migrate, migrate_to_the_latest

SATURDAY = datetime(2026, 3, 28, 10, 0, tzinfo=dt_timezone.utc)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_existing_incidents_are_held_to_their_severity_at_migration_time():
    before = migrate("incidents", "0009_fired_deadlines_index")
    Old = before.get_model("incidents", "Incident")
    severities = before.get_model("incidents", "SeverityLevel").objects
    # SEV-3 acknowledges on business hours here: the default week, Monday–Friday 09:00–17:00 UTC.
    severities.filter(name="SEV-3").update(ack_sla_clock="business_hours")
    Old.objects.create(number=801, title="Old SEV-1", severity=severities.get(name="SEV-1"), declared_at=SATURDAY)
    Old.objects.create(number=802, title="Old SEV-3", severity=severities.get(name="SEV-3"), declared_at=SATURDAY)
    try:
        # Read through the migrated state's model: later migrations add columns the code's model has.
        Incident = migrate("incidents", "0010_held_targets_and_metric_targets").get_model("incidents", "Incident")
        sev1 = Incident.objects.get(number=801)
        assert (sev1.ack_due_at, sev1.first_update_due_at, sev1.resolve_due_at) == (
            SATURDAY + timedelta(minutes=5), SATURDAY + timedelta(minutes=5), SATURDAY + timedelta(hours=1)
        )
        assert (sev1.held_update_interval, sev1.held_mtta_target, sev1.held_mttr_target) == (
            timedelta(minutes=15), timedelta(minutes=5), timedelta(hours=1)
        )
        sev3 = Incident.objects.get(number=802)
        # One working hour from Saturday: Monday 09:00 → 10:00. Its other targets are on the wall clock.
        assert sev3.ack_due_at == datetime(2026, 3, 30, 10, 0, tzinfo=dt_timezone.utc)
        assert sev3.resolve_due_at == SATURDAY + timedelta(hours=24)
        assert sev3.held_mttr_target == timedelta(hours=24)
        assert MetricTargets.load().mttd_target == timedelta(minutes=5)
        assert Group.objects.get(name="Managers").permissions.filter(codename="change_metrictargets").exists()
    finally:
        migrate_to_the_latest()
        models.Incident.objects.filter(number__in=[801, 802]).delete()
        SeverityLevel.objects.filter(name="SEV-3").update(ack_sla_clock="wall")
