"""The deadline engine under load: `incidents.engine.tick()` on a table of a million pending deadlines.

What is measured (bench/README.md, "Engine"):

- a tick that finds 1,000 due deadlines on 1,000 different incidents and fires them all,
  through whatever path `engine.tick()` takes into the firings (`firing.fire_deadline`
  per deadline, or a batch of them): lock, page the level's people, timeline event, mark
  fired, re-plan — checked afterwards on the rows;
- an idle tick (nothing due), and the plan of its due query (EXPLAIN);
- the same idle tick with the partial index `deadline_pending_due` replaced by a plain index on
  `due_at`, and with no index on `due_at` at all (DDL inside a transaction that is rolled back);
- the lag from `due_at` to the timeline event while ticking at a fixed interval as deadlines
  fall due at random instants.

The data is bulk-loaded, not made through the actions (a million deadlines through
`actions.declare` would take hours): on PostgreSQL with INSERT … SELECT generate_series for the
background and COPY for the armed incidents, on SQLite with executemany. Two kinds of rows:

- background: open incidents (triggered / investigating, SEV-1…4, the default escalation
  policy, a commander) each with the same number of pending deadlines, due 30 minutes to 14
  days ahead; and closed incidents whose fired and cancelled deadlines lie in the past (the
  history the partial index leaves out). The engine never fires background rows during a run.
- armed: before each measured tick, open incidents are rewritten into exactly the state the
  engine itself would have left them in — the escalation matrix played forward in memory
  with `escalation.play_forward` (the same code the admin's preview uses) from a declaration
  chosen so that exactly one deadline falls due now: fired history rows, the pending plan, the
  timeline. Firing then does what it does in production, and `deadlines.sync` finds the plan
  already right. Every level of the default policy has a user, so every firing pages someone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import statistics
import time
from collections import Counter
from contextlib import nullcontext
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from incidents import deadlines, escalation, firing
from incidents import engine as vigil_engine
from incidents.escalation import Key
from incidents.models import Deadline, EngineHeartbeat, Incident, Participant, SeverityLevel, Source, TimelineEvent
from oncall.models import EscalationPolicy, User

from .measure import Row, count_queries

Kind = Deadline.Kind
Ev = TimelineEvent.Kind
ESC = escalation.ESCALATION
S = Incident.Status
PENDING = {"fired_at": None, "cancelled_at": None}

# Sizes. PostgreSQL gets the targets; SQLite a scaled-down copy (it is the development
# default, not the production database); --smoke tiny sizes on either.
SIZES = {
    "postgresql": dict(open=100_000, pending=1_000_000, history=1_000_000, due=1_000),
    "sqlite": dict(open=2_000, pending=20_000, history=20_000, due=100),
    "smoke": dict(open=300, pending=3_000, history=1_000, due=20),
}
# Lag runs: deadlines falling due at random instants over a window, at a steady rate (what a
# million pending deadlines over two weeks average, with room to spare) and in a storm.
LAG_WINDOW = {"full": 15.0, "smoke": 3.0}  # seconds
LAG_COUNTS = {"full": {"steady": 75, "storm": 300}, "smoke": {"steady": 8}}
IDLE_TICKS = {"full": 30, "smoke": 8}  # idle ticks per sample set
# Pending rows of a background incident (10 keys: more than the ≤ 7 the default plan gives one
# incident, so that 100,000 incidents carry the 1,000,000 pending deadlines).
FILLER_KEYS = [
    (Kind.ESCALATION, 1, 1), (Kind.ESCALATION, 2, 1), (Kind.ESCALATION, 3, 1), (Kind.ESCALATION, 4, 1),
    (Kind.ACK_TIMEOUT, 0, 1), (Kind.ACK_TIMEOUT, 0, 2), (Kind.ACK_TIMEOUT, 0, 3),
    (Kind.UPDATE_OVERDUE, 0, 1), (Kind.UPDATE_OVERDUE, 0, 2), (Kind.RESOLVE_BREACHED, 0, 1),
]
# An armed incident's other deadlines are at least this far from the one that falls due, so
# exactly one row per incident is due during a measurement.
MARGIN = timedelta(minutes=2)
# After its measurement an armed incident's pending plan is pushed this far ahead ("parked"),
# so its next steps do not fall due during the rest of the run.
PARK = timedelta(days=30)
SEVERITY_MIX = {1: 0.05, 2: 0.20, 3: 0.45, 4: 0.30}  # background open incidents

TIMELINE_KIND = {
    Kind.ESCALATION: Ev.ESCALATED,
    Kind.ACK_TIMEOUT: Ev.ACK_SLA_BREACHED,
    Kind.UPDATE_OVERDUE: Ev.UPDATE_OVERDUE,
    Kind.RESOLVE_BREACHED: Ev.RESOLVE_TARGET_BREACHED,
}


ENGINE_FILES = (
    "incidents/engine.py",
    "incidents/firing/__init__.py",
    "incidents/firing/paging.py",
    "incidents/firing/people.py",
    "incidents/firing/rows.py",
    "incidents/deadlines.py",
    "incidents/escalation.py",
)


def engine_fingerprint() -> str:
    """A short hash of the engine's source, printed with the figures: the engine changes often."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in ENGINE_FILES:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:12]


def sizes_for(vendor: str, smoke: bool) -> dict:
    return dict(SIZES["smoke" if smoke else vendor])


# --- Bulk writing ---------------------------------------------------------------------------------


