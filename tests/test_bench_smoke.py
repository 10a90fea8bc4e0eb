"""The benchmarks still run: `bench/run.py --smoke` (tiny sizes, every suite) on this run's
database server, so a change that breaks a benchmark fails CI instead of the next measurement."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_runs_in_its_smoke_size():
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--no-save"],
        cwd=ROOT, env={**os.environ, "LOG_LEVEL": "WARNING"}, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    for figure in ("admin incident changelist", "declare (actions.declare)", "comms fan-out", "ingest POST /api/v1/events", "engine tick", "scale"):
        assert figure in result.stdout, f"{figure!r} missing from the results table"
    # The scale suite measured the status page and printed its target and the plan of its slowest query.
    assert "/status/ (/status/): median" in result.stdout and "target ≤ 100 ms p95, ≤ 100 KB" in result.stdout
    assert "slowest query" in result.stdout
