"""The default escalation matrix of the procedures, as data for the seeding migration.

Levels in order; for each, the delay per severity rank (1 = SEV-1) counted from declaration,
and whether it waits for business hours. A missing rank means that level is never engaged
for that severity ("weekly review" / "monthly review" cells: those incidents go to the
reports instead). "Next day" cells are one day, in business hours.
"""

from datetime import timedelta

MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
AT_ONCE = timedelta(0)

DEFAULT_POLICY_NAME = "Default escalation"

DEFAULT_LEVELS = [
    ("On-call engineer", {1: (AT_ONCE, False), 2: (AT_ONCE, False), 3: (AT_ONCE, True), 4: (AT_ONCE, True)}),
    # SEV-3 waits for working hours like its on-call page, so a lead is never woken before the engineer.
    ("Team lead", {1: (15 * MIN, False), 2: (1 * HOUR, False), 3: (4 * HOUR, True), 4: (DAY, True)}),
    ("Engineering manager", {1: (30 * MIN, False), 2: (4 * HOUR, False), 3: (DAY, True)}),
    ("Director", {1: (1 * HOUR, False), 2: (DAY, True)}),
]
