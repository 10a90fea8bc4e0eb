"""Moving one app's migrations in a test, and putting every app back afterwards."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(app: str, name: str):
    """Migrate `app` to `name` (forwards or backwards); the app registry as it stands there."""
    executor = MigrationExecutor(connection)
    executor.migrate([(app, name)])
    return executor.loader.project_state([(app, name)]).apps


def migrate_to_the_latest() -> None:
    """Every app back at its newest migration. A test that moved one back must leave the schema as
    the rest of the suite expects it: serialized_rollback restores rows, not columns, and a test
    run later would find a column missing."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
