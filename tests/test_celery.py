"""The Celery app: the reliability settings hold, and the configured broker really carries messages."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Connection

from config.celery import app

REPO = Path(__file__).resolve().parent.parent


def test_tasks_survive_a_lost_worker_and_never_hang():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_only_json_crosses_the_broker():
    assert app.conf.task_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_pages_have_a_queue_of_their_own():
    assert app.conf.task_default_queue == "default"
    routes = app.conf.task_routes
    assert "paging" in {route["queue"] for route in routes.values()}
    assert routes["comms.tasks.deliver_page"] == {"queue": "paging"}


def test_broker_visibility_outlasts_the_longest_task():
    """A running task must not be handed to a second worker (Redis redelivers after the timeout)."""
    if not app.conf.broker_url.startswith("redis"):
        pytest.skip("the visibility timeout applies to the Redis broker")
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit


def test_filesystem_broker_keeps_all_its_files_under_var():
    if not app.conf.broker_url.startswith("filesystem://"):
        pytest.skip("the suite runs against another broker")
    var = Path(settings.VAR_DIR).resolve()
    options = app.conf.broker_transport_options
    # control_folder holds the fanout tables (worker remote control, events); kombu's default
    # is ./control in whatever directory the worker was started from.
    for folder in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        assert var in Path(options[folder]).resolve().parents, folder


def round_trip(connection: Connection) -> None:
    """Publish to a queue of our own and read the message back, then remove the queue."""
    name = f"vigil-test-{uuid.uuid4().hex}"
    body = {"incident": "INC-42", "token": uuid.uuid4().hex}
    queue = connection.SimpleQueue(name, serializer="json")
    try:
        queue.put(body)
        message = queue.get(timeout=10)
        message.ack()
        assert message.payload == body
        assert message.content_type == "application/json"
    finally:
        queue.clear()
        queue.queue.delete()
        queue.close()


def test_redis_broker_round_trip():
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    assert app.conf.broker_url.startswith("redis://") or app.conf.broker_url.startswith("rediss://")
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=3)
        round_trip(connection)


def test_filesystem_broker_round_trip(tmp_path):
    folders = {"data_folder_in": tmp_path, "data_folder_out": tmp_path}
    options = {
        **{key: str(path) for key, path in folders.items()},
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }
    (tmp_path / "processed").mkdir()
    with Connection("filesystem://", transport_options=options) as connection:
        round_trip(connection)
    assert not list(tmp_path.glob("*.msg")), "the message was consumed"
