"""The status page's indexes: public incidents by resolution time (partial), for its 90 days
summarised by aggregate queries and for a day's incidents; reopenings by time, for its uptime.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, outside a transaction, so that upgrading a
live installation with a million incidents does not lock the incidents table while it builds;
other databases get a plain index.
"""

from django.db import migrations, models

from oncall.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("incidents", "0006_title_search_index"),
    ]

    operations = [
        AddIndexOnline(
            model_name="incident",
            index=models.Index(
                condition=models.Q(("is_drill", False), ("is_restricted", False), ("public_on_status_page", True)),
                fields=["resolved_at"],
                name="incident_public_resolved",
            ),
        ),
        AddIndexOnline(
            model_name="timelineevent",
            index=models.Index(condition=models.Q(("kind", "reopened")), fields=["occurred_at"], name="timeline_reopened"),
        ),
    ]
