"""Alert ingestion under load: `POST /api/v1/events` served by gunicorn on the benchmark
database, driven by an asyncio load generator (aiohttp) on loopback.

Target (docs/architecture.md, "Alert ingestion"): with PostgreSQL on the 2-core machine, at least
500 events/s with p99 latency under 100 ms, and every accepted event accounted for in the
database afterwards (one `AlertEvent` row per 202, all processed, repeats counted on their group).

Each run posts PagerDuty v2 trigger events for a fixed time at a fixed concurrency: 98 % repeat
one of 100 hot dedup keys (they join the open incident: the common case of a noisy alert), 2 %
carry a fresh key (each declares an incident: SLA plan, timeline, notification dispatch).
So the p99 is a declaration's latency (2 % of the requests); the joins' p99 is reported apart.

Server variants (`BENCH_INGEST_VARIANTS`, workers×threads, e.g. `2x8,4x1`; default 4 sync workers)
each get their own gunicorn, all started together, and their timed runs are interleaved (run 1
of each, then run 2 of each…), so other work on the machine weighs on each of them alike. Each
run also reports the CPU it cost per accepted event: the server's processes, the database's
backends and the load generator (from /proc), which tells a busy machine from a slow server.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import Row

ROOT = Path(__file__).resolve().parent.parent
HOT_KEYS = 100
FRESH_SHARE = 0.02
# Sync workers, as measured against gthread (2×8, 4×2) in interleaved runs: throughput is alike
# (gthread keeps connections alive, which halves the load generator's CPU per event), but a
# declaration (~30 ms of CPU) then shares one GIL with the joins of its process and its latency —
# the p99 of this mix — came out 2–3× higher. bench/README.md has the figures.
DEFAULT_VARIANTS = "4x1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def start_gunicorn(*, port: int, workers: int, threads: int, database_url: str, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Production settings, as deployed: DEBUG off, no TLS redirect on loopback.
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    args = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--access-logfile", "/dev/null", "--log-level", "warning",
        "--backlog", "2048", "--timeout", "60",
    ]
    if threads > 1:
        args += ["--worker-class", "gthread", "--threads", str(threads)]
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)


async def _wait_ready(base: str, server: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    import aiohttp

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < timeout:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-3000:]}")
            try:
                async with session.get(f"{base}/api/v1/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s: {log_path.read_text()[-3000:]}")


async def open_hot_keys(base: str, routing_key: str, *, concurrency: int = 4) -> None:
    """One trigger per hot key, so the timed runs find their incidents open."""
    import aiohttp

    keys = [f"hot-{n}" for n in range(HOT_KEYS)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(key):
            body = {
                "routing_key": routing_key, "event_action": "trigger", "dedup_key": key,
                "payload": {"summary": f"Latency above SLO on {key}", "source": "warm-up", "severity": "error"},
            }
            async with session.post(f"{base}/api/v1/events", json=body) as response:
                await response.read()
                if response.status != 202:
                    raise RuntimeError(f"warm-up trigger answered {response.status}: {await response.text()}")

        await asyncio.gather(*(one(key) for key in keys))


async def load(base: str, routing_key: str, *, run_id: str, seconds: float, concurrency: int) -> dict:
    """Post triggers for `seconds` with `concurrency` requests in flight; per 202, the dedup key."""
    import aiohttp

    url = f"{base}/api/v1/events"
    latencies: list[float] = []
    join_latencies: list[float] = []
    accepted: dict[str, int] = {}
    statuses: dict[int | str, int] = {}
    fresh = 0
    rng = random.Random(run_id)
    deadline = time.perf_counter() + seconds

    async def client(session):
        nonlocal fresh
        while time.perf_counter() < deadline:
            is_fresh = rng.random() < FRESH_SHARE
            if is_fresh:
                fresh += 1
                key = f"{run_id}-fresh-{fresh}-{rng.random()}"
            else:
                key = f"hot-{rng.randrange(HOT_KEYS)}"  # shared by the runs: opened in the warm-up
            body = {
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": key,
                "payload": {"summary": f"Latency above SLO on {key}", "source": run_id, "severity": "error"},
            }
            began = time.perf_counter()
            try:
                async with session.post(url, json=body) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError as exc:
                status = type(exc).__name__
            latencies.append((time.perf_counter() - began) * 1000)
            if not is_fresh:
                join_latencies.append(latencies[-1])
            statuses[status] = statuses.get(status, 0) + 1
            if status == 202:
                accepted[key] = accepted.get(key, 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return dict(latencies=latencies, join_latencies=join_latencies, accepted=accepted, statuses=statuses, elapsed=elapsed)


def hot_total(integration: int) -> int:
    from django.db.models import Sum

    from incidents.models import AlertGroup

    groups = AlertGroup.objects.filter(integration=integration, dedup_key__startswith="hot-")
    return groups.aggregate(n=Sum("alert_count"))["n"] or 0


def account(run_id: str, accepted: dict[str, int], hot_before: int, integration: int) -> dict:
    """Compare the 202s with the database: one processed AlertEvent per 202, group counts match."""
    from django.db.models import Count, Sum

    from incidents.models import AlertEvent, AlertGroup

    rows = AlertEvent.objects.filter(source=run_id)
    by_key = dict(rows.values_list("dedup_key").annotate(n=Count("pk")))
    unprocessed = rows.exclude(status=AlertEvent.Status.PROCESSED).count()
    fresh = AlertGroup.objects.filter(dedup_key__startswith=f"{run_id}-").aggregate(n=Sum("alert_count"))["n"] or 0
    joined = hot_total(integration) - hot_before
    missing = sum(max(0, n - by_key.get(key, 0)) for key, n in accepted.items())
    extra = sum(max(0, n - accepted.get(key, 0)) for key, n in by_key.items())
    return dict(stored=sum(by_key.values()), missing=missing, extra=extra, unprocessed=unprocessed, grouped=fresh + joined, hot_joined=joined)


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db.get("USER") or "postgres"
        if db.get("PASSWORD"):
            auth += f":{db['PASSWORD']}"
        return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
                pass
    return found


def _database_backends() -> list[int]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        pids = [pid for (pid,) in cursor.fetchall()]
    connection.close()
    return pids


def _cpu_snapshot(server: subprocess.Popen) -> dict[str, dict[int, float]]:
    """CPU seconds so far per process: the server's, the database backends', this process's."""
    times = os.times()
    return {
        "server": {pid: _cpu_seconds(pid) for pid in [server.pid, *_children(server.pid)]},
        "database": {pid: _cpu_seconds(pid) for pid in _database_backends()},
        "load generator": {0: times.user + times.system},
    }


