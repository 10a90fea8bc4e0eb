"""A period is two aware instants in order; percentiles interpolate as PostgreSQL's percentile_cont."""

import datetime as dt

import pytest

from comms.reports import Period
from incidents.metrics import Percentile, percentile

from .drive import utc


def test_a_period_needs_aware_instants_in_order():
    with pytest.raises(ValueError, match="naive"):
        Period(dt.datetime(2026, 3, 1), utc(2026, 3, 2))
    with pytest.raises(ValueError, match="end after it starts"):
        Period(utc(2026, 3, 2), utc(2026, 3, 2))
    assert Period(utc(2026, 3, 1), utc(2026, 3, 2)).team_incidents() is None


def test_percentiles_interpolate_between_the_nearest_values():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([10.0, 20.0, 40.0], 0.5) == 20.0
    assert percentile([10.0, 20.0, 40.0], 0.95) == pytest.approx(38.0)  # rank 1.9: 20 + 0.9 × 20
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    with pytest.raises(ValueError):
        Percentile("latency", 1.5)
