"""/health for load balancers: 200 when every check passes, 503 naming each failed one with a
reason (and no host names); /health/live touches nothing."""

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from comms import tasks
from comms.models import Notification
from comms.observability.health import WORKER_HEARTBEAT
from incidents.models import EngineHeartbeat
from tests.comms.factories import NotificationFactory
from tests.comms import servers
from tests.incidents.factories import EngineHeartbeatFactory

ROOT = Path(__file__).resolve().parents[2]
# Ports that refuse connections, or accept them and then say nothing (tests/comms/servers.py).
closed_port, silent_server = servers.closed_port, servers.silent_server


@pytest.fixture
def alive(db):
    """Beat's engine ticked and a worker ran the heartbeat task a moment ago."""
    EngineHeartbeatFactory(last_tick_at=timezone.now())
    tasks.worker_heartbeat()


def get_health(client):
    response = client.get("/health")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response, response.json()


def test_all_checks_pass(client, alive):
    response, body = get_health(client)

    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert list(body["checks"]) == ["database", "cache", "broker", "engine", "worker", "outbox"]
    assert all(check["status"] == "ok" for check in body["checks"].values())


def redis_at(settings, port: int, password: str = "") -> None:
    auth = f":{password}@" if password else ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    settings.CELERY_BROKER_URL = f"redis://{auth}127.0.0.1:{port}/0"


def test_redis_refusing_fails_cache_and_broker_and_names_no_host(client, alive, settings, closed_port):
    port = closed_port[1]
    redis_at(settings, port, password="hunter2")

    response, body = get_health(client)

    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["failed"] == ["cache", "broker"]
    assert body["checks"]["cache"] == {"status": "fail", "reason": "unreachable (ConnectionError)"}
    assert body["checks"]["database"]["status"] == "ok"
    text = response.content.decode()
    assert "127.0.0.1" not in text and str(port) not in text and "hunter2" not in text


def test_redis_that_never_answers_still_gets_an_answer_within_two_seconds(client, alive, settings, silent_server):
    redis_at(settings, silent_server[1])

    started = time.monotonic()
    response, body = get_health(client)

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert body["failed"] == ["cache", "broker"]
    assert body["checks"]["cache"]["reason"] == "no answer within 1 s"


def test_a_stale_engine_tick_fails_engine(client, db, settings):
    settings.VIGIL_ENGINE_STALE_AFTER = 30
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False) as clock:
        EngineHeartbeatFactory(last_tick_at=timezone.now())
        clock.shift(dt.timedelta(seconds=31))
        tasks.worker_heartbeat()  # the workers are fine; beat is not

        response, body = get_health(client)

    assert response.status_code == 503
    assert body["failed"] == ["engine"]
    assert body["checks"]["engine"]["seconds_since_last_tick"] == 31
    assert "31 s ago" in body["checks"]["engine"]["reason"]


def test_an_engine_that_never_ticked_fails_engine(client, db):
    tasks.worker_heartbeat()

    response, body = get_health(client)

    assert response.status_code == 503
    assert body["failed"] == ["engine"]
    assert "never ticked" in body["checks"]["engine"]["reason"]


def test_no_worker_heartbeat_fails_worker(client, db):
    EngineHeartbeatFactory(last_tick_at=timezone.now())

    response, body = get_health(client)

    assert response.status_code == 503
    assert body["failed"] == ["worker"]
    assert "heartbeat" in body["checks"]["worker"]["reason"]


def test_a_stale_worker_heartbeat_fails_worker(client, db, settings):
    settings.VIGIL_WORKER_STALE_AFTER = 90
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False) as clock:
        tasks.worker_heartbeat()
        clock.shift(dt.timedelta(seconds=90))
        EngineHeartbeatFactory(last_tick_at=timezone.now())
        assert get_health(client)[0].status_code == 200  # 90 s is still within

        clock.shift(dt.timedelta(seconds=1))
        EngineHeartbeat.objects.filter(name="deadline-engine").update(last_tick_at=timezone.now())
        response, body = get_health(client)

    assert response.status_code == 503
    assert body["failed"] == ["worker"]
    assert body["checks"]["worker"]["seconds_since_heartbeat"] == 91


