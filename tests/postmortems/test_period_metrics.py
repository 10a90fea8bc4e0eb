"""The post-mortem figure of a period: published by the due date, per severity, against the
completion target — counted by hand from the dates below."""

from datetime import date, datetime, timezone as dt_timezone

import pytest

from incidents import actions, clock
from incidents.metrics import Breach
from incidents.models import MetricTargets, Source
from postmortems import metrics
from tests.incidents.factories import severity
from tests.oncall.factories import UserFactory
from tests.postmortems.factories import PostMortemFactory

START, END = datetime(2026, 3, 23, tzinfo=dt_timezone.utc), datetime(2026, 4, 6, tzinfo=dt_timezone.utc)
NOW = datetime(2026, 4, 10, 12, tzinfo=dt_timezone.utc)


@pytest.fixture
def postmortems(db):
    ic = UserFactory(commander=True)

    def incident(day, sev, **kwargs):
        with clock.at(datetime(2026, 3, day, 10, tzinfo=dt_timezone.utc)):
            return actions.declare(title=f"Incident of the {day}th", severity=severity(sev), actor=ic, source=Source.ADMIN, **kwargs)

    def postmortem(inc, due, published_at=None):
        return PostMortemFactory(
            incident=inc, draft_due=due, review_due=due, publish_due=due, published_at=published_at, status="published" if published_at else "draft"
        )

    # Published 23:30 UTC on its due day: 00:30 the next day in London (BST), on time in UTC.
    x = incident(23, "SEV-1")
    postmortem(x, date(2026, 3, 30), datetime(2026, 3, 30, 23, 30, tzinfo=dt_timezone.utc))
    y = incident(24, "SEV-2", is_restricted=True)
    postmortem(y, date(2026, 4, 1))  # overdue, unpublished
    z = incident(25, "SEV-2")
    postmortem(z, date(2026, 4, 20))  # not yet due: not judged
    w = incident(26, "SEV-2")
    postmortem(w, date(2026, 4, 3), datetime(2026, 4, 2, 9, tzinfo=dt_timezone.utc))  # a day early
    drill = incident(27, "SEV-2", is_drill=True)
    postmortem(drill, date(2026, 3, 28))  # overdue, but a drill
    return dict(x=x, y=y, ic=ic)


def shares(rows):
    return {row.severity: (row.incidents, row.shares[metrics.PUBLISHED_ON_TIME]) for row in rows}


def test_published_by_the_due_date_per_severity(postmortems):
    rows = shares(metrics.published_on_time(START, END, now=NOW, tz="UTC"))
    sev1_count, sev1 = rows["SEV-1"]
    assert (sev1_count, sev1.judged, sev1.breaches, sev1.met) == (1, 1, 0, True)
    sev2_count, sev2 = rows["SEV-2"]
    assert (sev2_count, sev2.judged, sev2.breaches) == (3, 2, 1)  # W on time, Y overdue, Z not yet due
    assert (sev2.share, sev2.target, sev2.met) == (0.5, 1.0, False)


def test_the_publication_day_is_counted_in_the_time_zone_given(postmortems):
    rows = shares(metrics.published_on_time(START, END, now=NOW, tz="Europe/London"))
    assert rows["SEV-1"][1].breaches == 1  # published on 31 March in London


def test_the_completion_target_is_data(postmortems):
    MetricTargets.objects.filter(pk=1).update(postmortem_completion_target=50)
    sev2 = shares(metrics.published_on_time(START, END, now=NOW, tz="UTC"))["SEV-2"][1]
    assert (sev2.target, sev2.met) == (0.5, True)


def test_late_postmortems_are_named_only_to_who_may_see_them(postmortems, django_assert_max_num_queries):
    viewer = UserFactory(viewer=True)
    with django_assert_max_num_queries(3):
        late = metrics.late_postmortems(START, END, user=viewer, now=NOW, tz="UTC")
    assert late == [Breach(False, "SEV-2", date(2026, 4, 1), restricted=True)]
    y = postmortems["y"]
    assert metrics.late_postmortems(START, END, user=postmortems["ic"], now=NOW, tz="UTC") == [
        Breach(True, "SEV-2", date(2026, 4, 1), y.pk, y.number, y.title, restricted=True)
    ]
