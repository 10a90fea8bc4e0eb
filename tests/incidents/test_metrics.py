"""The period figures of `incidents.metrics`, against fixtures computed by hand from their timestamps.

The story, declared through the actions in the week of Monday 23 March 2026 (UK clocks go forward
at 01:00 UTC on Sunday 29 March):

- A, SEV-1 on Checkout and Cart (team Payments): detected 09:56, declared 10:00, acknowledged 10:03,
  updates 10:04, 10:15, 10:40, monitoring (mitigated) 10:30, resolved 10:50, reopened 12:00, an update
  12:10, resolved again 12:30.
- B, SEV-2 on Search (no team), restricted: declared Sat 28 March 23:30 UTC, acknowledged 00:10,
  resolved 02:30 UTC (03:30 BST: four hours on a London wall clock, three elapsed). No update.
- C, SEV-2 on Checkout: detected Sun 29 March 23:20 UTC, declared 23:30 UTC (Monday 00:30 BST),
  acknowledged 23:35, update 23:40, resolved 01:30.
- D, a SEV-1 drill: left out of everything.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from incidents import actions, metrics
from incidents.models import MetricTargets, Source
from tests.incidents.factories import severity
from tests.incidents.metrics_story import END, HOUR, MIN, NOW, START, at, make_story, step
from tests.oncall.factories import UserFactory


@pytest.fixture
def story(db):
    return make_story()


def one(rows, label):
    return next(row for row in rows if row.label == label)


def test_the_figures_of_each_severity_from_the_timestamps(story):
    rows = metrics.figures(START, END, group_by="severity")
    assert [(row.label, row.incidents) for row in rows] == [("SEV-1", 1), ("SEV-2", 2)]  # the drill left out

    sev1 = one(rows, "SEV-1").figures
    assert sev1["mttd"].mean == 10 * HOUR - (9 * HOUR + 56 * MIN)  # declared − detected = 4 min
    assert sev1["mtta"].mean == 3 * MIN  # 10:03 − 10:00
    assert sev1["ttm"].mean == (10 * HOUR + 30 * MIN) - (9 * HOUR + 56 * MIN)  # from detection: 34 min
    # The last resolution (12:30) counts, not the first (10:50).
    assert sev1["mttr"].mean == 2 * HOUR + 30 * MIN
    assert (sev1["mttr"].target, sev1["mttr"].met) == (1 * HOUR, False)

    sev2 = one(rows, "SEV-2").figures
    b_tta, c_tta = 40 * MIN, 5 * MIN  # 23:30 → 00:10; 23:30 → 23:35
    assert sev2["mtta"].count == 2
    assert sev2["mtta"].mean == (b_tta + c_tta) / 2
    assert sev2["mtta"].median == (b_tta + c_tta) / 2
    assert sev2["mtta"].p90 == c_tta + (b_tta - c_tta) * 0.9  # percentile_cont at 0.9 × (2 − 1)
    # B spans the change to summer time: 23:30 GMT → 03:30 BST is 3 h elapsed, not the 4 h a wall clock shows.
    b_ttr, c_ttr = 3 * HOUR, 2 * HOUR
    assert sev2["mttr"].mean == (b_ttr + c_ttr) / 2
    assert sev2["mttd"].count == 1 and sev2["mttd"].mean == 10 * MIN  # only C has a detection time
    # Mitigated when resolved: B from its declaration (3 h), C from its detection (23:20 → 01:30).
    assert sev2["ttm"].mean == (3 * HOUR + 2 * HOUR + 10 * MIN) / 2


def test_median_and_p90_are_interpolated_as_percentile_cont(story):
    [row] = metrics.figures(START, END)
    assert row.label == "All incidents" and row.incidents == 3
    tta = row.figures["mtta"]  # 3 min, 5 min, 40 min
    assert tta.median == 5 * MIN
    assert tta.p90 == 5 * MIN + (40 * MIN - 5 * MIN) * 0.8  # position 0.9 × (3 − 1) = 1.8
    ttr = row.figures["mttr"]  # 2 h, 2 h 30, 3 h
    assert (ttr.mean, ttr.median) == (2 * HOUR + 30 * MIN, 2 * HOUR + 30 * MIN)
    assert ttr.p90 == 2 * HOUR + 30 * MIN + 30 * MIN * 0.8
    # A row mixing severities is held to the mean of its incidents' targets.
    assert tta.target == (5 * MIN + 15 * MIN + 15 * MIN) / 3
    assert tta.met is False  # 16 min on average
    assert (ttr.target, ttr.met) == ((1 * HOUR + 4 * HOUR + 4 * HOUR) / 3, True)
    assert row.figures["mttd"].target == 5 * MIN
    assert row.figures["mttd"].mean == (4 * MIN + 10 * MIN) / 2
    assert row.figures["mttd"].met is False  # 7 min
    assert row.figures["ttm"].target is None and row.figures["ttm"].met is None


def test_percentile_matches_postgresql_on_a_list():
    assert metrics.percentile([], 0.5) is None
    assert metrics.percentile([MIN], 0.9) == MIN
    assert metrics.percentile([MIN * n for n in (1, 2, 3, 4, 10)], 0.9) == 4 * MIN + 6 * MIN * 0.6


def test_weeks_are_cut_in_the_given_time_zone(story):
    london = metrics.figures(START, END, group_by="week", tz="Europe/London")
    # C was declared on Sunday 23:30 UTC, which is Monday 00:30 in London (BST): the next week there.
    assert [(row.key, row.incidents) for row in london] == [(date(2026, 3, 23), 2), (date(2026, 3, 30), 1)]
    utc = metrics.figures(START, END, group_by="week")
    assert [(row.key, row.incidents) for row in utc] == [(date(2026, 3, 23), 3)]
    assert london[1].figures["mttr"].mean == 2 * HOUR
    months = metrics.figures(START, END, group_by="month", tz="Europe/London")
    assert [(row.label, row.incidents) for row in months] == [("2026-03-01", 3)]


def test_an_incident_counts_once_per_team_and_once_per_service(story):
    teams = metrics.figures(START, END, group_by="team")
    # A affects two of Payments' services and counts once there.
    assert [(row.label, row.incidents) for row in teams] == [("Payments", 2), ("No team", 1)]
    assert one(teams, "Payments").figures["mttr"].mean == (2 * HOUR + 30 * MIN + 2 * HOUR) / 2
    services = metrics.figures(START, END, group_by="service")
    assert [(row.label, row.incidents) for row in services] == [("Cart", 1), ("Checkout", 2), ("Search", 1)]
    types = metrics.figures(START, END, group_by="type")
    assert [(row.label, row.incidents) for row in types] == [("No type", 3)]


def test_filters_narrow_the_incidents(story):
    [row] = metrics.figures(START, END, filters=metrics.Filters(team=story["payments"].pk))
    assert row.incidents == 2
    [row] = metrics.figures(START, END, filters=metrics.Filters(services=(story["search"].pk,)))
    assert (row.incidents, row.figures["mtta"].mean) == (1, 40 * MIN)
    [row] = metrics.figures(START, END, filters=metrics.Filters(severity=severity("SEV-1").pk))
    assert row.incidents == 1
    [empty] = metrics.figures(at(1, 0, month=4), END)  # one row for the period, even with nothing in it
    assert (empty.incidents, empty.figures["mttr"].mean, empty.figures["mttr"].met) == (0, None, None)
    assert metrics.figures(at(1, 0, month=4), END, group_by="severity") == []


def test_compliance_counts_against_the_targets_held_even_after_the_severity_was_edited(story):
    sev2 = severity("SEV-2")
    sev2.ack_sla, sev2.first_update_interval, sev2.mttr_target = 2 * HOUR, 2 * HOUR, 1 * HOUR
    sev2.save()  # B would now meet its acknowledge and first-update targets; it was held to 15 min
    with time_machine.travel(NOW, tick=False):
        rows = {row.severity: row for row in metrics.compliance(START, END)}
    sev1, sev2_row = rows["SEV-1"].shares, rows["SEV-2"].shares
    assert (sev1["ack_on_time"].judged, sev1["ack_on_time"].breaches) == (1, 0)  # 10:03 by 10:05
    assert (sev1["first_update_on_time"].judged, sev1["first_update_on_time"].breaches) == (1, 0)  # 10:04 by 10:05
    assert (sev1["resolved_on_time"].judged, sev1["resolved_on_time"].breaches) == (1, 1)  # 12:30 after 11:00
    # Intervals: 10:04→10:15 (11 min, met), 10:15→10:40 (25 min > 15, missed); 10:40→12:10 spans the
    # resolution at 10:50 and is left out.
    assert (sev1["updates_on_cadence"].judged, sev1["updates_on_cadence"].breaches) == (2, 1)
    assert sev1["updates_on_cadence"].share == 0.5
    # B acknowledged 00:10, 25 min after its 23:45 due; no update before resolving at 02:30. C met both.
    assert (sev2_row["ack_on_time"].judged, sev2_row["ack_on_time"].breaches) == (2, 1)
    assert (sev2_row["first_update_on_time"].judged, sev2_row["first_update_on_time"].breaches) == (2, 1)
    assert (sev2_row["resolved_on_time"].judged, sev2_row["resolved_on_time"].breaches) == (2, 0)  # due 4 h after
    assert sev2_row["resolved_on_time"].met is True and sev2_row["ack_on_time"].met is False
    assert sev2_row["updates_on_cadence"].judged == 0 and sev2_row["updates_on_cadence"].share is None
    # The MTTR target of the SEV-2 row is the one B and C were held to, not today's 1 h.
    assert one(metrics.figures(START, END, group_by="severity"), "SEV-2").figures["mttr"].target == 4 * HOUR
    # A new SEV-2 incident is held to the edited severity.
    new = step(at(1, 9, month=4), actions.declare, title="New", severity=sev2, actor=story["ic"], source=Source.ADMIN)
    assert (new.ack_due_at, new.held_mttr_target) == (at(1, 11, month=4), 1 * HOUR)


def test_a_target_not_yet_due_is_not_judged_and_a_passed_one_is_a_breach(db):
    ic = UserFactory(commander=True)
    running = step(at(1, 9, month=4), actions.declare, title="Open", severity=severity("SEV-2"), actor=ic, source=Source.ADMIN)
    with time_machine.travel(at(1, 9, 10, month=4), tick=False):
        [row] = metrics.compliance(START, END)
        assert (row.shares["ack_on_time"].judged, row.shares["resolved_on_time"].judged) == (0, 0)
    with time_machine.travel(at(1, 9, 20, month=4), tick=False):
        [row] = metrics.compliance(START, END)
        assert (row.shares["ack_on_time"].judged, row.shares["ack_on_time"].breaches) == (1, 1)
        assert row.shares["resolved_on_time"].judged == 0
        [breach] = metrics.breaches(START, END, "ack_on_time", user=ic)
        assert (breach.number, breach.due_at) == (running.number, at(1, 9, 15, month=4))


def test_a_restricted_breach_is_counted_but_named_only_to_who_may_see_it(story):
    viewer = UserFactory(viewer=True)
    manager = UserFactory(manager=True)  # holds the restricted permission
    b = story["b"]
    unnamed = metrics.breaches(START, END, "ack_on_time", user=viewer, now=NOW)
    assert unnamed == [metrics.Breach(False, "SEV-2", at(28, 23, 45), restricted=True)]
    named = metrics.breaches(START, END, "ack_on_time", user=manager, now=NOW)
    assert named == [metrics.Breach(True, "SEV-2", at(28, 23, 45), b.pk, b.number, "Search leaks", restricted=True)]
    assert metrics.breaches(START, END, "ack_on_time", user=story["ic"], now=NOW)[0].named  # a participant
    [missed] = metrics.breaches(START, END, "updates_on_cadence", user=viewer, now=NOW)
    assert (missed.title, missed.number) == ("Checkout down", story["a"].number)
    assert [x.title for x in metrics.breaches(START, END, "resolved_on_time", user=viewer, now=NOW)] == ["Checkout down"]
    with pytest.raises(ValueError):
        metrics.breaches(START, END, "nonsense", user=viewer)


def test_detection_counts_to_the_first_alert_when_it_came_before_the_declaration(story):
    from tests.incidents.factories import AlertGroupFactory

    AlertGroupFactory(incident=story["c"], opened_at=at(29, 23, 25), last_alert_at=at(29, 23, 25), last_noted_at=at(29, 23, 25))
    [row] = metrics.figures(START, END, filters=metrics.Filters(severity=severity("SEV-2").pk))
    assert row.figures["mttd"].mean == 5 * MIN  # 23:25 first alert − 23:20 detected


def test_the_whole_table_takes_a_fixed_number_of_queries(story, django_assert_max_num_queries):
    for group_by in metrics.GROUP_BY:
        with django_assert_max_num_queries(3):
            metrics.figures(START, END, group_by=group_by, tz="Europe/London")
    with django_assert_max_num_queries(2):
        metrics.compliance(START, END, now=NOW)
    with django_assert_max_num_queries(3):  # the viewer's permissions (two, once per request), then the breaches
        metrics.breaches(START, END, "updates_on_cadence", user=story["ic"], now=NOW)


def test_an_unknown_grouping_is_refused(db):
    with pytest.raises(ValueError):
        metrics.figures(START, END, group_by="colour")


def test_the_metric_targets_are_seeded(db):
    targets = MetricTargets.load()
    assert (targets.mttd_target, targets.postmortem_completion_target) == (5 * MIN, 100)
    assert [(s.name, s.mtta_target, s.mttr_target) for s in (severity(f"SEV-{n}") for n in range(1, 5))] == [
        ("SEV-1", 5 * MIN, 1 * HOUR), ("SEV-2", 15 * MIN, 4 * HOUR), ("SEV-3", 1 * HOUR, 24 * HOUR),
        ("SEV-4", 24 * HOUR, timedelta(days=14)),
    ]


def test_the_incident_page_shows_what_the_incident_is_held_to(db, client):
    ic = UserFactory(commander=True, time_zone="UTC")
    incident = step(at(1, 9, month=4), actions.declare, title="Slow", severity=severity("SEV-2"), actor=ic, source=Source.ADMIN)
    sev2 = severity("SEV-2")
    sev2.ack_sla = 1 * HOUR
    sev2.save()  # after the declaration: the page keeps what the incident was held to
    client.force_login(ic)
    html = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    held = html[html.index('id="held-targets"') :]
    held = held[: held.index("</p>")]
    assert "Acknowledge due Wed 01 Apr 09:15" in held  # 15 min after 09:00
    assert "First update due Wed 01 Apr 09:15" in held and "Updates every 30 min" in held
    assert "Resolve due Wed 01 Apr 13:00" in held and "MTTA target 15 min" in held and "MTTR target 4 h" in held


def test_every_definition_is_written_in_the_architecture_document():
    from pathlib import Path

    from django.conf import settings

    from postmortems import metrics as postmortem_metrics

    text = (Path(settings.BASE_DIR) / "docs" / "architecture.md").read_text()
    for definition in [*metrics.DEFINITIONS.values(), *postmortem_metrics.DEFINITIONS.values()]:
        assert definition in text
    assert set(metrics.DEFINITIONS) == {*metrics.DURATIONS, *metrics.COMPLIANCE}


def test_a_severity_change_holds_the_incident_to_the_new_severity_from_its_declaration(db):
    ic = UserFactory(commander=True)
    incident = step(at(1, 9, month=4), actions.declare, title="Creeping", severity=severity("SEV-3"), actor=ic, source=Source.ADMIN)
    assert (incident.ack_due_at, incident.resolve_due_at) == (at(1, 10, month=4), at(2, 9, month=4))
    step(at(1, 9, 30, month=4), actions.change_severity, incident, severity("SEV-1"), actor=ic, source=Source.ADMIN)
    incident.refresh_from_db()
    assert (incident.ack_due_at, incident.first_update_due_at, incident.resolve_due_at) == (
        at(1, 9, 5, month=4), at(1, 9, 5, month=4), at(1, 10, month=4)
    )
    assert (incident.held_update_interval, incident.held_mtta_target, incident.held_mttr_target) == (15 * MIN, 5 * MIN, HOUR)


def test_an_alert_before_the_typed_detection_time_makes_detection_instant_not_negative(story):
    from tests.incidents.factories import AlertGroupFactory

    early = at(29, 23, 10)  # ten minutes before C's typed detection time (23:20)
    AlertGroupFactory(incident=story["c"], opened_at=early, last_alert_at=early, last_noted_at=early)
    [row] = metrics.figures(START, END, filters=metrics.Filters(severity=severity("SEV-2").pk))
    assert row.figures["mttd"].mean == timedelta(0)


def test_the_demo_incidents_are_held_to_their_severity_and_counted(demo):
    from django.utils import timezone

    from incidents.models import Incident

    assert Incident.objects.exists() and not Incident.objects.filter(ack_due_at=None).exists()
    now = timezone.now()
    [row] = metrics.figures(now - timedelta(days=400), now + timedelta(days=1))
    assert row.incidents == Incident.objects.filter(is_drill=False).count()
    assert row.figures["mtta"].target is not None and row.figures["mttd"].target == 5 * MIN
