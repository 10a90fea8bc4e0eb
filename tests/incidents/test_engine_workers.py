"""The engine under real concurrency: parallel ticks on PostgreSQL, and beat + a Celery worker on Redis."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from incidents import engine
from incidents.models import Deadline, Incident, TimelineEvent
from tests.concurrency import all_at_once
from tests.incidents.factories import IncidentFactory, severity
from tests.oncall.factories import staff_default_policy

ROOT = Path(__file__).resolve().parents[2]
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_ticks_fire_every_deadline_exactly_once():
    staff_default_policy()
    # Declared two hours ago and never ticked: every level, the acknowledge round, the update
    # and resolve targets are all due at once.
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        incidents = [IncidentFactory(severity=severity("SEV-1")) for _ in range(40)]

    def three_ticks() -> list[int]:
        return [engine.tick(batch_size=7).fired for _ in range(3)]

    fired, errors = all_at_once(three_ticks, threads=4)

    assert errors == []
    assert sum(sum(ticks) for ticks in fired) > 0
    assert not Deadline.objects.filter(fired_at=None, cancelled_at=None, due_at__lte=timezone.now()).exists()
    for incident in incidents:
        levels = list(incident.timeline.filter(kind=TimelineEvent.Kind.ESCALATED).values_list("data__level", flat=True))
        assert sorted(levels) == [1, 2, 3, 4], incident.reference  # each level paged once
        breaches = incident.timeline.filter(kind=TimelineEvent.Kind.ACK_SLA_BREACHED).count()
        assert breaches <= 3
    fired_keys = list(Deadline.objects.exclude(fired_at=None).values_list("incident", "kind", "level", "round"))
    assert len(fired_keys) == len(set(fired_keys))


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis broker (REDIS_URL)")
@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_beat_and_a_worker_fire_a_due_deadline_through_redis(tmp_path):
    staff_default_policy()
    incident = IncidentFactory(severity=severity("SEV-1"))
    level_one = incident.deadlines.get(kind=Deadline.Kind.ESCALATION, level=1)
    assert level_one.fired_at is None

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "VIGIL_ENGINE_TICK_SECONDS": "1",
        "DJANGO_DEBUG": "1",
        # Queues of its own, so another run's worker on the same Redis cannot take its ticks.
        "CELERY_PAGING_QUEUE": f"paging-test-{os.getpid()}",
        "CELERY_DEFAULT_QUEUE": f"default-test-{os.getpid()}",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "-s", str(tmp_path / "beat-schedule"),
         "-Q", f"paging-test-{os.getpid()},default-test-{os.getpid()}", "--pool", "solo", "--loglevel", "INFO",
         "-n", f"engine-test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            level_one.refresh_from_db()
            if level_one.fired_at is not None:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
        connection.close()

    assert level_one.fired_at is not None, output[-3000:]
    assert [t["username"] for t in level_one.targets] == ["level1"]
    event = Incident.objects.get(pk=incident.pk).timeline.get(kind=TimelineEvent.Kind.ESCALATED)
    assert event.source == "engine" and "paging" in event.message
    assert "incidents.tasks.tick_deadlines" in output
