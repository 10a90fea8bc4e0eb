"""The `csv` suite: `GET /api/v1/incidents.csv` streamed over 10,000, then 100,000 bulk-loaded
incidents (`scale.load`), through the test client, consuming the body piece by piece as a client would.

For each size: the median time of the timed runs (target at 100,000: ≤ 10 s), rows per second, the
queries of one export, and memory, which must not grow with the rows: the growth of the process's
resident memory (RSS, sampled at every piece) over its level before the export, the peak RSS of the
process so far (`getrusage`), and the peak of Python allocations during one export (tracemalloc,
on the warm-up run only: it slows the run down several times).
"""

from __future__ import annotations

import hashlib
import os
import resource
import statistics
import time
import tracemalloc

from django.test import Client

from bench import scale
from bench.measure import Row, count_queries
from incidents.models import Incident
from oncall.models import ApiKey

URL = "/api/v1/incidents.csv"
TARGET_SECONDS, TARGET_SIZE = 10.0, 100_000
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss() -> int:
    """The process's resident memory now, in bytes (Linux); else its peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return peak_rss()


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def stream(client: Client, headers: dict) -> dict:
    """One export, read piece by piece: seconds, bytes, rows (header included) and RSS growth."""
    before = highest = rss()
    start = time.perf_counter()
    response = client.get(URL, **headers)
    assert response.status_code == 200 and response.streaming, response.status_code
    size = rows = pieces = 0
    for piece in response.streaming_content:
        size += len(piece)
        rows += piece.count(b"\n")  # bulk-loaded titles hold no line breaks
        pieces += 1
        highest = max(highest, rss())
    response.close()
    return {"seconds": time.perf_counter() - start, "bytes": size, "rows": rows, "pieces": pieces, "growth": highest - before}


def run(*, sizes: tuple[int, ...], repeats: int, world, log=print) -> tuple[list[Row], list[str]]:
    """Top the incident table up to each size in turn, then export it all as a superuser (every row)."""
    secret = "vigil_bench_csv_" + "y" * 24
    ApiKey.objects.create(
        name="bench csv", owner=world.superuser, scopes=["read"], prefix=secret[:12],
        key_hash=hashlib.sha256(secret.encode()).hexdigest(), rate_limit_per_minute=10_000,
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client = Client()
    rows, notes, growth = [], [], {}
    for size in sizes:
        have = Incident.objects.count()
        if have < size:
            log(f"Loading {size - have:,} incidents in bulk (to {size:,}) …")
            scale.load(size - have, world, log=log)
        total = Incident.objects.count()
        first = {}
        tracemalloc.start()
        queries = count_queries(lambda: first.update(stream(client, headers)))  # warm-up, traced
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        runs = [stream(client, headers) for _ in range(repeats)]
        assert all(r["rows"] == total + 1 for r in runs), (total, [r["rows"] for r in runs])
        seconds = [r["seconds"] for r in runs]
        median = statistics.median(seconds)
        growth[total] = max(r["growth"] for r in runs)
        label = f"{total:,} incidents"
        rows.append(Row("csv export", "GET /api/v1/incidents.csv, streamed", label, "ms", [s * 1000 for s in seconds], queries))
        line = (
            f"csv export, {label}: median {median:.2f} s ({total / median:,.0f} rows/s), "
            f"{runs[0]['bytes'] / 1e6:,.1f} MB in {runs[0]['pieces']:,} pieces, {queries} queries; "
            f"RSS growth during the export {growth[total] / 1e6:.1f} MB (max of {repeats} runs; "
            f"{first['growth'] / 1e6:.1f} MB in the warm-up), "
            f"peak RSS of the process so far (bulk loads included) {peak_rss() / 1e6:.0f} MB, peak Python memory of one export "
            f"{python_peak / 1e6:.1f} MB (tracemalloc)"
        )
        if total >= TARGET_SIZE:
            line += f" · target ≤ {TARGET_SECONDS:.0f} s at {TARGET_SIZE:,}: {'MET' if median <= TARGET_SECONDS else 'NOT MET'}"
        notes.append(line)
        log(line)
    if len(growth) > 1:
        (small, small_growth), (large, large_growth) = min(growth.items()), max(growth.items())
        notes.append(
            f"csv export memory: RSS growth {small_growth / 1e6:.1f} MB at {small:,} rows, "
            f"{large_growth / 1e6:.1f} MB at {large:,} rows ({large / small:.0f}x the rows)"
        )
        log(notes[-1])
    return rows, notes
