#!/usr/bin/env python
"""Vigil benchmarks, on a throwaway database: `python bench/run.py` (`--smoke` for a quick pass).

`python bench/run.py engine` runs only the deadline-engine benchmark (likewise `pages`,
`declare`); with no name, all of them, the engine last (it bulk-loads a million rows).

With DATABASE_URL pointing at PostgreSQL, a dedicated `<name>_bench` database is created on
that server and dropped at the end; otherwise a temporary SQLite file. The development
database under var/ is never opened. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FULL = dict(repeats=5, declare=200, sizes=(200, 2000), events=(50, 500))
SMOKE = dict(repeats=2, declare=10, sizes=(20, 60), events=(10, 50))
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")
# Benchmark suites, in the order they run: the engine last, its bulk load would weigh on the others.
SUITES = {
    "pages": "admin changelist and change page, list query (data made through the actions)",
    "declare": "actions.declare throughput",
    "fanout": "comms: one external update to 5,000 recipients rendered and queued, then delivered to an SMTP sink by a Celery worker",
    "ingest": "alert ingestion: POST /api/v1/events under gunicorn with a load generator on loopback (events/s, p50/p95/p99, every 202 in the database)",
    "scale": "pages at a million incidents (--size): admin list, search, API list, status page; bulk-loaded, not in the default run",
    "csv": "CSV export streamed by GET /api/v1/incidents.csv at 10,000 and 100,000 incidents (time, memory); bulk-loaded, not in the default run",
    "dashboard": "the admin home (operator dashboard) and the metrics page at 100,000 incidents with 1,000,000 timeline events; bulk-loaded, not in the default run",
    "reports": "the weekly escalation report rendered over 100,000 incidents (--report-size); bulk-loaded, not in the default run",
    "engine": "deadline engine: ticks over 1,000,000 pending deadlines, idle tick plan, lag (bulk-loaded data)",
}


def bench_database(url: str) -> tuple[str, str, str]:
    """(DATABASE_URL to use, name of the database to create, label), never the real database."""
    parts = urlsplit(url)
    if parts.scheme in POSTGRES_SCHEMES:
        name = parts.path.lstrip("/") or "vigil"
        bench = name if name.endswith("_bench") else f"{name}_bench"
        return urlunsplit(parts._replace(path=f"/{bench}")), bench, "PostgreSQL"
    path = Path(tempfile.mkdtemp(prefix="vigil-bench-")) / "bench.sqlite3"
    return f"sqlite:///{path}", str(path), "SQLite"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "suites", nargs="*", metavar="SUITE",
        help="run only these: " + "; ".join(f"{name} ({what})" for name, what in SUITES.items()) + ". Default: all.",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, two repeats: checks the benchmarks still run")
    parser.add_argument("--repeats", type=int, help="timed runs per figure (default 5; smoke 2)")
    parser.add_argument("--size", type=int, default=1_000_000, help="scale suite: incidents to load (default 1,000,000; smoke 500)")
    parser.add_argument(
        "--report-size", type=int, default=100_000, help="reports suite: incidents to load (default 100,000; smoke 300)"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/<date>-<db>.json")
    parser.add_argument(
        "--tick-seconds", type=float, default=1.0,
        help="engine lag run: seconds between ticks (default 1; production beat uses VIGIL_ENGINE_TICK_SECONDS, 5)",
    )
    args = parser.parse_args()
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    plan = dict(SMOKE if args.smoke else FULL)
    if args.repeats:
        plan["repeats"] = args.repeats
    # With no name, every suite but `scale`, `csv`, `dashboard` and `reports` (their loads take minutes), which the
    # smoke pass includes.
    everything = [name for name in SUITES if name not in ("scale", "csv", "dashboard", "reports") or args.smoke]
    plan["suites"] = [name for name in SUITES if name in args.suites] if args.suites else everything
    plan["scale_size"] = 500 if args.smoke else args.size
    plan["csv_sizes"] = (200, 1000) if args.smoke else (10_000, 100_000)
    plan["dashboard_size"] = 300 if args.smoke else 100_000
    plan["report_size"] = 300 if args.smoke else args.report_size
    plan["tick_seconds"] = args.tick_seconds
    plan["smoke"] = args.smoke

    url, db_name, vendor = bench_database(os.environ.get("DATABASE_URL", ""))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    # Pages are measured as production serves them (no query log); bench/measure.py counts
    # queries with an execute wrapper, which needs no DEBUG.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    connection.settings_dict["TEST"]["NAME"] = db_name
    started = time.perf_counter()
    print(f"Creating the {vendor} benchmark database {db_name} …", flush=True)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        rows, server, notes = run(plan)
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)
        if vendor == "SQLite":
            shutil.rmtree(Path(db_name).parent, ignore_errors=True)

    from bench import measure, scenarios

    title = (
        f"Vigil benchmarks · {scenarios.now_label()} · {server} · {plan['repeats']} timed runs each, "
        f"median (min – max){' · SMOKE' if args.smoke else ''}"
    )
    print()
    print(title)
    print(measure.table(rows))
    if notes:
        print()
        print("\n".join(notes))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if not args.no_save:
        out_dir = ROOT / "bench" / "results"
        out_dir.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M")
        only = "" if plan["suites"] == list(SUITES) else "-" + "-".join(plan["suites"])
        out = out_dir / f"{stamp}-{vendor.lower()}{only}{'-smoke' if args.smoke else ''}.json"
        out.write_text(json.dumps({"title": title, "plan": plan, "rows": [r.as_dict() for r in rows], "notes": notes}, indent=2))
        print(f"saved {out.relative_to(ROOT)}")
    return 0


def run(plan: dict) -> tuple[list, str, list[str]]:
    from django.db import connection

    from bench import scenarios

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            server = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            server = f"SQLite {cursor.fetchone()[0]}"

    repeats = plan["repeats"]
    small, large = plan["sizes"]
    suites = plan["suites"]
    rows, notes = [], []
    world = None
    if any(name in suites for name in ("pages", "declare", "scale", "csv", "dashboard", "reports")):  # one set of people for them all
        world = scenarios.World(max_incidents=large)
    if "pages" in suites:
        for size in (small, large):
            step = time.perf_counter()
            print(f"Declaring incidents up to {size:,} through the actions …", flush=True)
            scenarios.populate(world, size)
            print(f"  {time.perf_counter() - step:.1f} s; measuring the list", flush=True)
            label = f"{size:,} incidents"
            rows += scenarios.changelist(world, rows_label=label, repeats=repeats)
            rows += scenarios.list_query(world, rows_label=label, repeats=repeats)

        print("Building incidents with long timelines …", flush=True)
        long_ones = {n: scenarios.incident_with_events(world, n) for n in plan["events"]}
        rows += scenarios.change_page(world, long_ones, repeats=repeats)

    if "declare" in suites:
        print("Measuring declarations …", flush=True)
        rows += scenarios.declare_rate(world, count=plan["declare"], repeats=repeats)

    if "fanout" in suites:
        from bench import fanout

        fanout_rows, fanout_notes = fanout.run(smoke=plan["smoke"], repeats=min(repeats, 3), log=lambda line: print(line, flush=True))
        rows += fanout_rows
        notes += fanout_notes
    if "ingest" in suites:
        from bench import ingest

        ingest_rows, ingest_notes = ingest.run(smoke=plan["smoke"], repeats=min(repeats, 3), log=lambda line: print(line, flush=True))
        rows += ingest_rows
        notes += ingest_notes
    if "scale" in suites:
        from bench import scale

        step = time.perf_counter()
        scale_rows, scale_notes = scale.run(
            size=plan["scale_size"], repeats=2 if plan["smoke"] else max(repeats, 7),
            world=world, log=lambda line: print(line, flush=True),
        )
        rows += scale_rows
        notes += scale_notes
        print(f"  scale benchmark: {time.perf_counter() - step:.0f} s", flush=True)
    if "csv" in suites:
        from bench import export

        step = time.perf_counter()
        csv_rows, csv_notes = export.run(
            sizes=plan["csv_sizes"], repeats=min(repeats, 3), world=world, log=lambda line: print(line, flush=True)
        )
        rows += csv_rows
        notes += csv_notes
        print(f"  csv benchmark: {time.perf_counter() - step:.0f} s", flush=True)
    if "dashboard" in suites:
        from bench import dashboard

        step = time.perf_counter()
        dashboard_rows, dashboard_notes = dashboard.run(
            size=plan["dashboard_size"], repeats=2 if plan["smoke"] else max(repeats, 7), world=world,
            log=lambda line: print(line, flush=True),
        )
        rows += dashboard_rows
        notes += dashboard_notes
        print(f"  dashboard benchmark: {time.perf_counter() - step:.0f} s", flush=True)
    if "reports" in suites:
        from bench import reports

        step = time.perf_counter()
        report_rows, report_notes = reports.run(
            size=plan["report_size"], repeats=2 if plan["smoke"] else repeats, world=world, log=lambda line: print(line, flush=True)
        )
        rows += report_rows
        notes += report_notes
        print(f"  reports benchmark: {time.perf_counter() - step:.0f} s", flush=True)
    if "engine" in suites:
        from bench import engine

        step = time.perf_counter()
        engine_rows, engine_notes = engine.run(
            vendor=connection.vendor, smoke=plan["smoke"], repeats=repeats, tick_seconds=plan["tick_seconds"],
            log=lambda line: print(line, flush=True),
        )
        rows += engine_rows
        notes += engine_notes
        print(f"  engine benchmark: {time.perf_counter() - step:.0f} s", flush=True)
    # Keep the table grouped by benchmark, in the order they first appear.
    order = {name: i for i, name in reversed(list(enumerate(r.benchmark for r in rows)))}
    rows.sort(key=lambda r: order[r.benchmark])
    return rows, server, notes


if __name__ == "__main__":
    sys.exit(main())
