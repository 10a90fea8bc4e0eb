"""The migrations: one squashed migration per app (then those made since), up to date with the
models, seeding a fresh database exactly as the migrations it replaces did, and counted as
applied on a database migrated before the squash (whose django_migrations table names only the
old migrations).

The expected rows and permissions were recorded from a fresh database migrated with the old
migrations, before they were squashed.
"""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from comms import defaults
from comms.models import MessageTemplate, ReportSubscription, StakeholderGroup
from incidents.models import IncidentType, SeverityLevel
from incidents.seed import SEVERITIES
from oncall.models import EscalationDelay, EscalationPolicy
from tests.migrating import migrate, migrate_to_the_latest

pytestmark = pytest.mark.django_db

SQUASHED = {
    "oncall": "0001_squashed_0007_escalation_level_lasts",
    "incidents": "0001_squashed_0011_time_spent_resolved",
    "postmortems": "0001_squashed_0006_who_moved_it",
    "comms": "0001_squashed_0003_restricted_audience_new_message_kinds",
}

# Migrations made since the squash (each app's after its squashed one).
SINCE_THE_SQUASH = {
    "oncall": ["0002_business_clocks", "0003_cover_requests"],
    "incidents": [
        "0002_business_clocks",
        "0003_postmortem_due_policy",
        "0004_lifecycle_order_and_resolution_summary",
        "0005_visibility_indexes",
        "0006_title_search_index",
        "0007_status_indexes",
        "0008_status_window_index",
        "0009_fired_deadlines_index",
        "0010_held_targets_and_metric_targets",
        "0011_timeline_cadence_index",
        "0012_war_room_and_call_bridge",
    ],
    "comms": [
        "0002_executive_words_name_the_response_team",
        "0003_shift_cover_messages",
        "0004_reminders_name_the_missed_update",
        "0005_customer_words_name_the_organisation",
        "0006_sent_pages_index",
        "0007_report_subscriptions_and_ledger",
        "0008_report_permissions_and_seeds",
        "0009_war_rooms",
        "0010_chat_workspace_and_war_room_names",
        "0011_war_room_messages",
        "0012_declarations_and_pages_say_where_to_meet",
    ],
}

# What a database migrated before the squash has in django_migrations for Vigil's apps.
BEFORE_THE_SQUASH = {
    "oncall": [
        "0001_initial", "0002_schedules_and_policies", "0003_default_policy", "0004_schedule_permissions",
        "0005_api_keys", "0006_settings_bounds_and_working_days", "0007_escalation_level_lasts",
    ],
    "incidents": [
        "0001_initial", "0002_seed_matrix", "0003_groups", "0004_deadline_engine", "0005_timeline_outbox",
        "0006_alert_ingestion", "0007_postmortem_reminder_event", "0008_engine_event_kinds",
        "0009_severity_bounds", "0010_status_page_window_reopen_round", "0011_time_spent_resolved",
    ],
    "postmortems": [
        "0001_initial", "0002_reminders_sent", "0003_permissions", "0004_action_items_undated_last",
        "0005_wont_do_is_not_completed", "0006_who_moved_it",
    ],
    "comms": ["0001_initial", "0002_seed_templates_groups", "0003_restricted_audience_new_message_kinds"],
}

