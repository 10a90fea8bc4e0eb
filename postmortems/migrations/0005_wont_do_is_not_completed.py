"""Clear the completion time the API used to stamp on "won't do" action items (only "done" is completed)."""

from django.db import migrations


def clear_wont_do_completion(apps, schema_editor):
    apps.get_model("postmortems", "ActionItem").objects.filter(status="wont_do").exclude(completed_at=None).update(
        completed_at=None
    )


class Migration(migrations.Migration):
    dependencies = [("postmortems", "0004_action_items_undated_last")]

    operations = [migrations.RunPython(clear_wont_do_completion, migrations.RunPython.noop)]
