"""Give the operator groups the on-call permissions: everyone reads schedules and escalation
policies; Managers also change them and add overrides (cover a shift, a holiday, a swap).

The groups come from incidents/migrations/0003_groups. Calendar feeds need no group permission:
every staff user manages their own (oncall/admin.py).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["schedule", "layer", "layermember", "override", "escalationpolicy", "escalationlevel", "escalationdelay"]
READERS = ["Viewers", "Responders", "Incident commanders", "Managers"]
EDITORS = ["Managers"]


def _permissions(apps, actions):
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for action in actions for model in MODELS]
    found = list(Permission.objects.filter(content_type__app_label="oncall", codename__in=codenames))
    assert len(found) == len(codenames), "on-call permissions are missing"
    return found


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; these are needed now.
    create_permissions(global_apps.get_app_config("oncall"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    for name in READERS:
        Group.objects.get_or_create(name=name)[0].permissions.add(*_permissions(apps, ["view"]))
    for name in EDITORS:
        Group.objects.get_or_create(name=name)[0].permissions.add(*_permissions(apps, ["add", "change", "delete"]))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    every = _permissions(apps, ["view", "add", "change", "delete"])
    for group in Group.objects.filter(name__in=READERS + EDITORS):
        group.permissions.remove(*every)


class Migration(migrations.Migration):
    dependencies = [
        ("oncall", "0003_default_policy"),
        ("incidents", "0003_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
