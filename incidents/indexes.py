"""Indexes for a million incidents that PostgreSQL and SQLite both accept, and the migration
operation that adds one to a large table without locking it.

`TrigramIndex` is a GIN index of UPPER(field) with `gin_trgm_ops` on PostgreSQL: Django's
`icontains` there is `UPPER(field::text) LIKE UPPER('%word%')`, which this index serves. Elsewhere
(SQLite) it is a plain index of UPPER(field), so a table rebuilt by a later SQLite migration keeps
working; SQLite searches with LIKE as before.

`TrigramExtension` creates pg_trgm on PostgreSQL and, unlike Django's, does nothing elsewhere when
migrating backwards too.

`AddIndexConcurrently` is Django's (CREATE INDEX CONCURRENTLY: writes go on while it builds; it
needs a non-atomic migration) on PostgreSQL, and a plain AddIndex elsewhere."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import AddIndexConcurrently as PostgresAddIndexConcurrently
from django.contrib.postgres.operations import TrigramExtension as PostgresTrigramExtension
from django.db import models
from django.db.migrations.operations import AddIndex
from django.db.models.functions import Upper


class TrigramIndex(GinIndex):
    """Serves `field__icontains` on PostgreSQL (needs the pg_trgm extension)."""

    def __init__(self, *, field: str, name: str):
        self.trigram_field = field
        super().__init__(OpClass(Upper(field), name="gin_trgm_ops"), name=name)

    def deconstruct(self):
        return "incidents.indexes.TrigramIndex", (), {"field": self.trigram_field, "name": self.name}

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return models.Index(Upper(self.trigram_field), name=self.name).create_sql(model, schema_editor, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class AddIndexConcurrently(PostgresAddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL (the migration must say `atomic = False`); a plain
    CREATE INDEX on other databases, which have no such thing."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class TrigramExtension(PostgresTrigramExtension):
    """pg_trgm, on PostgreSQL only (Django's asks SQLite for pg_extension when going backwards)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
