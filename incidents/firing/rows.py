"""What a batch of firings reads and writes: deadline rows as plain values, and the writes collected
for the whole batch (timeline events, deadline changes, new responders) sent in a few statements."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from django.db import connection

from .. import timeline
from ..models import Deadline, Participant, Source
from .people import names

Kind = timeline.Kind
Role = Participant.Role

# --- The engine's batches read rows as plain values --------------------------------------------
# A batch reads every pending and fired deadline of a few hundred incidents and changes a few of
# them; a model instance for each row it reads would cost more than the firings themselves.


class PastFiring(NamedTuple):
    """A deadline fired before the current batch: all a plan needs of it."""

    kind: str
    level: int
    round: int
    fired_at: datetime
    targets: list


@dataclasses.dataclass(eq=False)
class PendingRow:
    """A pending deadline with the fields a firing reads and writes (`Writes` saves
    it like a `Deadline`)."""

    pk: int
    kind: str
    level: int
    round: int
    due_at: datetime
    fired_at: datetime | None
    cancelled_at: datetime | None
    targets: list
    note: str

    state = Deadline.state


def batch_rows(incident_ids: list[int]) -> tuple[dict[int, list[PendingRow]], dict[int, list[PastFiring]]]:
    """The incidents' pending deadlines and fired history, in two queries. Cancelled rows play
    no part in a plan."""
    pending: dict[int, list[PendingRow]] = {pk: [] for pk in incident_ids}
    for incident_id, *values in (
        Deadline.objects.filter(incident_id__in=incident_ids, fired_at=None, cancelled_at=None)
        .order_by()
        .values_list("incident_id", *(field.name for field in dataclasses.fields(PendingRow)))
    ):
        pending[incident_id].append(PendingRow(*values))
    history: dict[int, list[PastFiring]] = {pk: [] for pk in incident_ids}
    for incident_id, *values in (
        Deadline.objects.filter(incident_id__in=incident_ids, fired_at__isnull=False)
        .order_by()
        .values_list("incident_id", *PastFiring._fields)
    ):
        history[incident_id].append(PastFiring(*values))
    return pending, history




class Writes:
    """What firings write, collected so that a tick's whole batch goes out in a few statements."""

    def __init__(self, incident_ids: Iterable[int] = ()):
        self.events: list = []
        self.changed: dict[int, Deadline] = {}
        self.created: list[Deadline] = []
        self._created_ids: set[int] = set()
        self.participants: list[Participant] = []
        self._incident_ids = list(incident_ids)
        self._current: dict[int, set[int]] | None = None

    def current_participants(self, incident_id: int) -> set[int]:
        """Ids of the incident's current participants (any role), with those joining in this batch:
        read for every incident of the batch in one query, on first need."""
        if self._current is None:
            self._current = self._read_current(self._incident_ids or [incident_id])
        if incident_id not in self._current:
            self._current.update(self._read_current([incident_id]))
        return self._current[incident_id]

    @staticmethod
    def _read_current(incident_ids) -> dict[int, set[int]]:
        current: dict[int, set[int]] = {pk: set() for pk in incident_ids}
        for incident_id, user_id in Participant.objects.filter(incident_id__in=incident_ids, left_at=None).values_list(
            "incident_id", "user_id"
        ):
            current[incident_id].add(user_id)
        return current

    def event(self, incident, kind: str, message: str, data: dict, *, source: str = Source.ENGINE) -> None:
        self.events.append(timeline.build(incident, kind, message, source=source, data=data))

    def save(self, row: Deadline) -> None:
        if row.pk:
            self.changed[row.pk] = row
        elif id(row) not in self._created_ids:
            self._created_ids.add(id(row))
            self.created.append(row)

    _FIELDS = ("due_at", "fired_at", "cancelled_at", "targets", "note")

    def flush(self) -> None:
        timeline.record_many(self.events)
        if self.changed:
            update_deadlines(list(self.changed.values()), self._FIELDS)
        Deadline.objects.bulk_create(self.created)
        Participant.objects.bulk_create(self.participants)


def add_responders(
    incident, people, *, now, writes: Writes | None = None, reason: str = "paged", source: str = Source.ENGINE
) -> list:
    """Whoever was paged or informed joins the incident as a responder (a current participant),
    unless they already take part: a restricted incident then reaches them and opens for them in
    the admin, the API and chat. Said on the timeline in one `role_assigned` event. In the
    engine's batches, `writes` collects the rows: the batch's current participants are read in one
    query and the new ones written in one insert. Returns the people who joined."""
    own = writes is None
    if own:
        writes = Writes([incident.pk])
    current = writes.current_participants(incident.pk)
    joining = [user for user in {u.pk: u for u in people}.values() if user.pk not in current]
    if joining:
        current.update(user.pk for user in joining)
        writes.participants.extend(
            Participant(incident=incident, user=user, role=Role.RESPONDER, joined_at=now) for user in joining
        )
        plural = len(joining) > 1
        writes.event(
            incident,
            Kind.ROLE_ASSIGNED,
            f"{names(joining)} {'join' if plural else 'joins'} as responder{'s' if plural else ''} ({reason})",
            {"role": Role.RESPONDER, "users": [user.get_username() for user in joining], "reason": reason, "previous": None},
            source=source,
        )
    if own:
        writes.flush()
    return joining


def update_deadlines(rows: list, names) -> None:
    """Write these fields of every row (`Deadline`s or `PendingRow`s): on PostgreSQL in
    one UPDATE … FROM unnest() with one array per column, elsewhere with one prepared UPDATE
    sent for every row (executemany). bulk_update's CASE WHEN per field and row costs more
    Python than the firings themselves at a thousand rows, and on PostgreSQL executemany takes
    about twice as long as the single statement."""
    pk = Deadline._meta.pk
    fields = [Deadline._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table = quote(Deadline._meta.db_table)
    values = [[field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows] for field in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in (pk, *fields))
            cursor.execute(
                f"UPDATE {table} SET "
                + ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields)
                + f" FROM unnest({arrays}) AS v({', '.join(quote(field.column) for field in (pk, *fields))})"
                + f" WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}",
                [[row.pk for row in rows], *values],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET "
                + ", ".join(f"{quote(field.column)} = %s" for field in fields)
                + f" WHERE {quote(pk.column)} = %s",
                [[*columns, row.pk] for row, *columns in zip(rows, *values)],
            )
