"""/health with real processes: beat and a Celery worker on Redis keep the engine and worker
checks passing (reuses the outbox's worker helpers)."""

import time

from incidents.models import EngineHeartbeat
from tests.comms.test_outbox_workers import pytestmark as needs_redis_and_postgresql
from tests.comms.test_outbox_workers import start_worker, stop, worker_env

pytestmark = needs_redis_and_postgresql


def test_beat_and_a_worker_make_health_pass(client, tmp_path):
    response = client.get("/health")
    assert set(response.json()["failed"]) >= {"engine", "worker"}  # nothing has run yet

    worker = start_worker(worker_env(VIGIL_WORKER_HEARTBEAT_SECONDS="1", VIGIL_ENGINE_TICK_SECONDS="1"), tmp_path, beat=True)
    try:
        deadline = time.monotonic() + 60
        while EngineHeartbeat.objects.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        response = client.get("/health")
    finally:
        output = stop(worker)

    assert response.status_code == 200, (response.json(), output[-3000:])
    assert response.json()["checks"]["worker"]["seconds_since_heartbeat"] < 30
