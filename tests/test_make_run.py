"""`make run` as a developer meets it: a quiet terminal that shows the login once the servers are
up, and SIGTERM (or Ctrl-C) to its process group leaves nothing running a few seconds later.

Slow (a fresh SQLite database is migrated and seeded: ~30-40 s); `-m "not slow"` skips it. CI runs it.
"""

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STOPPED_WITHIN_SECONDS = 10

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive_in_group(pgid: int) -> list[str]:
    """Processes of the group still running (zombies have stopped; only their parent's reaping is left)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        state, pgrp = rest[0], int(rest[2])
        if pgrp == pgid and state != "Z":
            alive.append(f"{stat.parent.name} {name}")
    return alive


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(condition, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} within {seconds} s; make run printed:\n{log.read_text()[-4000:]}")


def test_make_run_is_quiet_shows_the_login_and_stops_everything_on_sigterm(tmp_path):
    port = free_port()
    var = tmp_path / "var"
    log = tmp_path / "make-run.log"
    # The documented defaults (SQLite, the file-system broker), in a directory of the test's own.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "DJANGO_", "EMAIL_", "VIGIL_", "MAKE"))}
    env["VIGIL_VAR_DIR"] = str(var)
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "run", f"PORT={port}"], cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/status/"), 150, "the web server did not answer", log)
        wait_for(lambda: "Messages sent:" in log.read_text(), 30, "the login was not printed again", log)

        printed = log.read_text()
        after_start = printed[printed.index("Starting development server") :]
        password = (var / "demo-login.txt").read_text().split("password: ")[1].strip()
        assert f"Vigil admin: http://127.0.0.1:{port}/admin/  user: admin  password: {password}" in after_start
        assert "INFO/MainProcess" not in printed and "beat: Starting" not in printed  # Celery at WARNING
        assert "-------------- celery@" not in printed  # no banner
        assert (var / "vigil.sqlite3").exists()

        os.killpg(make.pid, signal.SIGTERM)
        stopped_by = time.monotonic() + STOPPED_WITHIN_SECONDS
        while alive_in_group(make.pid) and time.monotonic() < stopped_by:
            time.sleep(0.2)
        assert alive_in_group(make.pid) == [], f"still running {STOPPED_WITHIN_SECONDS} s after SIGTERM"
        make.wait(timeout=5)
    finally:
        try:
            os.killpg(make.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        make.wait(timeout=10)


def test_the_log_level_can_be_raised():
    dry = subprocess.run(["make", "-n", "run", "LOGLEVEL=INFO"], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert re.search(r"celery -A config --quiet worker .*--loglevel=INFO", dry.stdout)
    assert re.search(r"celery -A config --quiet beat --loglevel=INFO", dry.stdout)
