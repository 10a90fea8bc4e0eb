"""Vigil settings: every value comes from the environment through django-environ.

Development needs nothing set (SQLite under var/, a file-system Celery broker). Production
sets DJANGO_DEBUG=0, and then DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS are required:
a missing one fails at start-up rather than running with a default.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Where the development database, the file-system broker, beat's schedule, the demo login and
# development mail live (`make run`); a test of `make run` points it at a temporary directory.
VAR_DIR = Path(env("VIGIL_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-used-in-production")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin_site.VigilAdminConfig",  # django.contrib.admin, pages titled in Vigil's words
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The title search's pg_trgm index (incidents/indexes.py) needs its OpClass wrapper registered;
    # on SQLite the app does nothing.
    "django.contrib.postgres",
    # Only for its templates and static files: the API docs (/api/v1/docs) load Swagger UI from
    # Vigil's own static files instead of a CDN, so they work offline (ninja/openapi/docs.py).
    "ninja",
    # Vigil, lowest layer first (see docs/architecture.md): each may import only from those above it.
    "oncall",
    "incidents",
    "postmortems",
    "comms",
]

MIDDLEWARE = [
    "config.middleware.ApiBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "oncall.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# PostgreSQL in production (DATABASE_URL=postgres://…, psycopg 3); SQLite under var/ by default.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'vigil.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks instead of failing, and take the
    # write lock at BEGIN so two writers never deadlock on a lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Persistent connections with health checks: measured ~3x the request rate of
    # per-request connections on a JSON insert endpoint (docs/architecture.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Large tables: PostgreSQL's JIT, admin list counts --------------------------------------
# JIT is off for Vigil's connections. Measured on 200,000 incidents (PostgreSQL 15, defaults,
# EXPLAIN ANALYZE, medians of 5): the commander's list count took 130.6 ms with JIT, 82.6 ms of
# it compiling, and 40.9 ms without; the commander's title-search page 305 ms with JIT and 175 ms
# without (docs/architecture.md, "Counting, visibility and JIT"). Vigil's queries are short
# reads over indexes: compiling never pays, and a misestimated plan (a correlated EXISTS costed
# per row) crosses jit_above_cost by accident.
# VIGIL_DB_JIT=true hands the decision back to the server's settings.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool("VIGIL_DB_JIT", default=False):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (_options.get("options", "") + " -c jit=off").strip()
# Admin lists of large tables (incidents, alerts, the outbox) count exactly up to this many rows
# and past it show the planner's estimate, "about 1,000,000" (oncall/admin/paging.py).
VIGIL_ADMIN_EXACT_COUNT_LIMIT = env.int("VIGIL_ADMIN_EXACT_COUNT_LIMIT", default=10000)
# The admin home (the operator dashboard) fetches its open incidents again this often, in seconds;
# without JavaScript it reloads itself at the same interval (comms/admin/dashboard.py).
VIGIL_DASHBOARD_REFRESH_SECONDS = env.int("VIGIL_DASHBOARD_REFRESH_SECONDS", default=30)
# The incident page asks for new timeline events (and its badges and next deadline) this often, in
# seconds (incidents/admin/page.py, incidents/static/incidents/incident.js).
VIGIL_INCIDENT_REFRESH_SECONDS = env.int("VIGIL_INCIDENT_REFRESH_SECONDS", default=5)

AUTH_USER_MODEL = "oncall.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Cache --------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Time ---------------------------------------------------------------------------------
# Stored in UTC; shown in each user's own time zone (oncall.User.time_zone).
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-gb"
USE_I18N = True

# --- Static files ----------------------------------------------------------------------------
# Every page loads only from Vigil's own origin (the admin's and the API docs' CSS and scripts).
# `runserver` serves them from the apps while DEBUG is on; otherwise Vigil serves what
# `manage.py collectstatic` wrote to STATIC_ROOT (config/static.py), unless a proxy in front
# serves STATIC_ROOT at STATIC_URL itself and DJANGO_SERVE_STATIC=0.
STATIC_URL = "static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static"))
SERVE_STATIC = env.bool("DJANGO_SERVE_STATIC", default=True)

# --- Security (production) -----------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Development messages (make run) -------------------------------------------------------
# While DEBUG is on and no backend is chosen, each email, SMS and chat message prints one line
# and is written whole to a file here (comms/backends/mailbox.py), instead of whole to the terminal.
VIGIL_MAIL_DIR = env("VIGIL_MAIL_DIR", default=str(VAR_DIR / "mail"))
_MAILBOX = "comms.backends.mailbox."

# --- Email --------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND", default=_MAILBOX + "EmailBackend" if DEBUG else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Vigil <vigil@localhost>")

# --- Celery -------------------------------------------------------------------------------
# Redis and Celery only wake things up; PostgreSQL holds the truth. Without a broker URL the
# file-system transport under var/ needs no server (development, `make run`).
# (A host name, though unused, keeps kombu from warning "No hostname was supplied" on every start.)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
        # Fanout tables (worker remote control); kombu's default is ./control wherever the
        # worker happens to start.
        "control_folder": str(_queue_dir / "control"),
    }
else:
    # Longer than any task's hard time limit, so a running task is never redelivered;
    # no task uses long countdowns (deadlines live in the database instead).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=50)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_DEFAULT_QUEUE", default="default")
# Paging has a queue of its own so a slow chat provider or a mail backlog never delays a page.
CELERY_PAGING_QUEUE = env("CELERY_PAGING_QUEUE", default="paging")
CELERY_TASK_ROUTES = {
    "comms.tasks.dispatch_events": {"queue": CELERY_PAGING_QUEUE},
    "comms.tasks.deliver_page": {"queue": CELERY_PAGING_QUEUE},
    "comms.tasks.sweep_outbox": {"queue": CELERY_PAGING_QUEUE},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# --- The deadline engine -------------------------------------------------------------------
VIGIL_ENGINE_TICK_SECONDS = env.int("VIGIL_ENGINE_TICK_SECONDS", default=5)
VIGIL_ENGINE_BATCH_SIZE = env.int("VIGIL_ENGINE_BATCH_SIZE", default=200)
# A tick stops after this many batches and leaves the rest to the next tick.
VIGIL_ENGINE_MAX_BATCHES = env.int("VIGIL_ENGINE_MAX_BATCHES", default=50)
# Health reports the engine stale when the last tick is older than this (beat or workers down).
VIGIL_ENGINE_STALE_AFTER = env.int("VIGIL_ENGINE_STALE_AFTER_SECONDS", default=VIGIL_ENGINE_TICK_SECONDS * 6)

# --- /metrics and /health (comms/observability/) ----------------------------------------------
# A worker of the default queue runs a heartbeat task this often (beat's "worker-heartbeat");
# /health fails its "worker" check when the last one is older than the second value.
VIGIL_WORKER_HEARTBEAT_SECONDS = env.int("VIGIL_WORKER_HEARTBEAT_SECONDS", default=30)
VIGIL_WORKER_STALE_AFTER = env.int("VIGIL_WORKER_STALE_AFTER_SECONDS", default=VIGIL_WORKER_HEARTBEAT_SECONDS * 3)
# /health fails its "outbox" check when a notification has been overdue (past its due time and
# the outbox's grace) longer than this (default 120 s).
VIGIL_HEALTH_OUTBOX_BACKLOG_SECONDS = env.int("VIGIL_HEALTH_OUTBOX_BACKLOG_SECONDS", default=120)
# /metrics is off unless one of these is set (403 otherwise). A bearer token Prometheus sends
# (`Authorization: Bearer …`; default empty), and/or the networks scrapes may come from,
# comma-separated CIDRs matched against REMOTE_ADDR (default none). With both, both must hold.
VIGIL_METRICS_TOKEN = env.str("VIGIL_METRICS_TOKEN", default="")
VIGIL_METRICS_ALLOWED_NETWORKS = env.list("VIGIL_METRICS_ALLOWED_NETWORKS", default=[])


def _check_networks(networks: list[str]) -> None:
    import ipaddress

    from django.core.exceptions import ImproperlyConfigured

    for network in networks:
        try:
            ipaddress.ip_network(network)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"VIGIL_METRICS_ALLOWED_NETWORKS: {network!r} is not a network ({exc}); "
                "give comma-separated CIDRs such as 10.0.0.0/8,192.168.1.7/32."
            ) from None


_check_networks(VIGIL_METRICS_ALLOWED_NETWORKS)
# Load balancers check /health over plain HTTP: it is answered there rather than redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^health(/live)?$"]

# The war-room sweeper (comms/warroom/) runs this often: rooms whose retry is due or whose task was lost.
VIGIL_WAR_ROOM_SWEEP_SECONDS = env.int("VIGIL_WAR_ROOM_SWEEP_SECONDS", default=30)

# Periodic work, declared in code.
CELERY_BEAT_SCHEDULE: dict = {
    # Fire due SLA deadlines (escalations, acknowledge timeouts, overdue updates). A tick that
    # is not picked up within one interval is dropped: the next one does the same work.
    "engine-tick": {
        "task": "incidents.tasks.tick_deadlines",
        "schedule": VIGIL_ENGINE_TICK_SECONDS,
        "options": {"queue": CELERY_PAGING_QUEUE, "expires": VIGIL_ENGINE_TICK_SECONDS},
    },
    # Alert ingestion, every minute: declare an incident for each heartbeat whose ping is overdue
    # (interval + grace; once per outage), and process alert events stored but left unprocessed.
    "ingest-check": {
        "task": "incidents.tasks.check_ingestion",
        "schedule": 60,
        "options": {"queue": CELERY_PAGING_QUEUE, "expires": 60},
    },
    # The outbox sweeper: dispatches timeline events no task picked up, and enqueues
    # notifications that fell due (delayed SMS rules, throttles, retries) or were lost.
    "outbox-sweep": {
        "task": "comms.tasks.sweep_outbox",
        "schedule": env.int("VIGIL_OUTBOX_SWEEP_SECONDS", default=5),
        "options": {"queue": CELERY_PAGING_QUEUE, "expires": env.int("VIGIL_OUTBOX_SWEEP_SECONDS", default=5)},
    },
    # Post-mortem reminders, daily at VIGIL_REMINDER_HOUR_UTC (08:00 UTC): drafts and action
    # items due soon or overdue, to their owners and, long overdue, their managers. Once per
    # item and person a day, so a second beat or a late run reminds nobody twice; a run the
    # broker held back for six hours is dropped (tomorrow's does the same work).
    "postmortem-reminders": {
        "task": "postmortems.tasks.send_due_reminders",
        "schedule": crontab(hour=env.int("VIGIL_REMINDER_HOUR_UTC", default=8), minute=0),
        "options": {"expires": 6 * 3600},
    },
    # Scheduled escalation reports (comms/reports/): every 5 minutes, find the subscriptions whose
    # latest send time has passed and whose period is not yet in the ledger, and queue one task
    # each (the ledger's unique key makes a second beat or a late run send nothing twice).
    "send-due-reports": {
        "task": "comms.tasks.send_due_reports",
        "schedule": 300,
        "options": {"expires": 300},
    },
    # The war-room sweeper: opens (again) the war rooms whose retry is due or whose task was lost,
    # invites people a failed invite left out, archives rooms of closed incidents that failed to.
    # On the default queue: a slow chat provider never delays a page.
    "war-room-sweep": {
        "task": "comms.tasks.sweep_war_rooms",
        "schedule": VIGIL_WAR_ROOM_SWEEP_SECONDS,
        "options": {"queue": CELERY_TASK_DEFAULT_QUEUE, "expires": VIGIL_WAR_ROOM_SWEEP_SECONDS},
    },
    # A worker's heartbeat for /health: a worker of the default queue stamps the time (the
    # paging queue's workers show in the engine's own tick). Dropped if not picked up in time.
    "worker-heartbeat": {
        "task": "comms.tasks.worker_heartbeat",
        "schedule": VIGIL_WORKER_HEARTBEAT_SECONDS,
        "options": {"queue": CELERY_TASK_DEFAULT_QUEUE, "expires": VIGIL_WORKER_HEARTBEAT_SECONDS},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Logging ------------------------------------------------------------------------------
# One handler, on the root logger: Django's own "django" handler (console while DEBUG) is
# dropped, or every request warning (a 403, a 404) printed twice. A 403 is one line, no traceback.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"forbidden_without_traceback": {"()": "config.log.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["forbidden_without_traceback"]},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Vigil --------------------------------------------------------------------------------
# An SLA target is "due soon" in the last quarter of its window, but at most this many
# seconds before it is due (so a 24 h target is not "due soon" for six hours).
VIGIL_SLA_DUE_SOON = env.int("VIGIL_SLA_DUE_SOON_SECONDS", default=1800)

# --- Incident input bounds -----------------------------------------------------------------
# An incident's detection time may be at most this many days before its declaration (an older
# one is a typo: 1900-01-01 made a 46,360-day incident).
VIGIL_MAX_DETECTION_LEAD_DAYS = env.int("VIGIL_MAX_DETECTION_LEAD_DAYS", default=30)

# --- Post-mortems --------------------------------------------------------------------------
# An overdue post-mortem or action item is also sent to the owner's manager once it is overdue
# by more than this many days (before that, only the owner is reminded).
VIGIL_REMINDER_MANAGER_AFTER_DAYS = env.int("VIGIL_REMINDER_MANAGER_AFTER_DAYS", default=2)

# --- Alert ingestion ----------------------------------------------------------------------
# A repeated alert is noted on its incident's timeline at most once per this many seconds
# (the count is kept on its alert group either way).
VIGIL_ALERT_REPEAT_NOTE_SECONDS = env.int("VIGIL_ALERT_REPEAT_NOTE_SECONDS", default=300)

# --- Notifications (comms) ----------------------------------------------------------------
# Absolute links in messages (acknowledge links, the incident page, the status page).
VIGIL_BASE_URL = env("VIGIL_BASE_URL", default="http://127.0.0.1:8000")
# The outbox sweeper re-dispatches events and re-enqueues due notifications that no task
# took within this grace period (a broker down at commit, a killed worker).
VIGIL_OUTBOX_GRACE_SECONDS = env.int("VIGIL_OUTBOX_GRACE_SECONDS", default=30)
# A worker holds a notification this long while sending it; past it, another may retry.
VIGIL_DELIVERY_LEASE_SECONDS = env.int("VIGIL_DELIVERY_LEASE_SECONDS", default=120)
# Transient failures are retried with exponential backoff (base × 2^(attempt-1), capped),
# at most this many attempts in all; then the notification is failed and the incident's
# timeline says so.
VIGIL_DELIVERY_MAX_ATTEMPTS = env.int("VIGIL_DELIVERY_MAX_ATTEMPTS", default=6)
VIGIL_DELIVERY_BACKOFF_SECONDS = env.int("VIGIL_DELIVERY_BACKOFF_SECONDS", default=10)
VIGIL_DELIVERY_BACKOFF_CAP_SECONDS = env.int("VIGIL_DELIVERY_BACKOFF_CAP_SECONDS", default=600)
# Per contact-method throttles, GoAlert-style: (messages, seconds) windows per channel. A
# message over a limit waits for the window and goes out bundled with the others waiting
# for the same address: never dropped.
VIGIL_THROTTLES = {
    "sms": [(1, 60), (5, 15 * 60)],
    "chat": [(5, 60)],
    "email": [(20, 60)],
}
# SMS bodies are cut to fit this many segments (160 GSM-7 / 70 UCS-2 characters for one).
VIGIL_SMS_MAX_SEGMENTS = env.int("VIGIL_SMS_MAX_SEGMENTS", default=2)
# Acknowledge links in pages stop working after this many hours (and after one use).
VIGIL_ACK_LINK_HOURS = env.int("VIGIL_ACK_LINK_HOURS", default=24)

# SMS: the console backend prints; Twilio sends (comms/backends/sms.py); in development, files.
VIGIL_SMS_BACKEND = env(
    "VIGIL_SMS_BACKEND", default=_MAILBOX + "SMSBackend" if DEBUG else "comms.backends.sms.ConsoleSMSBackend"
)
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")

# Chat: an outbound webhook with a Slack-compatible JSON body, signed with HMAC-SHA256.
VIGIL_CHAT_WEBHOOK_URL = env("VIGIL_CHAT_WEBHOOK_URL", default="")
# In development without a webhook, chat messages go to files (like email); in
# production a missing webhook shows up as failed notifications on the incident.
VIGIL_CHAT_BACKEND = env(
    "VIGIL_CHAT_BACKEND",
    default=_MAILBOX + "ChatBackend" if DEBUG and not VIGIL_CHAT_WEBHOOK_URL else "comms.backends.chat.WebhookChatBackend",
)
VIGIL_CHAT_WEBHOOK_SECRET = env("VIGIL_CHAT_WEBHOOK_SECRET", default="")
VIGIL_CHAT_TIMEOUT_SECONDS = env.float("VIGIL_CHAT_TIMEOUT_SECONDS", default=5.0)
# Webhooks to private, loopback or link-local addresses are refused unless this is on
# (a webhook URL must not become a way to reach internal services).
VIGIL_CHAT_ALLOW_PRIVATE = env.bool("VIGIL_CHAT_ALLOW_PRIVATE", default=False)

# --- The war room ---------------------------------------------------------------------------------
# The call bridge for incidents whose services have none: a URL template with {number}, {reference}
# or {slug}, e.g. https://meet.jit.si/acme-{reference} (incidents/bridge.py). Empty: no bridge.
VIGIL_CALL_BRIDGE_URL = env("VIGIL_CALL_BRIDGE_URL", default="")
# The chat workspace war rooms open in (comms/warroom/): none (the default: no war rooms), slack or
# mattermost. A "Chat workspace" saved in the admin overrides every setting of this block but the
# retry ones.
VIGIL_CHAT_PROVIDER = env("VIGIL_CHAT_PROVIDER", default="none")
# Slack: the bot token (xoxb-…; scopes in the README: channels:manage, groups:write, chat:write, users:read.email…),
# the Web API's base URL (tests point it at a local server), and the workspace's address for channel
# links (https://acme.slack.com; empty: Slack's own redirect link).
VIGIL_SLACK_BOT_TOKEN = env("VIGIL_SLACK_BOT_TOKEN", default="")
VIGIL_SLACK_API_URL = env("VIGIL_SLACK_API_URL", default="https://slack.com/api/")
VIGIL_SLACK_WORKSPACE_URL = env("VIGIL_SLACK_WORKSPACE_URL", default="")
# Mattermost: the server (https://chat.example.com), a bot account's access token, the team's id
# (channels are made in it) and its name (for channel links; empty: the id).
VIGIL_MATTERMOST_URL = env("VIGIL_MATTERMOST_URL", default="")
VIGIL_MATTERMOST_TOKEN = env("VIGIL_MATTERMOST_TOKEN", default="")
VIGIL_MATTERMOST_TEAM_ID = env("VIGIL_MATTERMOST_TEAM_ID", default="")
VIGIL_MATTERMOST_TEAM_NAME = env("VIGIL_MATTERMOST_TEAM_NAME", default="")
# The war room's channel name: {number} (42), {reference} (inc-42), {slug} (the title's slug),
# {date} (2026-02-10, the declaration's UTC date); lower-cased and cut to the provider's limit.
VIGIL_WAR_ROOM_CHANNEL_NAME = env("VIGIL_WAR_ROOM_CHANNEL_NAME", default="inc-{number}-{slug}")
# Archive the war room when its incident is closed.
VIGIL_WAR_ROOM_ARCHIVE_ON_CLOSE = env.bool("VIGIL_WAR_ROOM_ARCHIVE_ON_CLOSE", default=True)
# A call to the chat provider gives up after this many seconds (a timeout is retried later).
VIGIL_WAR_ROOM_TIMEOUT_SECONDS = env.float("VIGIL_WAR_ROOM_TIMEOUT_SECONDS", default=10.0)
# Opening (or archiving) is retried by the sweeper after base × 2^(attempt-1) seconds, capped, up to
# this many attempts; then the room is given up and the timeline says so.
VIGIL_WAR_ROOM_BACKOFF_SECONDS = env.int("VIGIL_WAR_ROOM_BACKOFF_SECONDS", default=30)
VIGIL_WAR_ROOM_BACKOFF_MAX_SECONDS = env.int("VIGIL_WAR_ROOM_BACKOFF_MAX_SECONDS", default=1800)
VIGIL_WAR_ROOM_MAX_ATTEMPTS = env.int("VIGIL_WAR_ROOM_MAX_ATTEMPTS", default=10)
# (How often the war-room sweeper runs: VIGIL_WAR_ROOM_SWEEP_SECONDS, next to the beat schedule.)
# War-room messages for a room that is still opening wait this long before the outbox looks again (no
# attempt is spent); the room opens, or is given up and they are suppressed.
VIGIL_WAR_ROOM_WAIT_SECONDS = env.int("VIGIL_WAR_ROOM_WAIT_SECONDS", default=15)

# --- Overrides and shift cover ------------------------------------------------------------------
# The longest override (admin, API, accepted cover requests): longer absences are split, so a typo
# in the year cannot put someone on call for a decade.
VIGIL_MAX_OVERRIDE_DAYS = env.int("VIGIL_MAX_OVERRIDE_DAYS", default=90)

# --- The JSON API ------------------------------------------------------------------------------
# Bodies over this are refused with 413 (alert payloads are small; this stops a flood early).
VIGIL_API_MAX_BODY_BYTES = env.int("VIGIL_API_MAX_BODY_BYTES", default=512 * 1024)

# Slack slash commands (/api/v1/chat/slack) are checked against this signing secret; empty refuses them all.
SLACK_SIGNING_SECRET = env("SLACK_SIGNING_SECRET", default="")
# Mattermost slash commands (/api/v1/chat/mattermost) must carry this token (shown when the command
# is made in Mattermost's Integrations); empty refuses them all.
MATTERMOST_COMMAND_TOKEN = env("MATTERMOST_COMMAND_TOKEN", default="")

# --- The organisation customers hear from ---------------------------------------------------------
import re  # noqa: E402 — kept with the one block that uses them
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

# Its name titles the status page ("Acme status"; "Service status" when unset) and heads and signs
# the customer emails (the `organisation_name` template variable, blank when unset).
VIGIL_ORGANISATION_NAME = env.str("VIGIL_ORGANISATION_NAME", default="").strip()
# A logo for the status page's header: a same-origin path ("/static/logo.svg") or an https URL;
# nothing is shown when unset. Anything else is refused at start-up.
VIGIL_ORGANISATION_LOGO_URL = env.str("VIGIL_ORGANISATION_LOGO_URL", default="").strip()
if VIGIL_ORGANISATION_LOGO_URL and not re.fullmatch(r"(https://[^\s/]+|/(?!/))[^\s\"'<>\\]*", VIGIL_ORGANISATION_LOGO_URL):
    raise ImproperlyConfigured("VIGIL_ORGANISATION_LOGO_URL must be a path on this site (/static/logo.svg) or an https:// URL.")
