"""Alert ingestion under load: `POST /api/v1/events` served by gunicorn on the benchmark
database, driven by an asyncio load generator (aiohttp) on loopback.

Target (docs/architecture.md, "Alert ingestion"): with PostgreSQL on the 2-core machine, at least
500 events/s with p99 latency under 100 ms, and every accepted event accounted for in the
database afterwards (one `AlertEvent` row per 202, all processed, repeats counted on their group).

Each run posts PagerDuty v2 trigger events for a fixed time at a fixed concurrency: 98 % repeat
one of 100 hot dedup keys (they join the open incident: the common case of a noisy alert), 2 %
carry a fresh key (each declares an incident: SLA plan, timeline, notification dispatch).
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
    accepted: dict[str, int] = {}
    statuses: dict[int | str, int] = {}
    fresh = 0
    rng = random.Random(run_id)
    deadline = time.perf_counter() + seconds

    async def client(session):
        nonlocal fresh
        while time.perf_counter() < deadline:
            if rng.random() < FRESH_SHARE:
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
            statuses[status] = statuses.get(status, 0) + 1
            if status == 202:
                accepted[key] = accepted.get(key, 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return dict(latencies=latencies, accepted=accepted, statuses=statuses, elapsed=elapsed)


def hot_total() -> int:
    from django.db.models import Sum

    from incidents.models import AlertGroup

    return AlertGroup.objects.filter(dedup_key__startswith="hot-").aggregate(n=Sum("alert_count"))["n"] or 0


def account(run_id: str, accepted: dict[str, int], hot_before: int) -> dict:
    """Compare the 202s with the database: one processed AlertEvent per 202, group counts match."""
    from django.db.models import Count, Sum

    from incidents.models import AlertEvent, AlertGroup

    rows = AlertEvent.objects.filter(source=run_id)
    by_key = dict(rows.values_list("dedup_key").annotate(n=Count("pk")))
    unprocessed = rows.exclude(status=AlertEvent.Status.PROCESSED).count()
    fresh = AlertGroup.objects.filter(dedup_key__startswith=f"{run_id}-").aggregate(n=Sum("alert_count"))["n"] or 0
    joined = hot_total() - hot_before
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


def run(*, smoke: bool, repeats: int, log=print, workers: int | None = None, concurrency: int | None = None) -> tuple[list[Row], list[str]]:
    from django.db import connection

    from incidents import ingest
    from incidents.models import Service

    workers = workers or int(os.environ.get("BENCH_INGEST_WORKERS", 4))
    threads = int(os.environ.get("BENCH_INGEST_THREADS", 1))
    concurrency = concurrency or int(os.environ.get("BENCH_INGEST_CONCURRENCY", 16))
    seconds = 3.0 if smoke else float(os.environ.get("BENCH_INGEST_SECONDS", 20))
    runs = 1 if smoke else repeats

    service, _ = Service.objects.get_or_create(slug="bench-ingest", defaults={"name": "Bench ingest"})
    integration, routing_key = ingest.create_integration(name="Bench load generator", service=service)
    connection.close()  # the server's workers open their own

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.mkstemp(prefix="vigil-gunicorn-", suffix=".log")[1])
    kind = f"gthread ×{threads}" if threads > 1 else "sync"
    log(f"Starting gunicorn ({workers} {kind} workers) on {base} …")
    server = start_gunicorn(port=port, workers=workers, threads=threads, database_url=_database_url(), log_path=log_path)
    results = []
    try:
        asyncio.run(_wait_ready(base, server, log_path))
        log(f"  warming up: opening the {HOT_KEYS} hot keys' incidents, then 2 s of load …")
        asyncio.run(open_hot_keys(base, routing_key))
        asyncio.run(load(base, routing_key, run_id="warm", seconds=2, concurrency=concurrency))
        for n in range(runs):
            run_id = f"r{n}-{secrets.token_hex(3)}"
            log(f"  run {n + 1}/{runs}: {seconds:.0f} s at {concurrency} concurrent requests …")
            hot_before = hot_total()
            connection.close()
            result = asyncio.run(load(base, routing_key, run_id=run_id, seconds=seconds, concurrency=concurrency))
            time.sleep(0.5)  # let the last responses' transactions settle (they committed before answering)
            result["check"] = account(run_id, result["accepted"], hot_before)
            connection.close()
            result["ok"] = sum(result["accepted"].values())
            result["rate"] = result["ok"] / result["elapsed"]
            lat = result["latencies"]
            result.update(p50=statistics.median(lat), p95=_percentile(lat, 0.95), p99=_percentile(lat, 0.99))
            others = {k: v for k, v in result["statuses"].items() if k != 202}
            log(
                f"    {result['rate']:,.0f} events/s, p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
                f"p99 {result['p99']:.1f} ms; {result['ok']:,} accepted"
                + (f", other answers {others}" if others else "")
                + f"; in the database: {result['check']}"
            )
            results.append(result)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log_path.unlink(missing_ok=True)

    size = f"{seconds:.0f} s × {concurrency} conc."
    variant = f"gunicorn {workers} {kind}"
    rows = [
        Row("ingest POST /api/v1/events", f"{variant}: events/s (target ≥ 500)", size, "/s", [r["rate"] for r in results]),
        Row("ingest POST /api/v1/events", "latency p50", size, "ms", [r["p50"] for r in results]),
        Row("ingest POST /api/v1/events", "latency p95", size, "ms", [r["p95"] for r in results]),
        Row("ingest POST /api/v1/events", "latency p99 (target < 100 ms)", size, "ms", [r["p99"] for r in results]),
    ]
    lost = sum(r["check"]["missing"] + r["check"]["unprocessed"] for r in results)
    total = sum(r["ok"] for r in results)
    errors = sum(v for r in results for k, v in r["statuses"].items() if k != 202)
    notes = [
        f"ingest: {total:,} events accepted (202) across {len(results)} run(s); "
        + ("every one is in the alert log, processed, and counted on its alert group." if not lost and all(
            r["check"]["grouped"] == r["check"]["stored"] for r in results) else f"NOT ACCOUNTED FOR: {[r['check'] for r in results]}")
        + (f" {errors:,} requests did not get 202." if errors else "")
    ]
    return rows, notes