class Table:
    """Rows for one model's table, written in bulk. Only the `varying` columns are given per row;
    every other column gets its field default (so a field added later with a default needs no
    change here)."""

    def __init__(self, model: type[models.Model], varying: list[str], now: datetime):
        self.model = model
        self.table = model._meta.db_table
        self.varying = varying
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        missing = [name for name in varying if name not in by_attname]
        if missing:
            raise RuntimeError(f"{model.__name__} has no column(s) {missing}: bench/engine.py needs updating")
        self.fields = [f for f in model._meta.concrete_fields if f.attname in varying or not f.primary_key]
        self.columns = [f.column for f in self.fields]
        self.order = []
        for f in self.fields:
            if f.attname in varying:
                self.order.append(("slot", varying.index(f.attname), f))
            else:
                self.order.append(("const", self._prep(f, self._default(f, now)), f))

    @staticmethod
    def _default(field, now):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return now
        value = field.get_default()  # the default, "" for text fields, else None
        if value is not None or field.null:
            return value
        raise RuntimeError(f"{field} has no default: bench/engine.py must give it a value")

    @staticmethod
    def _prep(field, value):
        if connection.vendor == "postgresql":
            if isinstance(field, models.JSONField):
                return json.dumps(value)
            return value
        return field.get_db_prep_save(value, connection)

    def full_rows(self, rows):
        fast = connection.vendor == "postgresql"
        for row in rows:
            out = []
            for kind, what, field in self.order:
                if kind == "const":
                    out.append(what)
                else:
                    value = row[what]
                    if fast:
                        out.append(json.dumps(value) if isinstance(field, models.JSONField) else value)
                    else:
                        out.append(field.get_db_prep_save(value, connection))
            yield out

    def write(self, rows) -> int:
        count = 0
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in self.full_rows(rows):
                        copy.write_row(row)
                        count += 1
            else:
                sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(self.columns))})"
                chunk = []
                for row in self.full_rows(rows):
                    chunk.append(row)
                    if len(chunk) == 5000:
                        cursor.executemany(sql, chunk)
                        count += len(chunk)
                        chunk = []
                if chunk:
                    cursor.executemany(sql, chunk)
                    count += len(chunk)
        return count


# --- The world ------------------------------------------------------------------------------------