def _cpu_spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds spent between two snapshots, per part (processes that ended are left out)."""
    return {part: sum(max(0.0, cpu - before[part].get(pid, 0.0)) for pid, cpu in after[part].items()) for part in after}


def _variants() -> list[tuple[int, int]]:
    """(workers, threads) per server variant: BENCH_INGEST_VARIANTS, or the single variant that
    BENCH_INGEST_WORKERS / BENCH_INGEST_THREADS name, or DEFAULT_VARIANTS."""
    spec = os.environ.get("BENCH_INGEST_VARIANTS")
    if not spec and ("BENCH_INGEST_WORKERS" in os.environ or "BENCH_INGEST_THREADS" in os.environ):
        spec = f"{os.environ.get('BENCH_INGEST_WORKERS', 2)}x{os.environ.get('BENCH_INGEST_THREADS', 1)}"
    variants = []
    for item in (spec or DEFAULT_VARIANTS).split(","):
        workers, _, threads = item.strip().partition("x")
        variants.append((int(workers), int(threads or 1)))
    return variants


def _label(workers: int, threads: int) -> str:
    return f"gunicorn {workers} gthread ×{threads}" if threads > 1 else f"gunicorn {workers} sync"


def run(*, smoke: bool, repeats: int, log=print, workers: int | None = None, concurrency: int | None = None) -> tuple[list[Row], list[str]]:
    from django.db import connection

    from incidents import ingest
    from incidents.models import Service

    variants = [(workers, 1)] if workers else _variants()
    concurrency = concurrency or int(os.environ.get("BENCH_INGEST_CONCURRENCY", 16))
    seconds = 3.0 if smoke else float(os.environ.get("BENCH_INGEST_SECONDS", 20))
    runs = 1 if smoke else repeats

    service, _ = Service.objects.get_or_create(slug="bench-ingest", defaults={"name": "Bench ingest"})
    servers = []
    try:
        for n, (n_workers, threads) in enumerate(variants):
            # One integration per variant: its hot keys (and their counts) are its own.
            integration, routing_key = ingest.create_integration(name=f"Bench load generator {n + 1}", service=service)
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            log_path = Path(tempfile.mkstemp(prefix="vigil-gunicorn-", suffix=".log")[1])
            log(f"Starting {_label(n_workers, threads)} workers on {base} …")
            connection.close()  # the server's workers open their own
            server = start_gunicorn(
                port=port, workers=n_workers, threads=threads, database_url=_database_url(), log_path=log_path
            )
            servers.append(dict(
                label=_label(n_workers, threads), base=base, routing_key=routing_key, integration=integration.pk,
                server=server, log_path=log_path, results=[],
            ))
        for entry in servers:
            asyncio.run(_wait_ready(entry["base"], entry["server"], entry["log_path"]))
            log(f"  {entry['label']}: opening the {HOT_KEYS} hot keys' incidents, then 2 s of load …")
            asyncio.run(open_hot_keys(entry["base"], entry["routing_key"]))
            asyncio.run(load(entry["base"], entry["routing_key"], run_id="warm", seconds=2, concurrency=concurrency))
        for n in range(runs):
            for entry in servers:
                run_id = f"r{n}-{secrets.token_hex(3)}"
                log(f"  run {n + 1}/{runs}, {entry['label']}: {seconds:.0f} s at {concurrency} concurrent requests …")
                hot_before = hot_total(entry["integration"])
                cpu_before = _cpu_snapshot(entry["server"])
                result = asyncio.run(load(entry["base"], entry["routing_key"], run_id=run_id, seconds=seconds, concurrency=concurrency))
                cpu_after = _cpu_snapshot(entry["server"])
                time.sleep(0.5)  # let the last responses' transactions settle (they committed before answering)
                result["check"] = account(run_id, result["accepted"], hot_before, entry["integration"])
                connection.close()
                result["ok"] = sum(result["accepted"].values())
                result["rate"] = result["ok"] / result["elapsed"]
                lat = result["latencies"]
                result.update(p50=statistics.median(lat), p95=_percentile(lat, 0.95), p99=_percentile(lat, 0.99))
                result["join_p99"] = _percentile(result["join_latencies"], 0.99)
                result["cpu"] = {
                    part: seconds * 1000 / max(1, result["ok"]) for part, seconds in _cpu_spent(cpu_before, cpu_after).items()
                }
                others = {k: v for k, v in result["statuses"].items() if k != 202}
                log(
                    f"    {result['rate']:,.0f} events/s, p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
                    f"p99 {result['p99']:.1f} ms (joins {result['join_p99']:.1f} ms); {result['ok']:,} accepted"
                    + (f", other answers {others}" if others else "")
                    + "; CPU ms per event: " + ", ".join(f"{part} {ms:.2f}" for part, ms in result["cpu"].items())
                    + f"; load average {os.getloadavg()[0]:.1f}"
                    + f"; in the database: {result['check']}"
                )
                entry["results"].append(result)
    finally:
        for entry in servers:
            entry["server"].terminate()
        for entry in servers:
            try:
                entry["server"].wait(timeout=20)
            except subprocess.TimeoutExpired:
                entry["server"].kill()
            entry["log_path"].unlink(missing_ok=True)

    size = f"{seconds:.0f} s × {concurrency} conc."
    rows, notes = [], []
    for entry in servers:
        results = entry["results"]
        rows += [
            Row("ingest POST /api/v1/events", f"{entry['label']}: events/s (target ≥ 500)", size, "/s", [r["rate"] for r in results]),
            Row("ingest POST /api/v1/events", "latency p50", size, "ms", [r["p50"] for r in results]),
            Row("ingest POST /api/v1/events", "latency p95", size, "ms", [r["p95"] for r in results]),
            Row("ingest POST /api/v1/events", "latency p99 (target < 100 ms)", size, "ms", [r["p99"] for r in results]),
            Row("ingest POST /api/v1/events", "latency p99, joins only", size, "ms", [r["join_p99"] for r in results]),
        ]
        rows += [
            Row("ingest POST /api/v1/events", f"CPU per event: {part}", size, "ms", [r["cpu"][part] for r in results])
            for part in results[0]["cpu"]
        ] if results else []
        lost = sum(r["check"]["missing"] + r["check"]["unprocessed"] for r in results)
        total = sum(r["ok"] for r in results)
        errors = sum(v for r in results for k, v in r["statuses"].items() if k != 202)
        notes.append(
            f"ingest, {entry['label']}: {total:,} events accepted (202) across {len(results)} run(s); "
            + ("every one is in the alert log, processed, and counted on its alert group." if not lost and all(
                r["check"]["grouped"] == r["check"]["stored"] for r in results) else f"NOT ACCOUNTED FOR: {[r['check'] for r in results]}")
            + (f" {errors:,} requests did not get 202." if errors else "")
        )
    notes.append(f"ingest: load average at the end {os.getloadavg()[0]:.1f} (other work on this machine shares its CPUs)")
    return rows, notes
