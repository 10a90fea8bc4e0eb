"""The `scale` suite: Vigil's pages with a million incidents (`--size 100000` for a quicker run).

Bulk-loads N incidents (COPY on PostgreSQL, executemany on SQLite, through `engine.Table`: far
faster than the actions), each with one service, three participants and five timeline events:
2 % open, 18 % resolved, 80 % closed, declared over 3 years, 5 % restricted, 1 % drills, about
10 % of the others public on the status page. Then VACUUM (ANALYZE), and for each page: median
and p95 of the timed runs through the test client, queries, response size, the EXPLAIN of its
slowest query, the peak of Python memory for the status pages, and its target from issue 15.
"""

from __future__ import annotations

import math
import random
import statistics
import time
import tracemalloc
from datetime import timedelta

from django.db import connection
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from bench.engine import Table
from bench.measure import Row
from incidents.models import Incident, Participant, SeverityLevel, TimelineEvent
from oncall.models import ApiKey, EscalationPolicy

S = Incident.Status
Ev = TimelineEvent.Kind
WORDS = ("latency", "errors", "timeouts", "outage", "slow responses", "failed logins", "queue backlog", "disk full")
SEVERITY_MIX = ((1, 0.05), (2, 0.20), (3, 0.45), (4, 0.30))
# page → (target ms p95, target bytes or None), from issue 15
TARGETS = {
    "admin list, superuser": (100, None), "admin list, superuser, filtered": (100, None),
    "admin list, commander": (100, None), "admin list, commander, filtered": (100, None),
    "admin list, commander, by severity": (100, None), "admin list, commander, by service": (100, None),
    "admin list, commander, mine": (100, None), "admin list, commander, open": (100, None),
    "admin search by reference": (50, None), "admin search by title word": (150, None),
    "API list": (50, None), "/status/": (100, 100_000), "/status.json": (100, 100_000), "/status/day/": (100, None),
    # A scrape reads every incident's lifecycle instants (counts and histograms); Prometheus's own timeout is 10 s.
    "/metrics": (1000, None),
    # The commander's incident page and the poll it makes every few seconds (issue 18): one incident
    # among a million, so their cost must not follow the table.
    "incident page, commander": (150, None), "incident timeline poll": (50, None),
}


def _rows(n: int, base_id: int, base_number: int, sev: dict, policy: int, now, rng: random.Random):
    three_years = 3 * 365 * 86400
    for i in range(n):
        declared = now - timedelta(hours=3, seconds=rng.random() * three_years)
        r, restricted, drill = rng.random(), rng.random() < 0.05, rng.random() < 0.01
        status = S.INVESTIGATING if r < 0.02 else S.RESOLVED if r < 0.20 else S.CLOSED
        resolved = None if status == S.INVESTIGATING else declared + timedelta(hours=2)
        rank = next(rank for rank, edge in _edges() if rng.random() < edge or rank == 4)
        yield [
            base_id + i, base_number + i, f"Checkout {WORDS[i % len(WORDS)]} in region {i % 17}", sev[rank], status,
            declared, declared + timedelta(minutes=3), resolved, resolved,
            min(resolved + timedelta(days=1), now) if status == S.CLOSED else None,
            restricted, drill, not (restricted or drill) and rng.random() < 0.10, policy, declared,
        ]


def _edges():
    total = 0.0
    for rank, weight in SEVERITY_MIX:
        total += weight
        yield rank, weight / (1 - total + weight)  # P(this rank | not an earlier one)


INCIDENT_COLUMNS = [
    "id", "number", "title", "severity_id", "status", "declared_at", "acknowledged_at", "mitigated_at", "resolved_at",
    "closed_at", "is_restricted", "is_drill", "public_on_status_page", "escalation_policy_id", "updated_at",
    # What each incident was held to, as the actions stamp it (wall-clock severities).
    "ack_due_at", "first_update_due_at", "resolve_due_at", "held_update_interval", "held_mtta_target", "held_mttr_target",
]


def _held(rows, severities: dict):
    """Each row with the targets its severity held it to, from its declaration."""
    for row in rows:
        sev, declared = severities[row[3]], row[5]
        yield row + [
            declared + sev.ack_sla, declared + sev.first_update_interval, declared + sev.resolve_target,
            sev.update_interval, sev.mtta_target, sev.mttr_target,
        ]


