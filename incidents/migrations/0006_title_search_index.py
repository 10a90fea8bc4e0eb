"""Title words are searched through a trigram index: the pg_trgm extension and a GIN index of
UPPER(title) on PostgreSQL (a plain index elsewhere).

Non-atomic, so that PostgreSQL builds the index with CREATE INDEX CONCURRENTLY: a live installation
keeps declaring and updating incidents while it builds. pg_trgm is a trusted extension (PostgreSQL
13+): the database owner may create it; on a database where Vigil's role may not, a superuser runs
`CREATE EXTENSION pg_trgm;` in Vigil's database once before migrating (see the README)."""

from django.db import migrations

import incidents.indexes
from oncall.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("incidents", "0005_visibility_indexes"),
    ]

    operations = [
        incidents.indexes.TrigramExtension(),
        AddIndexOnline(
            model_name="incident",
            index=incidents.indexes.TrigramIndex(field="title", name="incident_title_trgm"),
        ),
    ]
