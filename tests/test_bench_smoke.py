"""The benchmarks still run: `bench/run.py --smoke` (tiny sizes, every suite) on this run's
database server, so a change that breaks a benchmark fails CI instead of the next measurement."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# Every suite in one subprocess: ~40 s on a quiet machine, twice that on a busy shared one.
@pytest.mark.timeout(300)
def test_every_benchmark_runs_in_its_smoke_size(tmp_path):
    env = {**os.environ, "LOG_LEVEL": "WARNING", "VIGIL_MAIL_DIR": str(tmp_path / "mail")}
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--no-save"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    for figure in ("admin incident changelist", "declare (actions.declare)", "comms fan-out", "ingest POST /api/v1/events", "engine tick", "scale", "csv export", "dashboard", "weekly report render"):
        assert figure in result.stdout, f"{figure!r} missing from the results table"
    # The scale suite measured the status page and printed its target and the plan of its slowest query.
    assert "/status/ (/status/): median" in result.stdout and "target ≤ 100 ms p95, ≤ 100 KB" in result.stdout
    assert "slowest query" in result.stdout
    # The CSV suite streamed every row at both sizes and compared their memory.
    assert "csv export memory: RSS growth" in result.stdout
    assert "dashboard, 30 days (/admin/): median" in result.stdout and "≤ 25 queries" in result.stdout