class EngineWorld:
    """The default policy with one user per level, a commander, the severities, and the ids of
    the bulk-loaded incidents."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.policy = EscalationPolicy.objects.get(is_default=True)
        self.level_users = {}
        for level in self.policy.levels.order_by("position"):
            user, _ = User.objects.get_or_create(
                username=f"bench-level-{level.position}",
                defaults=dict(first_name=level.name, last_name=f"(level {level.position})", is_active=True),
            )
            level.users.set([user])
            self.level_users[level.position] = user
        self.commander, _ = User.objects.get_or_create(
            username="bench-engine-ic", defaults=dict(first_name="Bench", last_name="Commander")
        )
        self.levels = deadlines.policy_levels(self.policy)
        self.severities = {s.rank: s for s in SeverityLevel.objects.all()}
        self.open_ids: list[int] = []
        self.pool: list[int] = []  # open incidents not armed yet, in random order
        self.profiles_cache: dict = {}
        self.check = 3  # armed incidents per arm() compared with the engine's own plan (all with --smoke)

    def people_at(self, position, at=None):
        user = self.level_users.get(position)
        return [user] if user else []

    def take(self, n: int) -> list[int]:
        if len(self.pool) < n:
            raise RuntimeError("not enough unarmed incidents left: raise the open-incident count")
        taken, self.pool = self.pool[:n], self.pool[n:]
        return taken


def clear_other_deadlines(now) -> int:
    """Other benchmark suites leave incidents declared at past instants whose deadlines are all
    due: cancel them, so every due row during the engine measurements is one this module armed."""
    return Deadline.objects.filter(**PENDING).update(cancelled_at=now, note="bench: cleared before the engine benchmark")


def load(world: EngineWorld, size: dict, *, log) -> dict:
    """Bulk-load the background: open incidents with pending deadlines in the future, closed
    incidents with fired and cancelled history. PostgreSQL: INSERT … SELECT generate_series on
    the server; SQLite: rows made here, executemany. Returns the counts loaded."""
    n_open, n_pending, n_history = size["open"], size["pending"], size["history"]
    if n_pending > n_open * len(FILLER_KEYS):
        raise RuntimeError(f"at most {len(FILLER_KEYS)} pending deadlines per open incident")
    spec = dict(
        now=timezone.now(), n_open=n_open, n_pending=n_pending, n_history=n_history,
        n_closed=max(1, -(-n_history // len(FILLER_KEYS))),
        base=(Incident.objects.aggregate(m=models.Max("number"))["m"] or 0) + 1,
        sev_ids={rank: s.pk for rank, s in world.severities.items()},
        target=firing.describe([world.level_users[1]]),
    )
    step = time.perf_counter()
    if connection.vendor == "postgresql":
        _load_sql(world, spec, log)
    else:
        _load_rows(world, spec, log)
    log(f"  loaded in {time.perf_counter() - step:.1f} s")

    step = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"  ANALYZE in {time.perf_counter() - step:.1f} s")

    world.open_ids = list(
        Incident.objects.filter(number__gte=spec["base"]).exclude(status=S.CLOSED).order_by("pk").values_list("pk", flat=True)
    )
    world.pool = list(world.open_ids)
    world.rng.shuffle(world.pool)
    mine = Deadline.objects.filter(incident__number__gte=spec["base"])
    return dict(
        open=len(world.open_ids), closed=spec["n_closed"],
        pending=mine.filter(**PENDING).count(), history=mine.exclude(fired_at=None, cancelled_at=None).count(),
    )


def _severity_case(column: str, sev_ids: dict) -> str:
    """SQL picking a severity id from a uniform random column, with SEVERITY_MIX weights."""
    parts, edge = [], 0.0
    for rank, weight in list(SEVERITY_MIX.items())[:-1]:
        edge += weight
        parts.append(f"WHEN {column} < {edge:.4f} THEN {int(sev_ids[rank])}")
    return f"CASE {' '.join(parts)} ELSE {int(sev_ids[list(SEVERITY_MIX)[-1]])} END"


def _keys_sql() -> str:
    return "(VALUES " + ", ".join(f"({i}, '{k}', {lv}, {rd})" for i, (k, lv, rd) in enumerate(FILLER_KEYS)) + ") AS k(pos, kind, level, round)"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _insert_select(model, exprs: dict[str, str], source: str, params: list, now) -> int:
    """INSERT INTO <model> (every column) SELECT <exprs, or each other column's default> FROM <source>.
    `exprs` hold no placeholders; `params` are the placeholders of `source`."""
    table = Table(model, list(exprs), now)
    select, consts = [], []
    for kind, value, field in table.order:
        if kind == "const":
            select.append("%s::jsonb" if isinstance(field, models.JSONField) else "%s")
            consts.append(value)
        else:
            select.append(exprs[field.attname])
    cols = ", ".join(connection.ops.quote_name(c) for c in table.columns)
    sql = f"INSERT INTO {connection.ops.quote_name(table.table)} ({cols}) SELECT {', '.join(select)} FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*consts, *params])
        return cursor.rowcount


def _load_sql(world: EngineWorld, spec: dict, log) -> None:
    now, base, sev = spec["now"], spec["base"], spec["sev_ids"]
    policy = int(world.policy.pk)
    incident_t = connection.ops.quote_name(Incident._meta.db_table)
    second = "interval '1 second'"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.2026)")
        # Open: declared 1 minute to 6 hours ago; 70 % acknowledged (investigating).
        _insert_select(Incident, {
            "number": f"{int(base)} + g.i",
            "title": "'Bench engine incident ' || g.i || ': elevated error rate'",
            "severity_id": _severity_case("g.r1", sev),
            "status": f"CASE WHEN g.r2 < 0.7 THEN '{S.INVESTIGATING}' ELSE '{S.TRIGGERED}' END",
            "declared_at": "g.d",
            "acknowledged_at": f"CASE WHEN g.r2 < 0.7 THEN g.d + (30 + g.r2 * 385) * {second} END",
            "mitigated_at": "NULL", "resolved_at": "NULL", "closed_at": "NULL",
            "escalation_policy_id": str(policy),
            "updated_at": "g.d",
        }, f"(SELECT i, random() AS r1, random() AS r2, %s::timestamptz - (60 + random() * 21540) * {second} AS d "
           "FROM generate_series(0, %s - 1) AS i) AS g", [now, spec["n_open"]], now)
        # Closed: declared 2 to 365 days ago, resolved and closed.
        _insert_select(Incident, {
            "number": f"{int(base)} + %d + g.i" % spec["n_open"],
            "title": "'Bench engine closed incident ' || g.i",
            "severity_id": _severity_case("g.r1", sev),
            "status": f"'{S.CLOSED}'",
            "declared_at": "g.d",
            "acknowledged_at": "g.d + interval '3 minutes'",
            "mitigated_at": "g.d + interval '1 hour'",
            "resolved_at": "g.d + interval '2 hours'",
            "closed_at": "g.d + interval '1 day'",
            "escalation_policy_id": str(policy),
            "updated_at": "g.d",
        }, "(SELECT i, random() AS r1, %s::timestamptz - (2 + random() * 363) * interval '1 day' AS d "
           "FROM generate_series(0, %s - 1) AS i) AS g", [now, spec["n_closed"]], now)
    log(f"  {spec['n_open'] + spec['n_closed']:,} incidents")

    whole, extra = divmod(spec["n_pending"], spec["n_open"])
    mine = f"FROM {incident_t} WHERE number >= %s"
    with transaction.atomic():
        # Pending: floor or ceil of the average per open incident, due 30 minutes to 14 days ahead.
        _insert_select(Deadline, {
            "incident_id": "g.id", "kind": "g.kind", "level": "g.level", "round": "g.round",
            "due_at": f"g.now + (1800 + random() * {14 * 86400 - 1800}) * {second}",
            "fired_at": "NULL", "cancelled_at": "NULL", "targets": "'[]'::jsonb", "note": "''",
        }, f"(SELECT inc.id, k.kind, k.level, k.round, %s::timestamptz AS now FROM "
           f"(SELECT id, row_number() OVER (ORDER BY id) - 1 AS idx {mine} AND status <> '{S.CLOSED}') AS inc "
           f"JOIN {_keys_sql()} ON k.pos < {int(whole)} + CASE WHEN inc.idx < {int(extra)} THEN 1 ELSE 0 END) AS g",
           [now, base], now)
        # History on the closed incidents: 75 % fired (who was paged), 25 % cancelled.
        _insert_select(Deadline, {
            "incident_id": "g.id", "kind": "g.kind", "level": "g.level", "round": "g.round", "due_at": "g.due",
            "fired_at": f"CASE WHEN g.r < 0.75 THEN g.due + g.r2 * 5 * {second} END",
            "cancelled_at": "CASE WHEN g.r >= 0.75 THEN g.due - (1 + g.r2 * 59) * interval '1 minute' END",
            "targets": f"CASE WHEN g.r < 0.75 THEN {_literal(json.dumps(spec['target']))}::jsonb ELSE '[]'::jsonb END",
            "note": "CASE WHEN g.r >= 0.75 THEN 'resolved' ELSE '' END",
        }, f"(SELECT c.id, k.kind, k.level, k.round, random() AS r, random() AS r2, "
           f"c.declared_at + random() * 600 * interval '1 minute' AS due "
           f"FROM (SELECT id, declared_at {mine} AND status = '{S.CLOSED}') AS c CROSS JOIN {_keys_sql()} "
           "ORDER BY c.id, k.pos LIMIT %s) AS g", [base, spec["n_history"]], now)
    log(f"  {spec['n_pending'] + spec['n_history']:,} deadlines")

    with transaction.atomic():
        opened = f"(SELECT id, declared_at, acknowledged_at {mine} AND status <> '{S.CLOSED}') AS g"
        event = {"incident_id": "g.id", "source": f"'{Source.INTEGRATION}'", "data": "'{}'::jsonb"}
        _insert_select(TimelineEvent, {**event, "kind": f"'{Ev.DECLARED}'", "occurred_at": "g.declared_at",
                                       "message": "'Monitoring declared the incident (bench)'"}, opened, [base], now)
        _insert_select(TimelineEvent, {**event, "kind": f"'{Ev.ACKNOWLEDGED}'", "occurred_at": "g.acknowledged_at",
                                       "source": f"'{Source.ADMIN}'", "message": "'Acknowledged (bench)'"},
                       opened + " WHERE g.acknowledged_at IS NOT NULL", [base], now)
        _insert_select(Participant, {"incident_id": "g.id", "user_id": str(int(world.commander.pk)),
                                     "role": f"'{Participant.Role.COMMANDER}'", "joined_at": "g.declared_at",
                                     "left_at": "NULL"}, opened, [base], now)
    log("  timelines and commanders")


def _load_rows(world: EngineWorld, spec: dict, log) -> None:
    rng, now, base, sev_ids = world.rng, spec["now"], spec["base"], spec["sev_ids"]
    ranks, weights = zip(*SEVERITY_MIX.items())
    incidents = Table(Incident, ["number", "title", "severity_id", "status", "declared_at", "acknowledged_at",
                                 "mitigated_at", "resolved_at", "closed_at", "escalation_policy_id", "updated_at"], now)

    def open_rows():
        for i in range(spec["n_open"]):
            declared = now - timedelta(seconds=rng.uniform(60, 6 * 3600))
            acked = rng.random() < 0.7
            yield (base + i, f"Bench engine incident {i}: elevated error rate", sev_ids[rng.choices(ranks, weights)[0]],
                   S.INVESTIGATING if acked else S.TRIGGERED, declared,
                   declared + timedelta(seconds=rng.uniform(30, 300)) if acked else None,
                   None, None, None, world.policy.pk, declared)

    def closed_rows():
        for i in range(spec["n_closed"]):
            declared = now - timedelta(days=rng.uniform(2, 365))
            yield (base + spec["n_open"] + i, f"Bench engine closed incident {i}", sev_ids[rng.choices(ranks, weights)[0]],
                   S.CLOSED, declared, declared + timedelta(minutes=3), declared + timedelta(hours=1),
                   declared + timedelta(hours=2), declared + timedelta(days=1), world.policy.pk, declared)

    with transaction.atomic():
        incidents.write(open_rows())
        incidents.write(closed_rows())
    rows = Incident.objects.filter(number__gte=base).order_by("pk").values_list("pk", "status", "declared_at", "acknowledged_at")
    open_incidents = [(pk, declared, acked) for pk, status, declared, acked in rows if status != S.CLOSED]
    closed_incidents = [(pk, declared) for pk, status, declared, _ in rows if status == S.CLOSED]
    log(f"  {len(rows):,} incidents")

    table = Table(Deadline, ["incident_id", "kind", "level", "round", "due_at", "fired_at", "cancelled_at", "targets", "note"], now)
    horizon = 14 * 86400 - 1800

    def pending_rows():
        whole, extra = divmod(spec["n_pending"], spec["n_open"])
        for index, (pk, _, _) in enumerate(open_incidents):
            for kind, level, round_ in FILLER_KEYS[: whole + (1 if index < extra else 0)]:
                yield (pk, kind, level, round_, now + timedelta(seconds=1800 + rng.random() * horizon), None, None, [], "")

    def history_rows():
        left = spec["n_history"]
        for pk, declared in closed_incidents:
            for kind, level, round_ in FILLER_KEYS:
                if left == 0:
                    return
                left -= 1
                due = declared + timedelta(minutes=rng.uniform(0, 600))
                if rng.random() < 0.75:
                    yield (pk, kind, level, round_, due, due + timedelta(seconds=rng.uniform(0, 5)), None, spec["target"], "")
                else:
                    yield (pk, kind, level, round_, due, None, due - timedelta(minutes=rng.uniform(1, 60)), [], "resolved")

    with transaction.atomic():
        count = table.write(pending_rows()) + table.write(history_rows())
    log(f"  {count:,} deadlines")

    events = Table(TimelineEvent, ["incident_id", "kind", "occurred_at", "source", "message", "data"], now)
    people = Table(Participant, ["incident_id", "user_id", "role", "joined_at", "left_at"], now)

    def event_rows():
        for pk, declared, acked in open_incidents:
            yield (pk, Ev.DECLARED, declared, Source.INTEGRATION, "Monitoring declared the incident (bench)", {})
            if acked:
                yield (pk, Ev.ACKNOWLEDGED, acked, Source.ADMIN, "Acknowledged (bench)", {})

    with transaction.atomic():
        events.write(event_rows())
        people.write((pk, world.commander.pk, Participant.Role.COMMANDER, declared, None) for pk, declared, _ in open_incidents)
    log("  timelines and commanders")


# --- Arming: incidents in the state the engine leaves them, with one deadline due -----------------


def _relative_steps(world: EngineWorld, rank: int, ack_fraction: float | None, declared_at: datetime):
    sev = world.severities[rank]
    sit = deadlines.situation_for(policy=world.policy, levels=world.levels, severity=sev, declared_at=declared_at)
    ack_at = declared_at + sev.ack_sla * ack_fraction if ack_fraction is not None else None
    steps = escalation.play_forward(sit, until=declared_at + timedelta(days=30), people_at=world.people_at, acknowledge_at=ack_at)
    return [(step.at - declared_at, step.key) for step in steps]


def _candidates(world: EngineWorld, rank: int, ack_fraction, *, fresh: bool):
    """Steps of the plan that fire alone, at least MARGIN from the steps before and after."""
    key = (rank, ack_fraction, fresh)
    if key not in world.profiles_cache:
        # Relative offsets for a declaration on a Tuesday at 10:00 UTC (inside working hours);
        # business-hours cells move with the real declaration, which `_arm_one` checks.
        ref = datetime(2026, 3, 3, 10, 0, tzinfo=dt_timezone.utc)
        steps = _relative_steps(world, rank, ack_fraction, ref)
        offsets = [offset for offset, _ in steps]
        found = []
        for j, (offset, _) in enumerate(steps):
            before = offsets[j - 1] if j else None
            after = offsets[j + 1] if j + 1 < len(offsets) else None
            if before is not None and offset - before < MARGIN:
                continue
            if after is not None and after - offset < MARGIN:
                continue
            if offset < MARGIN and not fresh:
                continue  # would be declared in the future
            found.append(offset)
        world.profiles_cache[key] = found
    return world.profiles_cache[key]


def _arm_one(world: EngineWorld, due_at: datetime, *, fresh: bool):
    """Plan state for one incident whose only due deadline is at `due_at`: (severity rank,
    declared_at, acknowledged_at, fired steps, pending plan, due key)."""
    rng = world.rng
    for _ in range(50):
        rank = rng.choice((1, 1, 2, 2, 3, 4))
        ack_fraction = rng.choice((None, None, 0.4))
        candidates = _candidates(world, rank, ack_fraction, fresh=fresh)
        if not candidates:
            continue
        offset = rng.choice(candidates)
        declared = due_at - offset
        sev = world.severities[rank]
        ack_at = declared + sev.ack_sla * ack_fraction if ack_fraction is not None else None
        if ack_at is not None and ack_at >= due_at:
            continue
        sit = deadlines.situation_for(policy=world.policy, levels=world.levels, severity=sev, declared_at=declared)
        history = escalation.play_forward(
            sit, until=due_at - timedelta(microseconds=1), people_at=world.people_at, acknowledge_at=ack_at
        )
        sit.acknowledged = ack_at is not None
        plan = escalation.planned(sit)
        due_keys = [k for k, at in plan.items() if at <= due_at + MARGIN]
        if len(due_keys) != 1 or plan[due_keys[0]] != due_at:
            continue  # a business-hours cell moved a step: try another
        if history and history[-1].at > due_at - MARGIN:
            continue
        return rank, declared, ack_at, history, plan, due_keys[0]
    raise RuntimeError("could not build an armed incident: the default escalation policy changed?")


def arm(world: EngineWorld, due_instants: list[datetime], *, fresh: bool) -> list[tuple[int, Key, datetime]]:
    """Rewrite len(due_instants) unarmed open incidents so that each has exactly one deadline
    due, at its instant. Returns (incident id, key, due_at) per incident."""
    ids = world.take(len(due_instants))
    now = timezone.now()
    incident_updates, history_rows, pending_rows, event_rows, people_rows, armed = [], [], [], [], [], []
    user_json = {p: firing.describe([u]) for p, u in world.level_users.items()}
    for pk, due_at in zip(ids, due_instants):
        rank, declared, ack_at, steps, plan, due_key = _arm_one(world, due_at, fresh=fresh)
        status = S.INVESTIGATING if ack_at else S.TRIGGERED
        incident_updates.append((world.severities[rank].pk, status, declared, ack_at, now, pk))
        event_rows.append((pk, Ev.DECLARED, declared, Source.INTEGRATION, "Monitoring declared the incident (bench)", {}))
        if ack_at:
            event_rows.append((pk, Ev.ACKNOWLEDGED, ack_at, Source.ADMIN, "Acknowledged (bench)", {}))
        people_rows.append((pk, world.commander.pk, Participant.Role.COMMANDER, declared, None))
        fired: set[Key] = set()
        for step in steps:
            start = len(step.firing.repage_levels)
            engaged = [p for p, _ in step.pages[start:]] + list(step.nobody)
            paged = [u for _, people in step.pages for u in people]
            targets = firing.describe(list({u.pk: u for u in paged}.values()))
            rows = [(step.key, targets, "")]
            rows += [(Key(ESC, p), user_json.get(p, []), "engaged early") for p in engaged if Key(ESC, p) != step.key]
            for key, who, note in rows:
                fired.add(key)
                history_rows.append((pk, key.kind, key.level, key.round, step.at, step.at, None, who, note))
            event_rows.append((pk, TIMELINE_KIND[step.key.kind], step.at, Source.ENGINE, f"{step.key.kind} (bench history)", {}))
        for key, at in plan.items():
            pending_rows.append((pk, key.kind, key.level, key.round, at, None, None, [], ""))
        armed.append((pk, due_key, due_at))

    deadline_cols = ["incident_id", "kind", "level", "round", "due_at", "fired_at", "cancelled_at", "targets", "note"]
    with transaction.atomic():
        Deadline.objects.filter(incident_id__in=ids).delete()
        TimelineEvent.objects.filter(incident_id__in=ids).delete()
        Participant.objects.filter(incident_id__in=ids).delete()
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Incident._meta.db_table} SET severity_id = %s, status = %s, declared_at = %s, "
                "acknowledged_at = %s, updated_at = %s WHERE id = %s",
                [(sev, status, _dt(declared), _dt(ack), _dt(upd), pk) for sev, status, declared, ack, upd, pk in incident_updates],
            )
        table = Table(Deadline, deadline_cols, now)
        table.write(history_rows)
        table.write(pending_rows)
        Table(TimelineEvent, ["incident_id", "kind", "occurred_at", "source", "message", "data"], now).write(event_rows)
        Table(Participant, ["incident_id", "user_id", "role", "joined_at", "left_at"], now).write(people_rows)
    _check_plan(armed[: world.check])
    return armed


def _dt(value):
    return connection.ops.adapt_datetimefield_value(value) if value is not None else None


def _check_plan(sample):
    """The armed rows are exactly what the engine would plan: compare with `deadlines.situation`."""
    for pk, _, _ in sample:
        incident = Incident.objects.select_related("severity", "escalation_policy").get(pk=pk)
        wanted = escalation.planned(deadlines.situation(incident))
        stored = {Key(d.kind, d.level, d.round): d.due_at for d in incident.deadlines.filter(**PENDING)}
        if wanted != stored:
            raise RuntimeError(f"armed incident {pk} does not match the engine's plan:\n  plan   {wanted}\n  stored {stored}")


def park(ids: list[int]) -> None:
    """Push the armed incidents' remaining plan ahead so it stays out of later measurements."""
    for start in range(0, len(ids), 5000):
        Deadline.objects.filter(incident_id__in=ids[start : start + 5000], **PENDING).update(due_at=models.F("due_at") + PARK)


