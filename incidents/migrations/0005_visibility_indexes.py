from django.db import migrations, models

from oncall.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction: a live installation keeps
    # declaring incidents while the index builds.
    atomic = False

    dependencies = [
        ("incidents", "0004_lifecycle_order_and_resolution_summary"),
    ]

    operations = [
        AddIndexOnline(
            model_name="incident",
            index=models.Index(fields=["is_restricted", "id"], name="incident_visibility"),
        ),
    ]
