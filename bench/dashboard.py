"""The `dashboard` suite: the admin home (the operator dashboard with its figures and charts) and
the metrics page over 100,000 bulk-loaded incidents (`scale.load`) with ten timeline events each
(1,000,000 events), as a manager.

For each page: the median and p95 of the timed runs through the test client, its queries (which
must not grow with the table), and the EXPLAIN (ANALYZE) of its slowest query. Targets (issue 16):
the dashboard within 300 ms with at most 25 queries, the metrics table for 90 days within 500 ms.
"""

from __future__ import annotations

import math
import statistics
import time

from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from bench import scale
from bench.measure import Row

# page → (URL, target ms, most queries or None)
PAGES = {
    "dashboard, 30 days": ("/admin/", 300, 25),
    "dashboard, 90 days": ("/admin/?days=90", 300, 25),
    "metrics, 90 days by severity": ("/admin/metrics/?days=90&group_by=severity", 500, None),
    "metrics, 90 days by week": ("/admin/metrics/?days=90&group_by=week", 500, None),
    "metrics CSV, 90 days by service": ("/admin/metrics/?days=90&group_by=service&format=csv", 500, None),
}


def run(*, size: int, repeats: int, world, log=print) -> tuple[list[Row], list[str]]:
    log(f"Loading {size:,} incidents with ten timeline events each …")
    scale.load(size, world, log=log, updates=5)
    manager = world.commander  # a manager without the restricted permission: the visibility rules apply
    manager.groups.add(Group.objects.get(name="Managers"))
    client = Client()
    client.force_login(manager)
    label = f"{size:,} incidents"
    rows, notes = [], [f"dashboard: {size:,} incidents, {10 * size:,} timeline events, {repeats} timed runs per page"]
    for name, (url, target_ms, most_queries) in PAGES.items():
        status = _get(client, url)  # warm-up
        if status != 200:
            rows.append(Row("dashboard", name, label, "ms", note=f"GET {url} answered {status}"))
            continue
        spy = scale.Spy()
        with connection.execute_wrapper(spy):
            _get(client, url)
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            _get(client, url)
            samples.append((time.perf_counter() - start) * 1000)
        queries = spy.count
        median = statistics.median(samples)
        p95 = sorted(samples)[max(0, math.ceil(0.95 * len(samples)) - 1)]
        met = p95 <= target_ms and (most_queries is None or queries <= most_queries)
        target = f"≤ {target_ms} ms p95" + (f", ≤ {most_queries} queries" if most_queries else "")
        line = f"{name} ({url}): median {median:.1f} ms, p95 {p95:.1f} ms, {queries} queries · target {target}: {'MET' if met else 'NOT MET'}"
        log(line)
        notes.append(line)
        sql, params, took = spy.slowest
        if sql:
            notes.append(f"  slowest query {took * 1000:.1f} ms: {sql[:300]}{' …' if len(sql) > 300 else ''}")
            plan = scale.explain(sql, params)
            notes += [f"    {p}" for p in plan[:25]] + (["    …"] if len(plan) > 25 else [])
        rows.append(Row("dashboard", name, label, "ms", samples, queries))
    return rows, notes


def _get(client: Client, url: str) -> int:
    """One request, its body read to the end (a CSV streams); its status."""
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code
