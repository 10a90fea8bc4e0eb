"""Seed what comms needs on a fresh database: the shipped message templates (as rows operators
edit in the admin), the stakeholder groups the procedures name, and the comms permissions of
the operator groups made by incidents 0003."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

# Who is kept informed, as the procedures describe it. Severities by name; subscriptions are
# comms.models.Subscription values.
STAKEHOLDER_GROUPS = [
    dict(
        name="Engineering", slug="engineering", audience="internal",
        description="Engineering at large: internal updates on every incident.",
        subscriptions=["internal_updates"], severities=["SEV-1", "SEV-2", "SEV-3", "SEV-4"],
    ),
    dict(
        name="Leadership", slug="leadership", audience="executives",
        description="Executives: short summaries of critical and high-severity incidents.",
        subscriptions=["executive_summaries"], severities=["SEV-1", "SEV-2"],
    ),
    dict(
        name="Customer support", slug="customer-support", audience="internal",
        description="Support staff: internal updates, and a copy of what customers are told, so they can answer tickets.",
        subscriptions=["internal_updates", "customer_notices"], severities=["SEV-1", "SEV-2", "SEV-3"],
    ),
    dict(
        name="Customers", slug="customers", audience="customers",
        description="Customer contacts (outside addresses): customer notices for the severities that notify customers.",
        subscriptions=["customer_notices"], severities=None,  # None: every severity with notify_customers
    ),
]

COMMS_MODELS = ["contactmethod", "notificationrule", "stakeholdergroup", "messagetemplate", "notification"]
VIEWER_PERMS = ["view_notification", "view_stakeholdergroup", "view_messagetemplate"]
# Responders manage their own contact methods and rules (the admin shows only their own
# without the change permission).
RESPONDER_PERMS = VIEWER_PERMS + ["add_contactmethod", "add_notificationrule"]
MANAGER_PERMS = [f"{action}_{model}" for model in COMMS_MODELS for action in ("view", "add", "change", "delete")]
GROUP_PERMS = {
    "Viewers": VIEWER_PERMS,
    "Responders": RESPONDER_PERMS,
    "Incident commanders": RESPONDER_PERMS,
    "Managers": MANAGER_PERMS,
}


def seed(apps, schema_editor):
    from comms.defaults import DEFAULTS

    MessageTemplate = apps.get_model("comms", "MessageTemplate")
    for (kind, audience, channel), (subject, body) in DEFAULTS.items():
        MessageTemplate.objects.get_or_create(
            kind=kind, audience=audience, channel=channel, defaults={"subject": subject, "body": body}
        )

    StakeholderGroup = apps.get_model("comms", "StakeholderGroup")
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    for spec in STAKEHOLDER_GROUPS:
        spec = dict(spec)
        names = spec.pop("severities")
        group, created = StakeholderGroup.objects.get_or_create(slug=spec["slug"], defaults=spec)
        if created:
            severities = (
                SeverityLevel.objects.filter(notify_customers=True)
                if names is None
                else SeverityLevel.objects.filter(name__in=names)
            )
            group.severities.set(severities)

    # Permissions are normally created after all migrations; these are needed now.
    create_permissions(global_apps.get_app_config("comms"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="comms", codename__in=codenames))


def unseed(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    comms_perms = Permission.objects.filter(content_type__app_label="comms")
    for group in Group.objects.filter(name__in=GROUP_PERMS):
        group.permissions.remove(*comms_perms)
    apps.get_model("comms", "StakeholderGroup").objects.filter(slug__in=[g["slug"] for g in STAKEHOLDER_GROUPS]).delete()
    apps.get_model("comms", "MessageTemplate").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0001_initial"),
        ("incidents", "0003_groups"),
        ("incidents", "0005_timeline_outbox"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