def due_count(now=None) -> int:
    return Deadline.objects.filter(due_at__lte=now or timezone.now(), **PENDING).count()


# --- The due query and its plan ---------------------------------------------------------------------


def capture_due_query():
    """The SQL of the tick's due query, taken from a real idle tick (so it is whatever engine.py
    sends today), with its parameters."""
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        vigil_engine.tick()
    table = connection.ops.quote_name(Deadline._meta.db_table)
    for sql, params in seen:
        if sql.lstrip().upper().startswith("SELECT") and f"FROM {table}" in sql and "due_at" in sql and "<=" in sql:
            return sql, params
    raise RuntimeError("no due-deadline query seen in a tick")


def explain(sql: str, params, *, analyze: bool = True) -> list[str]:
    params = [timezone.now() if isinstance(p, datetime) else p for p in (params or ())]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            options = "ANALYZE, BUFFERS, " if analyze else ""
            cursor.execute(f"EXPLAIN ({options}COSTS ON) {sql}", params)
            return [line for (line,) in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return [row[-1] for row in cursor.fetchall()]


def uses_pending_index(plan: list[str]) -> bool:
    text = "\n".join(plan)
    return "deadline_pending_due" in text and "Seq Scan on incidents_deadline" not in text and "SCAN incidents_deadline" not in text


INDEX_VARIANTS = {
    "partial index deadline_pending_due (as shipped)": [],
    "plain index on due_at (all rows)": [
        'DROP INDEX "deadline_pending_due"',
        'CREATE INDEX "bench_deadline_due_all" ON "incidents_deadline" ("due_at")',
    ],
    "no index on due_at": ['DROP INDEX "deadline_pending_due"'],
}


# --- Measurements -----------------------------------------------------------------------------------


class Spy:
    """Counts and times the SQL statements sent while active (round trip included); commits are
    not statements, so total − `seconds` is Python plus COMMITs."""

    def __init__(self):
        self.statements: list[tuple[str, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, time.perf_counter() - start))

    @property
    def seconds(self) -> float:
        return sum(d for _, d in self.statements)

    def seconds_where(self, *needles: str) -> float:
        return sum(d for sql, d in self.statements if all(n in sql for n in needles))


def watched_tick(spy: Spy | None) -> vigil_engine.TickResult:
    """One engine tick, its statements timed by `spy` when there is one."""
    with connection.execute_wrapper(spy) if spy else nullcontext():
        return vigil_engine.tick()


def idle_ticks(n: int, spy: Spy | None = None, *, budget: float | None = None) -> list[float]:
    """`n` idle ticks, in ms each; with a `budget` (seconds), stop early once 5 are taken and it is spent."""
    samples = []
    began = time.perf_counter()
    for _ in range(n):
        if budget is not None and len(samples) >= 5 and time.perf_counter() - began > budget:
            break
        start = time.perf_counter()
        result = watched_tick(spy)
        samples.append((time.perf_counter() - start) * 1000)
        if result.fired or result.failed:
            raise RuntimeError(f"an idle tick fired {result.fired} and failed {result.failed}: something else was due")
    return samples


def fire_run(world: EngineWorld, due: int, *, spy: Spy | None = None) -> dict:
    """Arm `due` incidents, one tick, check it fired them all through the actions."""
    now = timezone.now()
    instants = [now - timedelta(seconds=world.rng.uniform(1, 60)) for _ in range(due)]
    armed = arm(world, instants, fresh=True)
    ids = [pk for pk, _, _ in armed]
    waiting = due_count()
    if waiting != due:
        raise RuntimeError(f"{waiting} deadlines due before the tick, expected {due}")
    started = timezone.now()
    t0 = time.perf_counter()
    result = watched_tick(spy)
    ms = (time.perf_counter() - t0) * 1000
    if result.fired != due or result.failed:
        raise RuntimeError(f"the tick fired {result.fired} of {due} ({result.failed} failed)")
    fired = Deadline.objects.filter(incident_id__in=ids, fired_at__gte=started)
    paged = fired.exclude(targets=[]).values("incident_id").distinct().count()
    events = TimelineEvent.objects.filter(incident_id__in=ids, source=Source.ENGINE, occurred_at__gte=started).count()
    kinds = Counter(key.kind for _, key, _ in armed)
    park(ids)
    return dict(ms=ms, fired=result.fired, paged_incidents=paged, events=events, kinds=kinds)


def lag_run(world: EngineWorld, count: int, window: float, interval: float, *, log) -> dict:
    """Tick at a fixed rate (as beat does) while `count` deadlines fall due at random instants
    over `window` seconds. Lag = the firing's timeline event occurred_at − due_at."""
    lead = 2.0 + count * 0.01  # arming takes a few ms per incident
    start = timezone.now() + timedelta(seconds=lead)
    instants = sorted(start + timedelta(seconds=world.rng.uniform(0, window)) for _ in range(count))
    armed = arm(world, instants, fresh=False)
    ids = [pk for pk, _, _ in armed]
    start_mono = time.monotonic() + (start - timezone.now()).total_seconds()
    if start_mono < time.monotonic():
        log(f"  warning: arming took longer than {lead:.1f} s; the first deadlines were already due")
    ticks, heartbeat_lags, k = [], [], 0
    end = start_mono + window + interval + 0.001
    while True:
        at = start_mono + k * interval
        if at > end and not due_count():
            break
        pause = at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        t0 = time.perf_counter()
        vigil_engine.tick()
        ticks.append((time.perf_counter() - t0) * 1000)
        heartbeat_lags.append(EngineHeartbeat.objects.get(name=vigil_engine.HEARTBEAT).last_lag_seconds)
        k += 1
    due_at = {pk: at for pk, _, at in armed}
    first_event = {}
    for pk, occurred in (
        TimelineEvent.objects.filter(incident_id__in=ids, source=Source.ENGINE, occurred_at__gte=instants[0] - timedelta(seconds=1))
        .order_by("occurred_at").values_list("incident_id", "occurred_at")
    ):
        first_event.setdefault(pk, occurred)
    missing = [pk for pk in ids if pk not in first_event]
    if missing:
        raise RuntimeError(f"{len(missing)} of {count} lag deadlines never fired")
    lags = [(first_event[pk] - due_at[pk]).total_seconds() * 1000 for pk in ids]
    park(ids)
    return dict(lags=lags, ticks=ticks, heartbeat_max=max(heartbeat_lags), interval=interval, window=window, count=count)


def run(*, vendor: str, smoke: bool, repeats: int, tick_seconds: float, log=print) -> tuple[list[Row], list[str]]:
    """The whole engine benchmark. Returns the table rows and the notes printed under the table."""
    size = sizes_for(vendor, smoke)
    mode = "smoke" if smoke else "full"
    logging.getLogger("incidents.engine").setLevel(logging.WARNING)  # no INFO line per tick
    fingerprint = engine_fingerprint()
    world = EngineWorld(random.Random(20261122))
    if smoke:
        world.check = 10**6
    cleared = clear_other_deadlines(timezone.now())
    if cleared:
        log(f"  cancelled {cleared:,} pending deadlines left by the other suites")
    log(f"Bulk-loading {size['open']:,} open incidents, {size['pending']:,} pending and {size['history']:,} past deadlines …")
    loaded = load(world, size, log=log)
    open_now = Incident.objects.exclude(status__in=(S.RESOLVED, S.CLOSED)).count()
    pending_now = Deadline.objects.filter(**PENDING).count()
    label = f"{size['due']:,} due · {open_now:,} open · {pending_now:,} pending"
    notes = [
        f"Engine data: {open_now:,} open incidents, {pending_now:,} pending deadlines "
        f"(+ {loaded['history']:,} fired/cancelled on {loaded['closed']:,} closed incidents), "
        f"batch size {settings.VIGIL_ENGINE_BATCH_SIZE}, up to {settings.VIGIL_ENGINE_MAX_BATCHES} batches per tick; "
        f"engine source {fingerprint} (sha256 of {', '.join(ENGINE_FILES)})."
    ]
    if vendor != "postgresql" and not smoke:
        notes.append("SQLite: a scaled-down run (1/50 of the PostgreSQL sizes); the targets are for PostgreSQL.")
    if smoke:
        notes.append("SMOKE sizes: these figures only show that the benchmark runs.")
    rows: list[Row] = []

    # 1. Firing: a warm-up (statements counted and timed), then timed runs, each on fresh incidents.
    log(f"Ticks that fire {size['due']:,} due deadlines ({repeats} timed + 1 warm-up) …")
    spy = Spy()
    warm = fire_run(world, size["due"], spy=spy)
    runs = [fire_run(world, size["due"]) for _ in range(repeats)]
    everything = [warm, *runs]
    kinds = sum((r["kinds"] for r in everything), Counter())
    rows.append(Row("engine tick, due deadlines", "engine.tick() fires all through the actions", label, "ms",
                    [r["ms"] for r in runs], len(spy.statements)))
    firing_ms = statistics.median(r["ms"] for r in runs)
    per_query = spy.seconds / len(spy.statements) * 1000
    notes.append(
        f"Firing tick: every run fired all {size['due']:,} ({min(r['paged_incidents'] for r in everything):,}+ incidents "
        f"paged someone, {min(r['events'] for r in everything):,}+ engine timeline events per run); kinds fired: "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + f". {firing_ms / size['due']:.1f} ms per deadline; {len(spy.statements) / warm['fired']:.1f} SQL statements "
        f"per deadline, {per_query:.2f} ms each on average; the warm-up spent {spy.seconds / (warm['ms'] / 1000):.0%} of its "
        f"{warm['ms'] / 1000:.1f} s inside statements, the rest in Python and COMMITs."
    )

    # 2. Idle tick, where its time goes, and the due query's plan.
    log("Idle ticks and the due query's plan …")
    if due_count():
        raise RuntimeError("deadlines are due before the idle measurement")
    idle_queries = count_queries(vigil_engine.tick)
    idle = idle_ticks(IDLE_TICKS[mode])
    rows.append(Row("engine tick, idle", "nothing due", f"{pending_now:,} pending", "ms", idle, idle_queries))
    idle_spy = Spy()
    spied = idle_ticks(IDLE_TICKS[mode], idle_spy)
    table = connection.ops.quote_name(Deadline._meta.db_table)
    n = len(spied)
    due_q = idle_spy.seconds_where(f"FROM {table}", "due_at") / n * 1000
    beat_q = idle_spy.seconds_where(EngineHeartbeat._meta.db_table) / n * 1000
    notes.append(
        f"Idle tick ({n} more, timed statement by statement): {statistics.mean(spied):.1f} ms mean = due query {due_q:.2f} ms "
        f"+ heartbeat statements {beat_q:.2f} ms + the rest {statistics.mean(spied) - due_q - beat_q:.1f} ms "
        "(BEGIN/COMMIT round trips and Python: building the queries and the heartbeat's update_or_create)."
    )
    sql, params = capture_due_query()
    idle_plan = explain(sql, params)
    idle_uses_index = uses_pending_index(idle_plan)

    # The plan with `due` rows due, inside a transaction rolled back (ANALYZE takes the row locks).
    armed = arm(world, [timezone.now() - timedelta(seconds=world.rng.uniform(1, 60)) for _ in range(size["due"])], fresh=True)
    with transaction.atomic():
        loaded_plan = explain(sql, params)
        transaction.set_rollback(True)
    park([pk for pk, _, _ in armed])

    # 3. The index variants, inside transactions rolled back (so no COMMIT in these ticks).
    log("Idle ticks with the due-query index replaced (rolled back afterwards) …")
    variant_plans = {}
    for name, ddl in INDEX_VARIANTS.items():
        with transaction.atomic():
            with connection.cursor() as cursor:
                for statement in ddl:
                    cursor.execute(statement)
            if ddl and connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            vigil_engine.tick()  # warm-up
            samples = idle_ticks(IDLE_TICKS[mode], budget=3.0)
            variant_plans[name] = explain(sql, params)
            transaction.set_rollback(True)
        rows.append(Row("engine idle tick, due-query index", name, f"{pending_now:,} pending + {loaded['history']:,} past", "ms", samples))

    # 4. Lag while ticking at a fixed interval, at a steady rate and in a storm.
    lag_runs = {}
    window = LAG_WINDOW[mode]
    for name, count in LAG_COUNTS[mode].items():
        log(f"Ticking every {tick_seconds:g} s for {window:g} s while {count} deadlines fall due at random instants ({name}) …")
        lag = lag_runs[name] = lag_run(world, count, window, tick_seconds, log=log)
        rows.append(Row("engine lag, due_at → timeline event", f"{name}: tick every {tick_seconds:g} s",
                        f"{count} due over {window:g} s ({count / window:.3g}/s)", "ms", lag["lags"]))
        notes.append(
            f"Lag, {name} ({count / window:.3g} deadlines/s): {len(lag['ticks'])} ticks, median {statistics.median(lag['ticks']):.0f} ms "
            f"each (max {max(lag['ticks']):,.0f} ms); largest EngineHeartbeat.last_lag_seconds {lag['heartbeat_max']:.2f} s."
        )
    notes.append(
        f"(Production ticks every VIGIL_ENGINE_TICK_SECONDS = {settings.VIGIL_ENGINE_TICK_SECONDS} s; here every "
        f"{tick_seconds:g} s. The lag is bounded by one interval plus one tick's time only while a tick fires what fell "
        "due during the previous interval faster than the interval.)"
    )

    if engine_fingerprint() != fingerprint:
        notes.append(f"WARNING: the engine's source changed during the run ({fingerprint} → {engine_fingerprint()}); "
                     "the process measured the code it imported at the start.")
    # Plans and targets.
    notes.append("")
    notes.append("EXPLAIN of the tick's due query (captured from a real tick), idle:")
    notes += [f"    {line}" for line in idle_plan]
    notes.append(f"… and with {size['due']:,} due (first batch of {settings.VIGIL_ENGINE_BATCH_SIZE}):")
    notes += [f"    {line}" for line in loaded_plan]
    for name, plan in variant_plans.items():
        if INDEX_VARIANTS[name]:
            notes.append(f"… idle, {name}:")
            notes += [f"    {line}" for line in plan]
    idle_ms = statistics.median(idle)
    notes.append("")
    scaled = "" if vendor == "postgresql" and not smoke else " (scaled-down data: indicative only)"
    notes.append(f"Targets{scaled}:")
    per_deadline = firing_ms / size["due"]
    notes.append(
        f"  fire 1,000 due in one tick < 2 s (2 ms per deadline): {size['due']:,} in {firing_ms / 1000:.2f} s median, "
        f"{per_deadline:.1f} ms per deadline — {'met' if per_deadline < 2 else 'NOT met'}"
    )
    notes.append(f"  idle tick < 20 ms: median {idle_ms:.1f} ms — {'met' if idle_ms < 20 else 'NOT met'}")
    notes.append(f"  idle due query on deadline_pending_due, no Seq Scan: {'met' if idle_uses_index else 'NOT met'}")
    bound = tick_seconds + 1
    for name, lag in lag_runs.items():
        max_lag = max(lag["lags"]) / 1000
        notes.append(
            f"  lag < tick interval + 1 s ({bound:g} s at a {tick_seconds:g} s interval), {name}: max {max_lag:.2f} s, "
            f"median {statistics.median(lag['lags']) / 1000:.2f} s — {'met' if max_lag < bound else 'NOT met'}"
        )
    return rows, notes
