"""The `reports` suite: the weekly escalation report rendered over many incidents (`--report-size`,
100,000 by default), bulk-loaded as the `scale` suite loads them (`bench/scale.py`: three years
of incidents, 2 % open, 5 % restricted, 1 % drills). Times `comms.reports.render.render` for the
latest weekly period with every section, as a commander (restricted incidents counted) and as a
superuser (named), and counts its queries; the target is ≤ 1 s (issue 17)."""

from __future__ import annotations

import types

from django.db import IntegrityError
from django.utils import timezone

from bench.measure import Row, count_queries, time_ms

TARGET_MS = 1000


def _world():
    from bench.scenarios import World
    from incidents.models import Service
    from oncall.models import User

    try:
        return World(max_incidents=10)
    except IntegrityError:  # the pages or scale suite made it in this process already
        return types.SimpleNamespace(
            superuser=User.objects.get(username="bench-admin"),
            commander=User.objects.get(username="bench-ic"),
            responder=User.objects.get(username="bench-responder"),
            services=list(Service.objects.filter(slug__startswith="bench-service-").order_by("slug")),
        )


def run(*, size: int, repeats: int, world=None, log=print) -> tuple[list[Row], list[str]]:
    """`world`: the bench's people when another suite of the run made them."""
    from bench.scale import load
    from comms.models import ReportSubscription
    from comms.reports import schedule
    from comms.reports.render import render, viewer_for
    from comms.reports.sections import DEFAULT_SECTIONS

    world = world or _world()
    log(f"Loading {size:,} incidents in bulk for the report …")
    load(size, world, log=log)
    report = ReportSubscription.objects.create(
        name="Bench weekly", owner=world.superuser, frequency="weekly", weekday=1, time_zone="UTC", sections=DEFAULT_SECTIONS
    )
    period = schedule.latest_due(schedule.cadence_of(report), timezone.now())
    rows, notes = [], []
    label = f"{size:,} incidents"
    for who, user in (("commander (restricted counted)", world.commander), ("superuser", world.superuser)):
        viewer = viewer_for(report, user)

        def once():
            return render(report, period.start, period.end, viewer)

        queries = count_queries(once)  # also the warm-up
        samples = time_ms(once, repeats)
        row = Row("weekly report render", who, label, "ms", samples, queries=queries)
        rows.append(row)
        verdict = "within" if max(samples) <= TARGET_MS else "OVER"
        line = f"  weekly report, {who}: median {row.median:,.0f} ms, max {max(samples):,.0f} ms, {queries} queries ({verdict} the {TARGET_MS} ms target)"
        notes.append(line)
        log(line)
    return rows, notes
