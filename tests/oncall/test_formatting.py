"""Windows as operators read them: the year appears whenever a window crosses one."""

import datetime as dt
from zoneinfo import ZoneInfo

from oncall.formatting import span

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 5, 6, 12, tzinfo=UTC)


def test_a_window_inside_this_year_reads_without_the_year():
    start, end = dt.datetime(2026, 5, 6, 20, tzinfo=UTC), dt.datetime(2026, 5, 7, 8, tzinfo=UTC)
    assert span(start, end, now=NOW, zone=UTC) == "Wed 06 May 20:00 – Thu 07 May 08:00 (12 h)"


def test_a_decade_long_window_shows_both_years():
    start, end = dt.datetime(2026, 12, 10, 11, tzinfo=UTC), dt.datetime(2036, 12, 10, 11, tzinfo=UTC)
    assert span(start, end, now=NOW, zone=BERLIN) == "Thu 10 Dec 2026 12:00 – Wed 10 Dec 2036 12:00 (3653 d)"


def test_new_year_is_judged_in_the_readers_zone():
    # 23:30 UTC on 31 Dec is already 2027 in Berlin: the window crosses no year there.
    start, end = dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC), dt.datetime(2027, 1, 1, 2, tzinfo=UTC)
    assert span(start, end, now=start, zone=BERLIN) == "now – Fri 01 Jan 03:00 (2 h 30 min)"
    assert span(start, end, now=start, zone=UTC) == "now – Fri 01 Jan 2027 02:00 (2 h 30 min)"


def test_a_window_in_another_year_than_now_shows_it():
    start, end = dt.datetime(2027, 3, 1, 9, tzinfo=UTC), dt.datetime(2027, 3, 1, 17, tzinfo=UTC)
    assert span(start, end, now=NOW, zone=UTC) == "Mon 01 Mar 2027 09:00 – Mon 01 Mar 2027 17:00 (8 h)"
