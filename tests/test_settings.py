"""Settings from the environment: production is safe, secrets are required, PostgreSQL is pooled.

Each case runs Django in a subprocess with an environment of its own, so it holds whatever
database, broker or DEBUG value the suite itself runs with.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Variables that select a configuration; each case starts without them and sets its own.
CONFIG_VARIABLES = ("DJANGO_", "DATABASE_URL", "DB_", "REDIS_URL", "CELERY_", "EMAIL_")

PRINT_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"],
    "conn_max_age": db["CONN_MAX_AGE"],
    "conn_health_checks": db["CONN_HEALTH_CHECKS"],
    "server_options": db.get("OPTIONS", {}).get("options"),
    "broker_url": settings.CELERY_BROKER_URL,
    "debug": settings.DEBUG,
}))
"""


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_VARIABLES)}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


def dotenv_defines(name: str) -> bool:
    """A developer's own .env is read by the settings too; it may legitimately set `name`."""
    dotenv = REPO / ".env"
    return dotenv.exists() and re.search(rf"^\s*(export\s+)?{name}\s*=", dotenv.read_text(), re.M)


def production_env(**overrides: str) -> dict[str, str]:
    return clean_env(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        DJANGO_ALLOWED_HOSTS="vigil.example.com",
        **overrides,
    )


def test_production_configuration_passes_the_deployment_checks():
    env = production_env()
    assert len(env["DJANGO_SECRET_KEY"]) == 64

    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    if dotenv_defines("DJANGO_SECRET_KEY"):
        pytest.skip("the local .env sets DJANGO_SECRET_KEY")
    env = clean_env(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="vigil.example.com")

    result = run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_postgresql_connections_are_persistent_and_health_checked():
    # Nothing connects: the settings are only read and printed.
    env = clean_env(DATABASE_URL="postgres://vigil:secret@127.0.0.1:5432/vigil")

    result = run(["-c", PRINT_SETTINGS], env)

    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout.strip().splitlines()[-1])
    assert settings["engine"] == "django.db.backends.postgresql"
    assert settings["conn_max_age"] > 0
    assert settings["conn_health_checks"] is True
    assert settings["server_options"] == "-c jit=off"  # measured: JIT costs Vigil's queries more than it saves


def test_defaults_need_no_server():
    if dotenv_defines("DATABASE_URL") or dotenv_defines("REDIS_URL") or dotenv_defines("CELERY_BROKER_URL"):
        pytest.skip("the local .env chooses a database or broker")

    result = run(["-c", PRINT_SETTINGS], clean_env())

    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout.strip().splitlines()[-1])
    assert settings["engine"] == "django.db.backends.sqlite3"
    assert settings["broker_url"].startswith("filesystem://")


def test_env_example_lists_every_variable_the_settings_read():
    source = (REPO / "config" / "settings.py").read_text()
    read = set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""", source))
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.M))

    assert read, "no env(...) reads found in config/settings.py"
    assert read - listed == set(), "add these to .env.example"