VIEWER_PERMISSIONS = {
    "comms": "view_messagetemplate view_notification view_stakeholdergroup view_reportsubscription",
    "incidents": "view_alertevent view_evidencelink view_heartbeat view_incident view_incidenttask view_incidenttype "
    "view_integration view_maintenancewindow view_participant view_service view_severitylevel view_timelineevent",
    "oncall": "view_escalationdelay view_escalationlevel view_escalationpolicy view_layer view_layermember "
    "view_override view_schedule view_team view_closedday view_coverrequest",
    "postmortems": "view_actionitem view_postmortem view_postmortemtimelineentry view_why",
}
RESPONDER_PERMISSIONS = {
    "comms": VIEWER_PERMISSIONS["comms"] + " add_contactmethod add_notificationrule",
    "incidents": VIEWER_PERMISSIONS["incidents"] + " add_incident respond_incident",
    "oncall": VIEWER_PERMISSIONS["oncall"] + " view_user add_coverrequest",
    "postmortems": VIEWER_PERMISSIONS["postmortems"],
}
COMMANDER_PERMISSIONS = {
    "comms": RESPONDER_PERMISSIONS["comms"],
    "incidents": RESPONDER_PERMISSIONS["incidents"]
    + " change_incident command_incident add_maintenancewindow change_maintenancewindow delete_maintenancewindow",
    "oncall": RESPONDER_PERMISSIONS["oncall"],
    "postmortems": VIEWER_PERMISSIONS["postmortems"]
    + " add_actionitem add_postmortem add_postmortemtimelineentry add_why change_actionitem change_postmortem"
    " change_postmortemtimelineentry change_why delete_actionitem delete_postmortemtimelineentry delete_why",
}
MANAGER_PERMISSIONS = {
    "comms": " ".join(
        f"{action}_{model}"
        for model in ("contactmethod", "messagetemplate", "notification", "notificationrule", "stakeholdergroup", "reportsubscription")
        for action in ("add", "change", "delete", "view")
    )
    + " view_reportrun",
    "incidents": COMMANDER_PERMISSIONS["incidents"]
    + " view_restricted_incident add_service change_service add_incidenttype change_incidenttype"
    " change_severitylevel add_integration change_integration add_heartbeat change_heartbeat"
    " view_metrictargets change_metrictargets",
    "oncall": COMMANDER_PERMISSIONS["oncall"]
    + " add_team change_team view_apikey change_apikey add_closedday change_closedday delete_closedday"
    + " change_coverrequest delete_coverrequest "
    + " ".join(
        f"{action}_{model}"
        for model in ("escalationdelay", "escalationlevel", "escalationpolicy", "layer", "layermember", "override", "schedule")
        for action in ("add", "change", "delete")
    ),
    "postmortems": COMMANDER_PERMISSIONS["postmortems"],
}
# Scheduled reports: every group views report subscriptions (the admin shows each person their
# own); Managers add, change and delete them and read the ledger of runs.
GROUP_PERMISSIONS = {
    "Viewers": (VIEWER_PERMISSIONS, 30),
    "Responders": (RESPONDER_PERMISSIONS, 36),
    "Incident commanders": (COMMANDER_PERMISSIONS, 52),
    "Managers": (MANAGER_PERMISSIONS, 113),  # + view/change the metric targets, + report subscriptions and runs
}


def test_each_app_has_one_squashed_migration_and_the_models_need_no_new_one():
    loader = MigrationLoader(connection)
    ours = sorted(key for key in loader.disk_migrations if key[0] in SQUASHED)
    since = [(app, name) for app, names in SINCE_THE_SQUASH.items() for name in names]
    assert ours == sorted([*SQUASHED.items(), *since])
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)  # exits 1 on a change


def test_the_replaced_migrations_are_named_and_gone_from_disk():
    loader = MigrationLoader(connection)
    for app, name in SQUASHED.items():
        replaced = [(app, old) for old in BEFORE_THE_SQUASH[app]]
        assert loader.disk_migrations[app, name].replaces == replaced
        assert not set(replaced) & set(loader.disk_migrations)


