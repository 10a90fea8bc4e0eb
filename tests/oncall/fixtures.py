"""The on-call world the schedule admin and the on-call API are tested in: Alice, Bob and Carol,
a London schedule covered around the clock and a New York one covered in business hours only,
seen on Wednesday 6 May 2026 at 13:00 in London (08:00 in New York).

A test module imports the fixtures it uses (`frozen_clock` is autouse once imported)::

    from tests.oncall.fixtures import NOW, alice, bob, carol, frozen_clock, gappy, primary  # noqa: F401
"""

import datetime as dt

import pytest
import time_machine

from tests.oncall.factories import LayerFactory, ScheduleFactory, UserFactory

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 5, 6, 12, 0, tzinfo=UTC)  # Wednesday, 13:00 in London, 08:00 in New York


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Chen", responder=True)


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", first_name="Bob", last_name="Okafor", responder=True)


@pytest.fixture
def carol(db):
    """The manager, in New York: the admin shows her times in her zone."""
    return UserFactory(username="carol", first_name="Carol", last_name="Diaz", manager=True, time_zone="America/New_York")


@pytest.fixture
def primary(alice, bob):
    """London: a 24/7 weekly layer (Alice, then Bob, from Monday 4 May) under weekday business
    hours (Bob). Now, Wednesday 13:00 London, Bob is on call until 17:00 London (16:00 UTC)."""
    schedule = ScheduleFactory(name="Primary", slug="primary", time_zone="Europe/London")
    LayerFactory(schedule=schedule, name="24/7", priority=1, start_date=dt.date(2026, 5, 4), members=[alice, bob])
    LayerFactory(schedule=schedule, name="Business hours", priority=2, business_hours=True, members=[bob])
    return schedule


@pytest.fixture
def gappy(alice):
    """New York business hours only: nobody on call at night or at weekends, nor now (08:00
    there) until 09:00."""
    schedule = ScheduleFactory(name="Database", slug="database", time_zone="America/New_York")
    LayerFactory(schedule=schedule, name="DBAs", business_hours=True, members=[alice])
    return schedule