def load(n: int, world, *, log, updates: int = 0) -> dict:
    """Incidents, their service links, participants and timeline events (five each, and `updates`
    more status updates every 20 minutes); then VACUUM (ANALYZE)."""
    now, rng = timezone.now(), random.Random(15)
    sev = {s.rank: s.pk for s in SeverityLevel.objects.all()}
    policy = EscalationPolicy.objects.get(is_default=True).pk
    base_id = (Incident.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    base_number = (Incident.objects.aggregate(m=Max("number"))["m"] or 0) + 1
    step = time.perf_counter()
    severities = {s.pk: s for s in SeverityLevel.objects.all()}
    incidents = list(_held(_rows(n, base_id, base_number, sev, policy, now, rng), severities))
    Table(Incident, INCIDENT_COLUMNS, now).write(incidents)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('incidents_incident', 'id'), (SELECT max(id) FROM incidents_incident))")
    log(f"  {n:,} incidents in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    services = [s.pk for s in world.services]
    people = [world.commander.pk, world.responder.pk, world.superuser.pk]
    Through = Incident.services.through
    Table(Through, ["incident_id", "service_id"], now).write([row[0], services[row[0] % len(services)]] for row in incidents)
    roles = (Participant.Role.COMMANDER, Participant.Role.TECHNICAL_LEAD, Participant.Role.RESPONDER)
    Table(Participant, ["incident_id", "user_id", "role", "joined_at"], now).write(
        [row[0], people[0] if k == 0 and row[0] % 10 == 0 else people[k % 2 + 1] if k else people[1], roles[k], row[5]]
        for row in incidents for k in range(3)
    )  # the commander user commands one incident in ten, the responder the others
    log(f"  services and participants in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    Table(TimelineEvent, ["incident_id", "kind", "occurred_at", "message", "source", "visibility", "data", "dispatched_at"], now).write(
        event for row in incidents for event in _events(row, updates)
    )
    log(f"  {(5 + updates) * n:,} timeline events in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
    log(f"  VACUUM (ANALYZE) in {time.perf_counter() - step:.1f} s")
    return {"incidents": n, "base_number": base_number}


def _events(row, updates: int = 0):
    pk, declared, resolved, public = row[0], row[5], row[8], row[12]
    for k in range(updates):  # every 20 minutes after the first at 10 min (before the resolution at 2 h, for five)
        yield [pk, Ev.STATUS_UPDATE, declared + timedelta(minutes=30 + 20 * k), "Still working on it.", "admin", "internal", {}, declared]
    external = "external" if public else "internal"
    yield [pk, Ev.DECLARED, declared, "Declared", "admin", "internal", {}, declared]
    yield [pk, Ev.ACKNOWLEDGED, declared + timedelta(minutes=3), "Acknowledged", "admin", "internal", {}, declared]
    yield [pk, Ev.STATUS_UPDATE, declared + timedelta(minutes=10), "We are looking into it.", "admin", external, {"status": S.INVESTIGATING}, declared]
    yield [pk, Ev.NOTE, declared + timedelta(minutes=20), "Internal note", "admin", "internal", {}, declared]
    if resolved:
        yield [pk, Ev.RESOLVED, resolved, "Fixed", "admin", "internal", {"public_update": "All is well again."}, resolved]
    else:
        yield [pk, Ev.STATUS_CHANGED, declared + timedelta(minutes=30), "", "admin", "internal", {"from": S.INVESTIGATING, "to": S.IDENTIFIED}, declared]


class Spy:
    """Counts the queries of one request and keeps the slowest (SQL, params, seconds)."""

    def __init__(self):
        self.count, self.slowest = 0, (None, None, -1.0)

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            self.count += 1
            # The list's count estimate is an EXPLAIN itself: counted, never the one to explain.
            if took > self.slowest[2] and not sql.lstrip().upper().startswith("EXPLAIN"):
                self.slowest = (sql, params, took)


def explain(sql: str, params) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [" ".join(str(c) for c in row) for row in cursor.fetchall()]


def pages(world, base_number: int) -> dict[str, tuple[Client, str, dict]]:
    superuser, commander = Client(), Client()
    superuser.force_login(world.superuser)
    commander.force_login(world.commander)
    secret = "vigil_bench_scale_" + "x" * 20
    import hashlib

    ApiKey.objects.create(name="bench", owner=world.commander, scopes=["read"], prefix=secret[:12],
                          key_hash=hashlib.sha256(secret.encode()).hexdigest())
    admin = "/admin/incidents/incident/"
    sev1 = SeverityLevel.objects.get(rank=1).pk
    day = (timezone.now() - timedelta(days=3)).date().isoformat()
    newest = Incident.objects.filter(is_restricted=False).order_by("-number").values_list("pk", flat=True).first()
    anonymous = Client()
    return {
        "admin list, superuser": (superuser, admin, {}),
        "admin list, superuser, filtered": (superuser, admin + "?status__exact=investigating", {}),
        "admin list, commander": (commander, admin, {}),
        "admin list, commander, filtered": (commander, admin + "?status__exact=investigating", {}),
        "admin list, commander, by severity": (commander, admin + f"?severity__id__exact={sev1}", {}),
        "admin list, commander, by service": (commander, admin + f"?services__id__exact={world.services[0].pk}", {}),
        "admin list, commander, mine": (commander, admin + "?mine=yes", {}),
        "admin list, commander, open": (commander, admin + "?state=open", {}),
        "admin search by reference": (superuser, f"{admin}?q=INC-{base_number + 5}", {}),
        "admin search by title word": (superuser, admin + "?q=latency", {}),
        "API list": (Client(), "/api/v1/incidents", {"HTTP_AUTHORIZATION": f"Bearer {secret}"}),
        "/status/": (anonymous, "/status/", {}),
        "/status.json": (anonymous, "/status.json", {}),
        "/status/day/": (anonymous, f"/status/day/{day}/", {}),
        "/metrics": (anonymous, "/metrics", {"HTTP_AUTHORIZATION": f"Bearer {_metrics_token()}"}),
        "incident page, commander": (commander, f"{admin}{newest}/change/", {}),
        "incident timeline poll": (commander, f"{admin}{newest}/timeline.json?after=0", {}),
    }


def _metrics_token() -> str:
    from django.conf import settings

    settings.VIGIL_METRICS_TOKEN = settings.VIGIL_METRICS_TOKEN or "vigil-bench-metrics"
    return settings.VIGIL_METRICS_TOKEN


def measure(name: str, client: Client, url: str, headers: dict, repeats: int, size_label: str) -> tuple[Row, list[str]]:
    response = client.get(url, **headers)  # warm-up
    if response.status_code != 200:
        return Row("scale", name, size_label, "ms", note=f"GET {url} answered {response.status_code}"), []
    spy = Spy()
    tracemalloc.start()
    with connection.execute_wrapper(spy):
        response = client.get(url, **headers)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        client.get(url, **headers)
        samples.append((time.perf_counter() - start) * 1000)
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    target_ms, target_bytes = TARGETS[name]
    size = len(response.content)
    met = p95 <= target_ms and (target_bytes is None or size <= target_bytes)
    target = f"≤ {target_ms} ms p95" + (f", ≤ {target_bytes // 1000} KB" if target_bytes else "")
    lines = [
        f"{name} ({url}): median {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms, {spy.count} queries, "
        f"{size / 1000:,.1f} KB" + (f", peak Python memory {peak / 1e6:.1f} MB" if name.startswith("/status") else "")
        + f" · target {target}: {'MET' if met else 'NOT MET'}",
    ]
    sql, params, took = spy.slowest
    if sql:
        plan = explain(sql, params)
        lines.append(f"  slowest query {took * 1000:.1f} ms: {sql[:300]}{' …' if len(sql) > 300 else ''}")
        lines += [f"    {line}" for line in plan[:25]] + (["    …"] if len(plan) > 25 else [])
    return Row("scale", name, size_label, "ms", samples, spy.count), lines


def run(*, size: int, repeats: int, world=None, log=print) -> tuple[list[Row], list[str]]:
    """`world`: the pages suite's, when it ran in the same process (its people and services)."""
    from bench.scenarios import World

    world = world or World(max_incidents=10)
    log(f"Loading {size:,} incidents in bulk …")
    loaded = load(size, world, log=log)
    rows, notes = [], [f"scale: {size:,} incidents, {repeats} timed runs per page (p95 of {repeats} runs is near their maximum)"]
    label = f"{size:,} incidents"
    for name, (client, url, headers) in pages(world, loaded["base_number"]).items():
        row, lines = measure(name, client, url, headers, repeats, label)
        rows.append(row)
        notes += lines
        log(lines[0] if lines else f"  {name}: {row.note}")
    return rows, notes
