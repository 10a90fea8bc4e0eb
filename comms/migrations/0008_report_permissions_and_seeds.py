"""Report subscriptions' permissions for the groups, and the two seeded reports."""

from django.db import migrations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

# The sections of comms/reports/sections.py when this shipped (the report's order).
SECTIONS = [
    "open_incidents", "declared_resolved", "escalations", "deferred_review", "postmortems", "oncall_load", "noise",
    "mtta_mttr", "sla_compliance",
]
WEEKLY = "Weekly escalation report"
MONTHLY = "Monthly escalation report"


def grant_and_seed(apps, schema_editor):
    """Managers add, change and delete report subscriptions and see the ledger; everyone who
    sees the admin may view subscriptions (the admin shows them only their own). Seeds a weekly
    report for the Managers group (Mondays 08:00) and a monthly one for the Leadership
    stakeholder group (the 1st, 08:00), both editable afterwards."""
    create_permissions(global_apps.get_app_config("comms"), apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    perms = {p.codename: p for p in Permission.objects.filter(content_type__app_label="comms", codename__in=[
        "add_reportsubscription", "change_reportsubscription", "delete_reportsubscription", "view_reportsubscription", "view_reportrun",
    ])}
    for name in ("Viewers", "Responders", "Incident commanders"):
        Group.objects.get_or_create(name=name)[0].permissions.add(perms["view_reportsubscription"])
    managers = Group.objects.get_or_create(name="Managers")[0]
    managers.permissions.add(*perms.values())
    StakeholderGroup = apps.get_model("comms", "StakeholderGroup")
    leadership = StakeholderGroup.objects.filter(name="Leadership").first() or StakeholderGroup.objects.create(
        name="Leadership", slug="leadership", audience="executives",
        description="Executives: short summaries of critical and high-severity incidents.", subscriptions=["executive_summaries"],
    )
    ReportSubscription = apps.get_model("comms", "ReportSubscription")
    if not ReportSubscription.objects.filter(name=WEEKLY).exists():
        weekly = ReportSubscription.objects.create(name=WEEKLY, frequency="weekly", weekday=1, send_time="08:00", time_zone="UTC", sections=SECTIONS)
        weekly.user_groups.add(managers)
    if not ReportSubscription.objects.filter(name=MONTHLY).exists():
        monthly = ReportSubscription.objects.create(name=MONTHLY, frequency="monthly", day_of_month=1, send_time="08:00", time_zone="UTC", sections=SECTIONS)
        monthly.stakeholder_groups.add(leadership)


def unseed(apps, schema_editor):
    """The seeded reports go (the groups keep the permissions until the content type goes)."""
    apps.get_model("comms", "ReportSubscription").objects.filter(name__in=[WEEKLY, MONTHLY]).delete()



class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("comms", "0007_report_subscriptions_and_ledger"),
    ]

    operations = [
        migrations.RunPython(grant_and_seed, unseed),
    ]
