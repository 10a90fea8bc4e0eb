"""The status page's 90 days as one index range: public incidents that ended after the window's
start or are still open (`COALESCE(resolved_at, 9999-12-31)`), with the columns its aggregates
read, so that PostgreSQL answers them with an index-only scan instead of visiting ~10,000
table rows scattered over a million-row table.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL (no lock on the incidents table while it
builds); other databases get a plain index, without the included columns (PostgreSQL only).
"""

import datetime

from django.db import migrations, models
from django.db.models.functions import Coalesce

from oncall.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("incidents", "0007_status_indexes"),
    ]

    operations = [
        AddIndexOnline(
            model_name="incident",
            index=models.Index(
                Coalesce(
                    "resolved_at",
                    models.Value(datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.UTC), output_field=models.DateTimeField()),
                ),
                condition=models.Q(("is_drill", False), ("is_restricted", False), ("public_on_status_page", True)),
                include=("id", "status", "severity", "detected_at", "declared_at", "resolved_at"),
                name="incident_public_window",
            ),
        ),
    ]
