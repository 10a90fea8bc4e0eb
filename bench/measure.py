"""Timing helpers for the benchmarks: repeated runs, medians, query counts and the results table."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable

from django.db import connection


@dataclasses.dataclass
class Row:
    """One line of the results table: a benchmark, the variant measured and its samples."""

    benchmark: str
    variant: str
    size: str
    unit: str  # "ms" (lower is better) or "/s" (higher is better)
    samples: list[float] = dataclasses.field(default_factory=list)
    queries: int | None = None
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "median": self.median}


def count_queries(fn: Callable[[], object]) -> int:
    """Run `fn` once and return how many SQL statements it sent (this run also warms caches).

    A counting execute wrapper rather than CaptureQueriesContext: the latter reads Django's
    query log, which keeps only the last 9,000 queries and then reports differences of zero.
    """
    calls = 0

    def counter(execute, sql, params, many, context):
        nonlocal calls
        calls += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return calls


def time_ms(fn: Callable[[], object], repeats: int) -> list[float]:
    """Milliseconds per call over `repeats` calls. Queries are not captured here: capturing
    costs time per query and would flatter the variants that make fewer of them."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "/s":
        return f"{value:,.0f} /s"
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def table(rows: list[Row]) -> str:
    headers = ("benchmark", "variant", "size", "median", "min–max", "queries")
    lines = []
    for r in rows:
        spread = f"{_fmt(min(r.samples), r.unit)} – {_fmt(max(r.samples), r.unit)}" if r.samples else r.note
        queries = "" if r.queries is None else str(r.queries)
        lines.append((r.benchmark, r.variant, r.size, _fmt(r.median, r.unit), spread, queries))
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), "  ".join("-" * w for w in widths)]
    previous = None
    for line in lines:
        shown = ("" if line[0] == previous else line[0],) + line[1:]
        previous = line[0]
        out.append("  ".join(cell.rjust(w) if i in (3, 4, 5) else cell.ljust(w) for i, (cell, w) in enumerate(zip(shown, widths))))
    return "\n".join(out)