def test_a_fresh_database_has_the_seeded_rows():
    assert MessageTemplate.objects.count() == 71
    assert sorted(StakeholderGroup.objects.values_list("name", flat=True)) == [
        "Customer support", "Customers", "Engineering", "Leadership"
    ]
    assert dict(SeverityLevel.objects.values_list("name", "status_page_window")) == {
        "SEV-1": timedelta(0), "SEV-2": timedelta(minutes=15), "SEV-3": timedelta(hours=1), "SEV-4": None
    }
    assert IncidentType.objects.count() == 4
    policy = EscalationPolicy.objects.get(is_default=True)
    assert list(policy.levels.values_list("name", "lasts")) == [
        ("On-call engineer", "until_acknowledged"),
        ("Team lead", "until_resolved"),
        ("Engineering manager", "until_resolved"),
        ("Director", "until_resolved"),
    ]
    assert EscalationDelay.objects.filter(level__policy=policy).count() == 13
    reports = {r.name: r for r in ReportSubscription.objects.all()}
    assert set(reports) == {"Weekly escalation report", "Monthly escalation report"}
    weekly, monthly = reports["Weekly escalation report"], reports["Monthly escalation report"]
    assert (weekly.frequency, weekly.weekday, list(weekly.user_groups.values_list("name", flat=True))) == ("weekly", 1, ["Managers"])
    assert (monthly.frequency, monthly.day_of_month, list(monthly.stakeholder_groups.values_list("name", flat=True))) == (
        "monthly", 1, ["Leadership"]
    )


@pytest.mark.parametrize("group", GROUP_PERMISSIONS)
def test_a_fresh_database_gives_each_group_its_permissions(group):
    expected, count = GROUP_PERMISSIONS[group]
    granted = {
        app: set(
            Group.objects.get(name=group)
            .permissions.filter(content_type__app_label=app)
            .values_list("codename", flat=True)
        )
        for app in expected
    }
    assert granted == {app: set(codenames.split()) for app, codenames in expected.items()}
    assert Group.objects.get(name=group).permissions.count() == count
    assert Group.objects.count() == len(GROUP_PERMISSIONS)


def test_the_executive_words_shipped_before_gain_the_response_team_and_edited_ones_stay():
    words = importlib.import_module("comms.migrations.0002_executive_words_name_the_response_team")
    summary = MessageTemplate.objects.get(kind="executive_summary", audience="executives", channel="email")
    reopened = MessageTemplate.objects.get(kind="reopened", audience="executives", channel="email")
    edited = MessageTemplate.objects.get(kind="declared", audience="executives", channel="email")
    assert (summary.subject, summary.body) == defaults.DEFAULTS[("executive_summary", "executives", "email")]
    assert "Response Team: {{ response_team|default:'being assembled' }}\n" in summary.body
    MessageTemplate.objects.filter(pk=summary.pk).update(body=words.BODY_BEFORE)
    MessageTemplate.objects.filter(pk=reopened.pk).update(body=words.REOPENED_BEFORE)
    MessageTemplate.objects.filter(pk=edited.pk).update(body=words.BODY_BEFORE + "\nCall the IC.")

    words.name_the_team(global_apps, None)
    assert MessageTemplate.objects.get(pk=summary.pk).body == summary.body
    assert MessageTemplate.objects.get(pk=reopened.pk).body == reopened.body
    assert MessageTemplate.objects.get(pk=edited.pk).body == words.BODY_BEFORE + "\nCall the IC."
    words.leave_the_team_out(global_apps, None)
    assert MessageTemplate.objects.get(pk=summary.pk).body == words.BODY_BEFORE
    assert MessageTemplate.objects.get(pk=reopened.pk).body == words.REOPENED_BEFORE


