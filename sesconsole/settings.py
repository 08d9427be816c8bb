"""Settings, read from the environment.

Every value has a default that runs with zero configuration: a SQLite file and a
broker that needs no server, both under var/. Set DATABASE_URL and CELERY_BROKER_URL
for PostgreSQL and Redis/RabbitMQ.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SES_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Encrypts stored TC3 secret keys (the Tencent-compatible endpoint); changing it voids them.
TC3_ENCRYPTION_KEY = env_str("TC3_ENCRYPTION_KEY", SECRET_KEY)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "sesconsole",
    "delivery",
    "stats",
    "blocklist",
    "tencent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sesconsole.urls"
WSGI_APPLICATION = "sesconsole.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sesconsole.tenancy.account_context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sesconsole.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL and immediate transactions let the web server, the worker and beat share
    # one SQLite file without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the finders too, so the console works before `collectstatic`.
WHITENOISE_USE_FINDERS = True
# Front-end libraries are installed from the npm registry by `make` (never a CDN).
if (BASE_DIR / "node_modules").is_dir():
    STATICFILES_DIRS.append(("vendor", BASE_DIR / "node_modules"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Ingestion batches of 1,000 events with long SMTP replies fit well inside this.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sesconsole.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sesconsole.tenancy.HasAccountAccess"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "sesconsole.api_support.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "sesconsole.api_support.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "sesconsole.api_autoschema.ApiAutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SES Console API",
    "DESCRIPTION": "Delivery response, statistics and blocklists of an email sending service.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the installed package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: a broker that needs no server by default (folders under var/broker).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic jobs, upserted into django-celery-beat's tables so staff can tune them in the admin.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "blocklist-release-invalid-blocks": {
        "task": "blocklist.tasks.release_invalid_blocks",
        "schedule": 3600.0,
    },
    "blocklist-lift-expired-custom-blocks": {
        "task": "blocklist.tasks.lift_expired_custom_blocks",
        "schedule": 600.0,
    },
    "blocklist-auto-block-full-inboxes": {
        "task": "blocklist.tasks.auto_block_full_inboxes",
        "schedule": 600.0,
    },
    # Minute rollups serve the live view only.
    "prune-minute-rollups": {
        "task": "stats.tasks.prune_minute_rollups",
        "schedule": 3600.0,
    },
    # Recipients whose delivery task was lost (a worker died before acking) are re-queued.
    "delivery-prune-idempotency-keys": {
        "task": "delivery.tasks.prune_idempotency_keys",
        "schedule": 3600.0,
    },
    # With INGEST_FOLD=deferred: folds whatever a request's own fold task left behind.
    "delivery-fold-events": {
        "task": "delivery.tasks.fold_events",
        "schedule": 10.0,
    },
    "delivery-resume-stalled": {
        "task": "delivery.tasks.resume_stalled_deliveries",
        "schedule": 300.0,
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# The largest batch POST /api/v1/events/ takes.
INGEST_MAX_BATCH = 1000
# "inline": ingestion folds events into messages and rollups in its own transaction (the
# demo, small installs). "deferred": it stores them and answers; Celery workers fold them
# in large batches (PostgreSQL; see docs/scaling.md). Blocks act at once in both.
INGEST_FOLD = env_str("INGEST_FOLD", "inline")
if INGEST_FOLD not in ("inline", "deferred"):
    raise ValueError(f"INGEST_FOLD must be inline or deferred, got {INGEST_FOLD!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Sending: the relay the delivery worker hands mail to, retries, limits and tracking links.
SENDING_EMAIL_BACKEND = env_str(
    "SENDING_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
SENDING_RELAY_HOST = env_str("SENDING_RELAY_HOST", EMAIL_HOST)
SENDING_RELAY_PORT = env_int("SENDING_RELAY_PORT", EMAIL_PORT)
SENDING_RELAY_USER = env_str("SENDING_RELAY_USER", EMAIL_HOST_USER)
SENDING_RELAY_PASSWORD = env_str("SENDING_RELAY_PASSWORD", EMAIL_HOST_PASSWORD)
SENDING_RELAY_USE_TLS = env_bool("SENDING_RELAY_USE_TLS", EMAIL_USE_TLS)
SENDING_RELAY_TIMEOUT = env_int("SENDING_RELAY_TIMEOUT", EMAIL_TIMEOUT)
# A 4xx reply is retried this many times in all, waiting base * 2^(attempt-1) seconds.
SENDING_MAX_ATTEMPTS = env_int("SENDING_MAX_ATTEMPTS", 5)
SENDING_RETRY_BASE_SECONDS = env_int("SENDING_RETRY_BASE_SECONDS", 60)
SENDING_MAX_RECIPIENTS = env_int("SENDING_MAX_RECIPIENTS", 50)
SENDING_MAX_MESSAGE_BYTES = env_int("SENDING_MAX_MESSAGE_BYTES", 5 * 1024 * 1024)
# Tracking links and the unsubscribe link point here; tokens are signed with this secret.
SENDING_TRACKING_BASE_URL = env_str("SENDING_TRACKING_BASE_URL", "http://127.0.0.1:8000")
SENDING_TRACKING_SECRET = env_str("SENDING_TRACKING_SECRET", SECRET_KEY)
# Opens this soon after delivery are image prefetches; clicks this soon, link scanners.
SENDING_MACHINE_OPEN_SECONDS = env_int("SENDING_MACHINE_OPEN_SECONDS", 2)
SENDING_MACHINE_CLICK_SECONDS = env_int("SENDING_MACHINE_CLICK_SECONDS", 10)
# Networks of mail privacy proxies and security gateways (Apple's 17/8 by default).
SENDING_MACHINE_NETWORKS = env_list("SENDING_MACHINE_NETWORKS", "17.0.0.0/8")
