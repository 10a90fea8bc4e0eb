#!/usr/bin/env python
"""Vigil benchmarks, on a throwaway database: `python bench/run.py` (`--smoke` for a quick pass).

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
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, two repeats: checks the benchmarks still run")
    parser.add_argument("--repeats", type=int, help="timed runs per figure (default 5; smoke 2)")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/<date>-<db>.json")
    args = parser.parse_args()
    plan = dict(SMOKE if args.smoke else FULL)
    if args.repeats:
        plan["repeats"] = args.repeats

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
        rows, server = run(plan)
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
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if not args.no_save:
        out_dir = ROOT / "bench" / "results"
        out_dir.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M")
        out = out_dir / f"{stamp}-{vendor.lower()}{'-smoke' if args.smoke else ''}.json"
        out.write_text(json.dumps({"title": title, "plan": plan, "rows": [r.as_dict() for r in rows]}, indent=2))
        print(f"saved {out.relative_to(ROOT)}")
    return 0


def run(plan: dict) -> tuple[list, str]:
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
    world = scenarios.World(max_incidents=large)
    rows = []
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

    print("Measuring declarations …", flush=True)
    rows += scenarios.declare_rate(world, count=plan["declare"], repeats=repeats)
    # Keep the table grouped by benchmark, in the order they first appear.
    order = {name: i for i, name in reversed(list(enumerate(r.benchmark for r in rows)))}
    rows.sort(key=lambda r: order[r.benchmark])
    return rows, server


if __name__ == "__main__":
    sys.exit(main())
