"""Updates on cadence read each incident's status updates and resolutions in order: a partial
index of those events by (incident, time, id), with their kind included, so that the metrics read
them from the index alone. Built with CREATE INDEX CONCURRENTLY on PostgreSQL (the timeline is the
largest table); other databases get a plain index, without the included column.
"""

from django.db import migrations, models

from oncall.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("incidents", "0010_held_targets_and_metric_targets"),
    ]

    operations = [
        AddIndexOnline(
            model_name="timelineevent",
            index=models.Index(
                condition=models.Q(("kind__in", ["status_update", "resolved"])),
                fields=["incident", "occurred_at", "id"],
                include=("kind",),
                name="timeline_incident_cadence",
            ),
        ),
    ]