@pytest.mark.parametrize(
    "name",
    ["0004_reminders_name_the_missed_update", "0005_customer_words_name_the_organisation", "0012_declarations_and_pages_say_where_to_meet"],
)
def test_words_shipped_before_become_the_new_defaults_and_edited_ones_stay(name):
    words = importlib.import_module(f"comms.migrations.{name}")
    cells = list(words.BEFORE)
    assert cells and set(cells) == set(words.AFTER)
    for cell in cells:
        assert words.AFTER[cell] == defaults.DEFAULTS[cell]  # a fresh database is seeded with the new words
        assert words.BEFORE[cell] != words.AFTER[cell]
    rows = {cell: MessageTemplate.objects.get(kind=cell[0], audience=cell[1], channel=cell[2]) for cell in cells}
    edited = cells[0]
    for cell, row in rows.items():
        subject, body = words.BEFORE[cell]
        MessageTemplate.objects.filter(pk=row.pk).update(subject=subject, body=body + ("\nCall the IC." if cell == edited else ""))

    words.forwards(global_apps, None)
    current = {cell: MessageTemplate.objects.values_list("subject", "body").get(pk=row.pk) for cell, row in rows.items()}
    assert current[edited] == (words.BEFORE[edited][0], words.BEFORE[edited][1] + "\nCall the IC.")
    assert {cell: current[cell] for cell in cells[1:]} == {cell: words.AFTER[cell] for cell in cells[1:]}
    words.backwards(global_apps, None)
    for cell in cells[1:]:
        assert MessageTemplate.objects.values_list("subject", "body").get(pk=rows[cell].pk) == words.BEFORE[cell]


POLICY = ("name", "postmortem_draft_due", "postmortem_draft_unit", "postmortem_review_due", "postmortem_review_unit",
          "postmortem_publish_due", "postmortem_publish_unit")


def test_a_fresh_database_has_the_seeded_postmortem_due_dates():
    seeded = {row["name"]: tuple(row[field] for field in POLICY) for row in SEVERITIES}
    assert {row[0]: row for row in SeverityLevel.objects.values_list(*POLICY)} == seeded
    assert seeded["SEV-1"] == ("SEV-1", 2, "business_days", 2, "business_days", 5, "business_days")
    assert seeded["SEV-3"] == ("SEV-3", 5, "business_days", 2, "business_days", 5, "business_days")


def _migrate_incidents(name: str):
    """Migrate the incidents app to `name`; the severity model as it stands there."""
    return migrate("incidents", name).get_model("incidents", "SeverityLevel")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_postmortem_due_policy_migration_keeps_each_severitys_draft_days_and_goes_back():
    before = _migrate_incidents("0002_business_clocks")
    for name, days in {"SEV-1": 2, "SEV-2": 3, "SEV-3": None, "SEV-4": 90}.items():
        before.objects.filter(name=name).update(postmortem_draft_business_days=days)

    after = _migrate_incidents("0003_postmortem_due_policy")
    rows = dict(after.objects.values_list("name", "postmortem_draft_due"))
    assert rows == {"SEV-1": 2, "SEV-2": 3, "SEV-3": 5, "SEV-4": 60}  # unset: the default; beyond: the bound
    assert set(after.objects.values_list(*POLICY[2:])) == {("business_days", 2, "business_days", 5, "business_days")}
    after.objects.filter(name="SEV-1").update(postmortem_draft_due=48, postmortem_draft_unit="hours")

    before = _migrate_incidents("0002_business_clocks")
    assert dict(before.objects.values_list("name", "postmortem_draft_business_days")) == {
        "SEV-1": None, "SEV-2": 3, "SEV-3": 5, "SEV-4": 60
    }
    _migrate_incidents("0003_postmortem_due_policy")
    migrate_to_the_latest()



def _record_as_before_the_squash():
    """Rewrite django_migrations as a database migrated before the squash has it."""
    recorded = MigrationRecorder(connection).migration_qs
    for app, name in SQUASHED.items():
        recorded.filter(app=app, name=name).delete()
    recorded.bulk_create(
        recorded.model(app=app, name=name) for app, names in BEFORE_THE_SQUASH.items() for name in names
    )


def test_a_database_migrated_before_the_squash_has_nothing_to_apply():
    _record_as_before_the_squash()
    executor = MigrationExecutor(connection)
    assert all((app, name) in executor.loader.applied_migrations for app, name in SQUASHED.items())
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    plan = StringIO()
    call_command("migrate", plan=True, stdout=plan)
    assert plan.getvalue().strip().endswith("No planned migration operations.")