def test_the_heartbeat_task_keeps_one_row_up_to_date(db):
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False) as clock:
        tasks.worker_heartbeat()
        clock.shift(dt.timedelta(seconds=30))
        tasks.worker_heartbeat()

    assert list(EngineHeartbeat.objects.filter(name=WORKER_HEARTBEAT).values_list("last_tick_at", flat=True)) == [
        dt.datetime(2026, 3, 2, 10, 0, 30, tzinfo=dt.UTC)
    ]


def test_beat_runs_the_heartbeat_on_the_default_queue():
    entry = django_settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]
    assert entry["task"] == tasks.worker_heartbeat.name
    assert entry["schedule"] == django_settings.VIGIL_WORKER_HEARTBEAT_SECONDS
    assert entry["options"]["queue"] == django_settings.CELERY_TASK_DEFAULT_QUEUE


def test_an_outbox_backlog_past_the_threshold_fails_outbox(client, alive, settings):
    settings.VIGIL_OUTBOX_GRACE_SECONDS = 30
    settings.VIGIL_HEALTH_OUTBOX_BACKLOG_SECONDS = 120
    now = timezone.now()
    late = NotificationFactory(send_after=now - dt.timedelta(seconds=100))

    assert get_health(client)[0].status_code == 200  # overdue, but within the threshold

    Notification.objects.filter(pk=late.pk).update(send_after=now - dt.timedelta(minutes=10))
    response, body = get_health(client)

    assert response.status_code == 503
    assert body["failed"] == ["outbox"]
    assert body["checks"]["outbox"]["overdue_notifications"] == 1
    assert "1 notification(s) overdue" in body["checks"]["outbox"]["reason"]


def test_a_missing_filesystem_broker_folder_fails_broker(client, alive, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://localhost//"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path / "gone")}

    response, body = get_health(client)

    assert response.status_code == 503
    assert body["failed"] == ["broker"]
    assert str(tmp_path) not in response.content.decode()


def test_the_api_health_keeps_working(client, alive):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_head_is_answered_for_load_balancers(client, alive):
    assert client.head("/health").status_code == 200
    assert client.post("/health").status_code == 405


# --- /health/live ------------------------------------------------------------------------------


def test_live_touches_neither_database_nor_cache(client, settings, closed_port):
    # No `db` fixture: any query here raises. The cache and broker point at a port nothing listens on.
    redis_at(settings, closed_port[1])

    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- The database down, in a process of its own --------------------------------------------------

CHECK_WITHOUT_DATABASE = """
import json, django
django.setup()
from comms.observability.health import run_checks
print(json.dumps(run_checks()))
"""


def test_the_database_down_fails_database_and_skips_what_needs_it(closed_port):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://vigil:secret@127.0.0.1:{closed_port[1]}/vigil",
        "DB_CONNECT_TIMEOUT": "1",
        "VIGIL_VAR_DIR": str(ROOT / "var"),
    }
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", CHECK_WITHOUT_DATABASE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    checks = json.loads(result.stdout.strip().splitlines()[-1])
    assert checks["database"] == {"status": "fail", "reason": "unreachable (OperationalError)"}
    assert {checks[name]["reason"] for name in ("engine", "worker", "outbox")} == {"not checked: the database is unavailable"}
    assert checks["cache"]["status"] == "ok"  # the local-memory cache of a process without REDIS_URL
    assert time.monotonic() - started < 30


def test_load_balancers_probing_over_http_are_answered_not_redirected(client, alive, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health").status_code == 200
    assert client.get("/health/live").status_code == 200
    assert client.get("/metrics").status_code == 301  # a token never travels in clear text
