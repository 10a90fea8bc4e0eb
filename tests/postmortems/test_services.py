"""Opening post-mortems on resolution, their status, and the close guard."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from incidents import actions
from incidents.errors import IllegalTransition
from incidents.models import Source, Status
from postmortems import actions as postmortem_actions
from postmortems import services
from postmortems.models import ActionItem, PostMortem, PostMortemTimelineEntry
from oncall.models import EscalationPolicy
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import ClosedDayFactory, TeamFactory, UserFactory
from tests.postmortems.factories import ActionItemFactory

ADMIN = Source.ADMIN
FRIDAY_LATE = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)


def resolve(incident, actor):
    return actions.resolve(incident, actor=actor, source=ADMIN, summary="Rolled back")


@pytest.mark.django_db
def test_resolving_a_sev1_opens_its_postmortem_owned_by_the_commander(commander):
    alice = UserFactory(first_name="Alice", last_name="Chen", time_zone="Asia/Tokyo")
    with time_machine.travel(FRIDAY_LATE - timedelta(hours=1), tick=False):
        incident = IncidentFactory(actor=commander, severity=severity("SEV-1"), commander=alice, acknowledged=True)
    with time_machine.travel(FRIDAY_LATE, tick=False):
        resolve(incident, commander)
    postmortem = PostMortem.objects.get(incident=incident)
    assert postmortem.owner == alice and postmortem.status == PostMortem.Status.DRAFT
    # Saturday in Tokyo + 2 business days (SEV-1) = Tuesday; review +2, publish +5 business days.
    assert (postmortem.draft_due, postmortem.review_due, postmortem.publish_due) == (
        date(2026, 3, 10), date(2026, 3, 12), date(2026, 3, 17)
    )
    assert postmortem.summary == "Rolled back"
    entries = list(postmortem.timeline_entries.all())
    assert [e.event.kind for e in entries][0] == "declared" and entries[-1].event.kind == "resolved"
    assert [e.position for e in entries] == list(range(1, len(entries) + 1))


@pytest.mark.django_db
def test_business_days_skip_the_public_holidays_and_closed_days_of_the_incidents_team(commander):
    team = TeamFactory(time_zone="Europe/London", holiday_country="GB", holiday_subdivision="ENG")
    ClosedDayFactory(team=team, date=date(2026, 4, 8), name="Offsite")
    EscalationPolicy.objects.filter(is_default=True).update(team=team)
    thursday_before_easter = datetime(2026, 4, 2, 14, 0, tzinfo=UTC)
    with time_machine.travel(thursday_before_easter - timedelta(hours=1), tick=False):
        incident = IncidentFactory(actor=commander, severity=severity("SEV-1"), commander=commander, acknowledged=True)
    with time_machine.travel(thursday_before_easter, tick=False):
        resolve(incident, commander)
    # Good Friday, the weekend, Easter Monday and the team's offsite are skipped: SEV-1's 2
    # business days are Tuesday 7 and Thursday 9 April; review +2, publish +5 business days.
    assert (incident.postmortem.draft_due, incident.postmortem.review_due, incident.postmortem.publish_due) == (
        date(2026, 4, 9), date(2026, 4, 13), date(2026, 4, 16)
    )


@pytest.mark.django_db
def test_without_a_commander_the_resolver_owns_it(commander):
    resolver = UserFactory()
    incident = IncidentFactory(actor=commander, severity=severity("SEV-2"), acknowledged=True)
    resolve(incident, resolver)
    assert incident.postmortem.owner == resolver


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["SEV-3", "SEV-4"])
def test_optional_severities_open_none(commander, name):
    incident = IncidentFactory(actor=commander, severity=severity(name), resolved=True)
    assert not PostMortem.objects.filter(incident=incident).exists()


@pytest.mark.django_db
def test_drills_open_none_and_close_freely(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-1"), is_drill=True, closed=True)
    assert incident.status == Status.CLOSED
    assert not PostMortem.objects.filter(incident=incident).exists()


@pytest.mark.django_db
def test_resolving_again_after_a_reopen_keeps_the_first(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-2"), resolved=True)
    first = incident.postmortem
    incident = actions.reopen(incident, actor=commander, source=ADMIN, reason="Errors are back")
    resolve(incident, commander)
    assert PostMortem.objects.filter(incident=incident).count() == 1
    assert PostMortem.objects.get(incident=incident).pk == first.pk


@pytest.mark.django_db
def test_resolving_again_appends_what_happened_since_and_keeps_the_authors_edits(commander):
    start = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        incident = IncidentFactory(actor=commander, commander=commander, severity=severity("SEV-1"), acknowledged=True)
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        incident = resolve(incident, commander)
    postmortem = incident.postmortem
    copied = list(postmortem.timeline_entries.order_by("position"))
    declared, resolved = copied[0], copied[-1]
    declared.annotation, declared.text = "Alert fired 4 min before", "Declared SEV-1 (edited)"
    declared.save()
    resolved.hidden = True
    resolved.save()
    authored = PostMortemTimelineEntry.objects.create(
        postmortem=postmortem, occurred_at=start + timedelta(minutes=1), text="Customer tweet", position=len(copied) + 1
    )

    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        incident = actions.reopen(incident, actor=commander, source=ADMIN, reason="Errors are back")
    with time_machine.travel(start + timedelta(minutes=55), tick=False):
        actions.post_update(incident, "Rolling back again", actor=commander, source=ADMIN)
    with time_machine.travel(start + timedelta(minutes=70), tick=False):
        resolve(incident, commander)

    entries = list(postmortem.timeline_entries.order_by("position"))
    # What was there stays as the author left it, in its place.
    assert entries[: len(copied) + 1] == [*copied, authored]
    declared.refresh_from_db()
    assert (declared.text, declared.annotation, declared.hidden) == ("Declared SEV-1 (edited)", "Alert fired 4 min before", False)
    resolved.refresh_from_db()
    assert resolved.hidden
    # What happened since is appended, in order, each event once.
    added = entries[len(copied) + 1 :]
    assert [e.event.kind for e in added] == ["reopened", "nobody_to_page", "status_update", "resolved"]
    assert [e.position for e in added] == list(range(len(copied) + 2, len(copied) + 6))
    assert added[0].text.endswith("reopened " + incident.reference + ": Errors are back")
    event_ids = [e.event_id for e in entries if e.event_id]
    assert len(event_ids) == len(set(event_ids)) == incident.timeline.count()


@pytest.mark.django_db
def test_the_postmortem_is_written_in_the_resolving_transaction(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-2"), acknowledged=True)
    from django.db import transaction

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            resolve(incident, commander)
            assert PostMortem.objects.filter(incident=incident).exists()
            raise RuntimeError("rolled back")
    assert not PostMortem.objects.filter(incident=incident).exists()


@pytest.mark.django_db
def test_on_request_for_any_incident_once(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-4"), commander=commander)
    postmortem = services.create_for(incident)
    assert postmortem.owner == commander
    with pytest.raises(IllegalTransition, match=f"{incident.reference} already has a post-mortem"):
        services.create_for(incident)


@pytest.mark.django_db
def test_status_moves_draft_review_published_and_back(commander):
    postmortem = IncidentFactory(actor=commander, severity=severity("SEV-2"), resolved=True).postmortem
    with pytest.raises(IllegalTransition, match="must be in review"):
        postmortem_actions.publish(postmortem)
    with pytest.raises(IllegalTransition, match="only one in review"):
        postmortem_actions.return_to_draft(postmortem)
    postmortem = postmortem_actions.submit_for_review(postmortem)
    assert postmortem.status == PostMortem.Status.IN_REVIEW
    postmortem = postmortem_actions.return_to_draft(postmortem)
    assert postmortem.status == PostMortem.Status.DRAFT
    postmortem_actions.submit_for_review(postmortem)
    postmortem = postmortem_actions.publish(postmortem)
    postmortem.refresh_from_db()
    assert postmortem.status == PostMortem.Status.PUBLISHED and postmortem.published_at is not None
    with pytest.raises(IllegalTransition, match="is published"):
        postmortem_actions.return_to_draft(postmortem)


@pytest.mark.django_db
def test_a_sev2_closes_only_once_its_postmortem_is_published(commander):
    alice = UserFactory(username="alice", first_name="Alice", last_name="")
    incident = IncidentFactory(actor=commander, severity=severity("SEV-2"), commander=alice, resolved=True)
    postmortem = incident.postmortem
    later = incident.resolved_at + timedelta(days=2)  # past the observation period
    with time_machine.travel(later):
        with pytest.raises(IllegalTransition) as refused:
            actions.close(incident, actor=commander, source=ADMIN)
        assert str(refused.value) == (
            f"{incident.reference} needs its post-mortem published before it can be closed "
            f"(it is draft, owner Alice, due {postmortem.draft_due:%Y-%m-%d})."
        )
        postmortem_actions.submit_for_review(postmortem)
        with pytest.raises(IllegalTransition, match="it is in review"):
            actions.close(incident, actor=commander, source=ADMIN)
        postmortem_actions.publish(postmortem)
        assert actions.close(incident, actor=commander, source=ADMIN).status == Status.CLOSED


@pytest.mark.django_db
def test_a_required_postmortem_that_was_never_opened_blocks_closing(commander):
    incident = IncidentFactory(actor=commander, severity=severity("SEV-1"), resolved=True)
    incident.postmortem.delete()
    with time_machine.travel(incident.resolved_at + timedelta(days=2)):
        with pytest.raises(IllegalTransition, match="none exists yet"):
            actions.close(incident, actor=commander, source=ADMIN)


@pytest.mark.django_db
def test_action_item_status_stamps_completion():
    items = [ActionItemFactory(), ActionItemFactory(status=ActionItem.Status.DONE, completed_at=datetime(2026, 3, 1, tzinfo=UTC))]
    qs = ActionItem.objects.filter(pk__in=[i.pk for i in items])
    assert postmortem_actions.set_action_items_status(qs, ActionItem.Status.DONE) == 1
    assert all(i.completed_at for i in qs.all())
    postmortem_actions.set_action_items_status(qs, ActionItem.Status.IN_PROGRESS)
    assert [(i.status, i.completed_at) for i in qs.all()] == [("in_progress", None)] * 2


@pytest.mark.django_db
def test_days_until_due_and_overdue_are_relative_to_a_day():
    item = ActionItemFactory(due_date=date(2026, 3, 10))
    assert item.days_until_due_on(date(2026, 3, 6)) == 4
    assert item.days_until_due_on(date(2026, 3, 12)) == -2
    assert item.is_overdue_on(date(2026, 3, 11)) and not item.is_overdue_on(date(2026, 3, 10))
    item.status = ActionItem.Status.DONE
    assert not item.is_overdue_on(date(2026, 3, 11))
    with time_machine.travel(datetime(2026, 3, 12, 12, tzinfo=UTC)):
        assert item.days_until_due == -2
