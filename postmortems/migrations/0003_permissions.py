"""Who may do what with post-mortems: Incident commanders and Managers write them and their
action items; Viewers and Responders read them."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ("postmortem", "postmortemtimelineentry", "why", "actionitem")
READ = [f"view_{m}" for m in MODELS]
WRITE = READ + [f"{verb}_{m}" for m in MODELS for verb in ("add", "change")] + [
    # Inline rows can be removed from the post-mortem page; the post-mortem itself never.
    "delete_postmortemtimelineentry", "delete_why", "delete_actionitem",
]
GROUPS = {"Viewers": READ, "Responders": READ, "Incident commanders": WRITE, "Managers": WRITE}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; this one needs them now.
    create_permissions(global_apps.get_app_config("postmortems"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="postmortems", codename__in=codenames))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="postmortems"))


class Migration(migrations.Migration):
    dependencies = [
        ("postmortems", "0002_reminders_sent"),
        ("incidents", "0003_groups"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
