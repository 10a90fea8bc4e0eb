"""Input an incident must refuse, in the actions and in the database: a detection time out of
order or far before the declaration, lifecycle instants out of order, a severity that needs a
resolution summary resolved without one, impossible numbers of users — and the migration that
checked existing rows before adding the constraints."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
import time_machine
from django.db import IntegrityError, transaction

from incidents import actions
from incidents.errors import InvalidField
from incidents.models import Incident, SeverityLevel, Source, Status, TimelineEvent
from tests.incidents.factories import IncidentFactory, severity
from tests.migrating import migrate, migrate_to_the_latest

pytestmark = pytest.mark.django_db
ADMIN = Source.ADMIN
NOW = datetime(2026, 12, 6, 14, 0, tzinfo=dt_timezone.utc)


# --- Detection time -------------------------------------------------------------------------------


def test_a_detection_time_decades_before_the_declaration_is_refused_naming_the_field(commander):
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(InvalidField) as refused:
            actions.declare(
                title="Checkout down", severity=severity("SEV-2"), actor=commander, source=ADMIN,
                detected_at=datetime(1900, 1, 1, tzinfo=dt_timezone.utc),
            )
    assert refused.value.field == "detected_at"
    assert str(refused.value) == (
        "The detection time 1900-01-01 00:00 UTC is 46360 d 14 h before the declaration; "
        "it may be at most 30 d before it. Check the date."
    )
    assert not Incident.objects.exists()


def test_the_detection_lead_is_a_setting(commander, settings):
    settings.VIGIL_MAX_DETECTION_LEAD_DAYS = 2
    with time_machine.travel(NOW, tick=False):
        kept = IncidentFactory(actor=commander, detected_at=NOW - timedelta(days=2))
        with pytest.raises(InvalidField, match="at most 2 d before it"):
            IncidentFactory(actor=commander, detected_at=NOW - timedelta(days=2, minutes=1))
    assert kept.detected_at == NOW - timedelta(days=2)


def test_a_detection_time_a_clock_skew_ahead_is_the_declaration_time_and_later_is_refused(commander):
    with time_machine.travel(NOW, tick=False):
        skewed = IncidentFactory(actor=commander, detected_at=NOW + timedelta(minutes=3))
        assert skewed.detected_at == skewed.declared_at == NOW
        with pytest.raises(InvalidField, match="The detection time is in the future."):
            IncidentFactory(actor=commander, detected_at=NOW + timedelta(minutes=6))

    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        with pytest.raises(InvalidField) as refused:
            actions.update_details(skewed, actor=commander, source=ADMIN, detected_at=NOW + timedelta(hours=1))
    assert refused.value.field == "detected_at"
    assert str(refused.value) == (
        "The detection time 2026-12-06 15:00 UTC is after the declaration (2026-12-06 14:00 UTC): "
        "an incident is detected before it is declared."
    )
    skewed.refresh_from_db()
    assert skewed.detected_at == NOW and not skewed.timeline.filter(kind=TimelineEvent.Kind.DETAILS_CHANGED).exists()


def test_an_edited_detection_time_is_bounded_by_the_declaration_not_by_today(commander):
    with time_machine.travel(NOW, tick=False):
        incident = IncidentFactory(actor=commander)
    with time_machine.travel(NOW + timedelta(days=40), tick=False):
        incident = actions.update_details(incident, actor=commander, source=ADMIN, detected_at=NOW - timedelta(days=29))
        assert incident.detected_at == NOW - timedelta(days=29)
        with pytest.raises(InvalidField, match="at most 30 d before it"):
            actions.update_details(incident, actor=commander, source=ADMIN, detected_at=NOW - timedelta(days=31))


# --- The instants in order, in the database -----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "shift", "constraint"),
    [
        ("detected_at", timedelta(minutes=1), "incident_detected_not_after_declared"),
        ("acknowledged_at", -timedelta(minutes=1), "incident_declared_not_after_acknowledged"),
        ("mitigated_at", timedelta(hours=2), "incident_mitigated_not_after_resolved"),
        ("closed_at", -timedelta(hours=2), "incident_resolved_not_after_closed"),
    ],
)
def test_the_database_refuses_lifecycle_instants_out_of_order(commander, field, shift, constraint):
    incident = IncidentFactory(actor=commander, closed=True)
    base = {"detected_at": incident.declared_at, "acknowledged_at": incident.declared_at,
            "mitigated_at": incident.resolved_at, "closed_at": incident.resolved_at}[field]
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(**{field: base + shift})


def test_resolving_unacknowledged_then_reopening_keeps_every_constraint(commander):
    """Mitigation is stamped by the first resolve, acknowledgement by the reopen after it: the one
    pair of instants left out of the order (acknowledged → mitigated), as the actions have them."""
    with time_machine.travel(NOW, tick=False) as traveller:
        incident = IncidentFactory(actor=commander, severity=severity("SEV-3"))
        traveller.shift(timedelta(minutes=10))
        actions.resolve(incident, actor=commander, source=ADMIN)
        traveller.shift(timedelta(minutes=10))
        incident = actions.reopen(incident, actor=commander, source=ADMIN, reason="Back")
        traveller.shift(timedelta(minutes=10))
        incident = actions.resolve(incident, actor=commander, source=ADMIN)
        traveller.shift(timedelta(hours=3))
        incident = actions.close(incident, actor=commander, source=ADMIN)
    assert incident.mitigated_at < incident.acknowledged_at < incident.resolved_at < incident.closed_at


# --- A resolution summary where the severity needs one ---------------------------------------------


def test_sev1_and_sev2_need_a_resolution_summary_sev3_does_not(commander):
    assert dict(SeverityLevel.objects.values_list("name", "resolution_requires_summary")) == {
        "SEV-1": True, "SEV-2": True, "SEV-3": False, "SEV-4": False,
    }
    incident = IncidentFactory(actor=commander, severity=severity("SEV-1"))
    with pytest.raises(InvalidField) as refused:
        actions.resolve(incident, actor=commander, source=ADMIN, summary="  ")
    assert (refused.value.field, str(refused.value)) == (
        "summary", "SEV-1 incidents need a resolution summary: what was wrong, what fixed it, and what customers saw."
    )
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at, incident.mitigated_at) == (Status.TRIGGERED, None, None)
    assert not incident.timeline.filter(kind=TimelineEvent.Kind.RESOLVED).exists()

    minor = IncidentFactory(actor=commander, severity=severity("SEV-3"))
    assert actions.resolve(minor, actor=commander, source=ADMIN).status == Status.RESOLVED


def test_a_summary_already_in_the_details_counts_and_monitoring_may_resolve_its_alert(commander):
    written = IncidentFactory(actor=commander, severity=severity("SEV-1"))
    actions.update_details(written, actor=commander, source=ADMIN, resolution_summary="Bad deploy, rolled back")
    assert actions.resolve(written, actor=commander, source=ADMIN).resolution_summary == "Bad deploy, rolled back"

    alerted = IncidentFactory(actor=None, source=Source.INTEGRATION, severity=severity("SEV-1"))
    resolved = actions.resolve(alerted, actor=None, source=Source.INTEGRATION, actor_label="Alertmanager")
    assert resolved.status == Status.RESOLVED and resolved.resolution_summary == ""


# --- Users affected ---------------------------------------------------------------------------------


def test_an_impossible_number_of_users_is_refused_in_words(commander):
    incident = IncidentFactory(actor=commander)
    with pytest.raises(InvalidField) as refused:
        actions.update_details(incident, actor=commander, source=ADMIN, users_affected_confirmed=9_223_372_036_854_775_807)
    assert (refused.value.field, str(refused.value)) == ("users_affected_confirmed", "Too large: at most 1,000,000,000 users.")
    assert actions.update_details(incident, actor=commander, source=ADMIN, users_affected_confirmed=1_000_000_000)


# --- The migration --------------------------------------------------------------------------------


def _migrate_incidents(name: str):
    return migrate("incidents", name)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_repairs_detection_times_and_refuses_other_instants_out_of_order(capsys):
    before = _migrate_incidents("0003_postmortem_due_policy")
    Old = before.get_model("incidents", "Incident")
    sev2 = before.get_model("incidents", "SeverityLevel").objects.get(name="SEV-2")

    def old_incident(number, **instants):
        return Old.objects.create(number=number, title=f"Old {number}", severity=sev2, declared_at=NOW, **instants)

    typo = old_incident(901, detected_at=datetime(1900, 1, 1, tzinfo=dt_timezone.utc))
    skewed = old_incident(902, detected_at=NOW + timedelta(minutes=4))
    late = old_incident(903, detected_at=NOW + timedelta(days=1))
    fine = old_incident(904, detected_at=NOW - timedelta(hours=1))
    broken = old_incident(905, status="investigating", acknowledged_at=NOW - timedelta(minutes=5))

    with pytest.raises(RuntimeError) as refused:
        _migrate_incidents("0004_lifecycle_order_and_resolution_summary")
    assert "INC-905 (declared after acknowledged)" in str(refused.value)
    assert "Correct their times" in str(refused.value)

    Old.objects.filter(pk=broken.pk).update(acknowledged_at=NOW + timedelta(minutes=5))
    # Read through the models as they stand at 0004: today's have columns later migrations add.
    after = _migrate_incidents("0004_lifecycle_order_and_resolution_summary")
    Incident, TimelineEvent = after.get_model("incidents", "Incident"), after.get_model("incidents", "TimelineEvent")
    detected = dict(Incident.objects.filter(number__gt=900).values_list("number", "detected_at"))
    assert detected == {901: None, 902: NOW, 903: None, 904: NOW - timedelta(hours=1), 905: None}
    said = {e.incident.number: e.message for e in TimelineEvent.objects.filter(kind="details_changed").select_related("incident")}
    assert said[typo.number].startswith("Detection time 1900-01-01T00:00+00:00 was 46360 days before its declaration; cleared")
    assert said[skewed.number].startswith("Detection time 2026-12-06T14:04+00:00 was after its declaration; set to the declaration")
    assert late.number in said and fine.number not in said
    assert "INC-901: Detection time 1900-01-01" in capsys.readouterr().out
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(number=904).update(detected_at=NOW + timedelta(minutes=1))
    Incident.objects.filter(number__gt=900).delete()
    migrate_to_the_latest()
