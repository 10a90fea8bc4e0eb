"""Indexes for a million incidents that PostgreSQL and SQLite both accept (the migrations add them
with `oncall.migration_ops.AddIndexOnline`, which does not lock a large table).

`TrigramIndex` is a GIN index of UPPER(field) with `gin_trgm_ops` on PostgreSQL: Django's
`icontains` there is `UPPER(field::text) LIKE UPPER('%word%')`, which this index serves. Elsewhere
(SQLite) it is a plain index of UPPER(field), so a table rebuilt by a later SQLite migration keeps
working; SQLite searches with LIKE as before.

`TrigramExtension` creates pg_trgm on PostgreSQL and, unlike Django's, does nothing elsewhere when
migrating backwards too."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension as PostgresTrigramExtension
from django.db import models
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



class TrigramExtension(PostgresTrigramExtension):
    """pg_trgm, on PostgreSQL only (Django's asks SQLite for pg_extension when going backwards)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
