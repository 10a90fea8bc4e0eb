"""The escalation figures' index: deadlines by when they fired (partial: fired rows only), for
escalations by level, acknowledge-SLA breaches and the pager's latency over a period
(comms/reports).

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, outside a transaction, so that upgrading a
live installation does not lock the deadlines table while it builds; other databases get a plain
index.
"""

from django.db import migrations, models

from oncall.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("incidents", "0008_status_window_index"),
    ]

    operations = [
        AddIndexOnline(
            model_name="deadline",
            index=models.Index(condition=models.Q(("fired_at__isnull", False)), fields=["fired_at"], name="deadline_fired"),
        ),
    ]
