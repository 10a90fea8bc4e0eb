"""The status page's indexes: public incidents by resolution time (partial), for its 90 days
summarised by aggregate queries and for a day's incidents; reopenings by time, for its uptime.

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, outside a transaction, so that upgrading a
live installation with a million incidents does not lock the incidents table while it builds;
other databases get a plain index.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """AddIndexConcurrently on PostgreSQL, AddIndex elsewhere (the same state either way)."""

    atomic = False

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            AddIndexConcurrently.database_forwards(self, app_label, schema_editor, from_state, to_state)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            AddIndexConcurrently.database_backwards(self, app_label, schema_editor, from_state, to_state)
        else:
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def _ensure_not_in_transaction(self, schema_editor):
        AddIndexConcurrently._ensure_not_in_transaction(self, schema_editor)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("incidents", "0006_title_search_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="incident",
            index=models.Index(
                condition=models.Q(("is_drill", False), ("is_restricted", False), ("public_on_status_page", True)),
                fields=["resolved_at"],
                name="incident_public_resolved",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="timelineevent",
            index=models.Index(condition=models.Q(("kind", "reopened")), fields=["occurred_at"], name="timeline_reopened"),
        ),
    ]
