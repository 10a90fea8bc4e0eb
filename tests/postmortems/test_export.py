"""The Markdown document and the metrics block, from a fixed incident."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from incidents import actions
from incidents.models import Source
from postmortems import export, metrics
from postmortems.models import ActionItem, PostMortem
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import UserFactory
from tests.postmortems.factories import ActionItemFactory, WhyFactory

START = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)  # a Friday


@pytest.fixture
def postmortem(db):
    alice = UserFactory(username="alice", first_name="Alice", last_name="Chen")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Stone")
    with time_machine.travel(START, tick=False) as traveller:
        incident = IncidentFactory(
            actor=alice, title="Checkout API down", severity=severity("SEV-1"), commander=alice,
            detected_at=START - timedelta(minutes=4),
        )
        traveller.shift(timedelta(minutes=3))
        actions.acknowledge(incident, actor=alice, source=Source.ADMIN)
        traveller.shift(timedelta(minutes=37))
        actions.add_note(incident, "Deploy 4.18 | rolled back", actor=bob, source=Source.ADMIN)
        traveller.shift(timedelta(minutes=30))
        actions.resolve(incident, actor=alice, source=Source.ADMIN, summary="Rolled back the deploy")
    pm = PostMortem.objects.get(incident=incident)
    pm.users_affected = "About 12,000 shoppers"
    pm.business_impact = "Lost orders for 70 minutes"
    pm.immediate_cause = "The payments pool was starved."
    pm.root_cause = "A keep-alive of 1 s in 4.18."
    pm.contributing_technical = "No smoke test for payments."
    pm.went_well = "Rollback took 5 minutes."
    pm.could_improve = "Alerting fired late."
    pm.lessons_learned = "Test payments on every deploy."
    pm.save()
    entries = list(pm.timeline_entries.all())
    entries[0].annotation = "Paged by the checkout alert"
    entries[0].save()
    for entry in entries[1:]:
        if entry.text == "Alice Chen is now incident commander":
            entry.hidden = True
            entry.save()
    WhyFactory(postmortem=pm, position=1, question="Why did checkout fail?", answer="Payments timed out.")
    WhyFactory(postmortem=pm, position=2, question="Why did payments time out?", answer="")
    ActionItemFactory(
        postmortem=pm, description="Add a payments smoke test", owner=bob, due_date=date(2026, 3, 20),
        priority=ActionItem.Priority.HIGH, status=ActionItem.Status.IN_PROGRESS, horizon=ActionItem.Horizon.IMMEDIATE,
        ticket_url="https://tracker.example.com/PAY-1",
    )
    ActionItemFactory(postmortem=pm, description="Review keep-alive defaults", owner=None, due_date=None,
                      priority=ActionItem.Priority.LOW, horizon=ActionItem.Horizon.LONG_TERM)
    return pm


def test_metrics_against_the_severity_targets(postmortem):
    rows = {m.name: m for m in metrics.metrics(postmortem.incident)}
    assert rows["Time to detect"].duration == timedelta(minutes=4) and rows["Time to detect"].met is None
    assert rows["Time to acknowledge"].duration == timedelta(minutes=3) and rows["Time to acknowledge"].verdict == "met"
    assert rows["Time to mitigate"].duration == timedelta(minutes=74)
    assert rows["Time to resolve"].duration == timedelta(minutes=70)
    assert rows["Time to resolve"].target == timedelta(hours=1) and rows["Time to resolve"].verdict == "missed"


def test_the_markdown_document(postmortem):
    number = postmortem.incident.number
    assert export.to_markdown(postmortem) == EXPECTED.replace("INC-N", f"INC-{number}")
    assert export.filename(postmortem) == f"postmortem-INC-{number}.md"


EXPECTED = """\
# Post-Mortem: INC-N — Checkout API down

- **Severity:** SEV-1 Critical
- **Status:** Draft
- **Owner:** Alice Chen
- **Draft due:** 2026-03-10 · **Review due:** 2026-03-12 · **Publish due:** 2026-03-17

## Summary

Rolled back the deploy

## Impact

- **Users affected:** About 12,000 shoppers
- **Duration:** 1 h 14 min
- **Business impact:** Lost orders for 70 minutes

## Timeline

All times UTC.

| Time | Event | Notes |
|---|---|---|
| 2026-03-06 14:00 | Alice Chen declared SEV-1 INC-N: Checkout API down | Paged by the checkout alert |
| 2026-03-06 14:03 | Alice Chen acknowledged INC-N | — |
| 2026-03-06 14:40 | Deploy 4.18 \\| rolled back | — |
| 2026-03-06 15:10 | Alice Chen resolved INC-N: Rolled back the deploy | — |

## Root Cause Analysis

### Immediate cause

The payments pool was starved.

### Root cause

A keep-alive of 1 s in 4.18.

### Five whys

1. **Why did checkout fail?** Payments timed out.
2. **Why did payments time out?** —

## Contributing Factors

### Technical

No smoke test for payments.

### Process

_Not written yet._

## What Went Well

Rollback took 5 minutes.

## What Could Be Improved

Alerting fired late.

## Action Items

| Action | Owner | Due | Priority | Status | Horizon |
|---|---|---|---|---|---|
| Add a payments smoke test (https://tracker.example.com/PAY-1) | Bob Stone | 2026-03-20 | High | In progress | Immediate |
| Review keep-alive defaults | — | — | Low | Open | Long term |

## Lessons Learned

Test payments on every deploy.

## Metrics

| Measure | Took | Target | Result |
|---|---|---|---|
| Time to detect | 4 min | — | — |
| Time to acknowledge | 3 min | 5 min | met |
| Time to mitigate | 1 h 14 min | — | — |
| Time to resolve | 1 h 10 min | 1 h | missed |
"""
