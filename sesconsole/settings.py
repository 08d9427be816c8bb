"""Settings, read from the environment.

Every value has a default that runs with zero configuration: a SQLite file and a
broker that needs no server, both under var/. Set DATABASE_URL and CELERY_BROKER_URL
for PostgreSQL and Redis/RabbitMQ.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

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


def env_rate(name: str, default: str) -> str:
    """A request rate such as `6000/min` (per second, minute, hour or day)."""
    value = env_str(name, default)
    count, _, period = value.partition("/")
    if not count.isdigit() or not period or period[0] not in "smhd":
        raise ValueError(f"{name} must be a rate such as 100/min, got {value!r}")
    return value


DEBUG = env_bool("DEBUG", False)
# No built-in key in production: a known key lets anyone forge tracking links and sessions,
# and decrypt stored TC3 secrets from a database copy. `make demo` and `make test` pass a
# development key of their own; DEBUG=true falls back to a public one.
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set SECRET_KEY (50 or more random characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`). "
            "For development only, DEBUG=true runs with a public key."
        )
    # The key `make demo` uses, so commands run with DEBUG=true beside the demo agree with it.
    SECRET_KEY = "insecure-development-key-never-use-in-production"
# Former keys, newest first: sessions and tracking links signed with them stay valid, and
# TC3 secrets encrypted under them stay readable, while you rotate (docs/operations.md).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")


def derive_key(secret: str, purpose: str) -> str:
    """A key for one purpose (HMAC-SHA256 of a label): knowing it reveals neither SECRET_KEY
    nor the key of another purpose."""
    return hmac.new(secret.encode(), f"sesconsole:{purpose}".encode(), hashlib.sha256).hexdigest()


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# A stale form (signed out and in again in another tab) gets the console's page, not Django's.
CSRF_FAILURE_VIEW = "sesconsole.views.csrf_failure"
# Encrypts stored TC3 secret keys (the Tencent-compatible endpoint); changing it voids them
# unless the former key is listed in the fallbacks. By default derived from SECRET_KEY; the
# fallbacks also read secrets stored before keys were derived (encrypted under SECRET_KEY).
TC3_ENCRYPTION_KEY = env_str("TC3_ENCRYPTION_KEY", derive_key(SECRET_KEY, "tc3-encryption"))
TC3_ENCRYPTION_KEY_FALLBACKS = env_list(
    "TC3_ENCRYPTION_KEY_FALLBACKS",
    ",".join(
        [derive_key(k, "tc3-encryption") for k in SECRET_KEY_FALLBACKS]
        + [SECRET_KEY, *SECRET_KEY_FALLBACKS]
    ),
)

# One switch for a site served over HTTPS (behind a proxy that sets X-Forwarded-Proto).
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is hard to undo (browsers ship the list), so it is a choice, not a default.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Proxies in front of the app that append to X-Forwarded-For: the client address used for
# login lockouts and API throttles is the one the outermost trusted proxy saw.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)

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
    "axes",
    "sesconsole",
    "delivery",
    "stats",
    "blocklist",
    "tencent",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, with a slash redirect that keeps a POST's method and body.
    "sesconsole.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
    )
}
# Persistent connections in production (a health check first, so a restarted database costs
# no failed request); SQLite and DEBUG open one per request.
DATABASES["default"]["CONN_MAX_AGE"] = env_int(
    "DB_CONN_MAX_AGE",
    0 if DEBUG or DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 60,
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool(
    "DB_JIT", False
):
    # PostgreSQL compiles any statement its planner costs over jit_above_cost, and each
    # parallel worker compiles it again: 17 ms and more for a list page's capped count that
    # runs in 30 ms (docs/performance.md). No bench of ours ran faster compiled.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = (
        DATABASES["default"]["OPTIONS"].get("options", "") + " -c jit=off"
    ).strip()
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

# Shared by every process (login lockouts live in the database; API throttles here): set
# CACHE_URL (redis://...) in production, where several workers must count together.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user or address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout (console and admin): after AXES_FAILURE_LIMIT wrong passwords in a row for
# one username, or from one address, that username or address is refused for the cool-off
# time; a successful login resets the count.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sesconsole.throttling.lockout_response"
AXES_CLIENT_IP_CALLABLE = "sesconsole.throttling.client_ip"
AXES_VERBOSE = False

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
# A blocklist upload (100,000 addresses fit in about 3 MB) is refused above this, with 413.
BLOCKLIST_UPLOAD_MAX_BYTES = env_int("BLOCKLIST_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
# A surge of invalid-address verdicts at one domain is held for staff, not blocked
# (blocklist.surges): at least MIN verdicts in WINDOW and FACTOR times the domain's usual
# number over the BASELINE before it; held for up to HOLD hours. MIN 0 turns it off.
INVALID_SURGE_MIN_VERDICTS = env_int("INVALID_SURGE_MIN_VERDICTS", 25)
INVALID_SURGE_FACTOR = env_int("INVALID_SURGE_FACTOR", 10)
INVALID_SURGE_WINDOW_MINUTES = env_int("INVALID_SURGE_WINDOW_MINUTES", 60)
INVALID_SURGE_BASELINE_DAYS = env_int("INVALID_SURGE_BASELINE_DAYS", 7)
INVALID_SURGE_HOLD_HOURS = env_int("INVALID_SURGE_HOLD_HOURS", 6)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sesconsole.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sesconsole.tenancy.HasAccountAccess"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "sesconsole.lib.filters.StableOrdering",
    ],
    "DEFAULT_PAGINATION_CLASS": "sesconsole.api_support.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "sesconsole.api_support.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "sesconsole.api_autoschema.ApiAutoSchema",
    # Per-key request rates of the endpoints that name a `throttle_scope`; a CSV answer
    # counts as `export`. Wrong keys are limited per address (sesconsole.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["sesconsole.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # 20k events/s in 1,000-event batches is 1,200/min; the default leaves 5x room.
        "ingest": env_rate("THROTTLE_INGEST", "6000/min"),
        "send": env_rate("THROTTLE_SEND", "1200/min"),
        "stats": env_rate("THROTTLE_STATS", "600/min"),
        "export": env_rate("THROTTLE_EXPORT", "60/min"),
        "auth_failure": env_rate("THROTTLE_AUTH_FAILURES", "100/hour"),
    },
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "sesconsole.browsable_api.BrowsableAPIRenderer",
    ],
}

# Filter forms offer "Any" rather than "---------" for a choice left empty.
FILTERS_EMPTY_CHOICE_LABEL = "Any"

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

# Content-Security-Policy: scripts and styles from this site only (no inline code); the
# JSON a page embeds for its charts is data, not script. Swagger UI fetches the schema and
# uses data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
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
    # Which accounts see a block is written at ingest; this catches concurrent writers.
    "blocklist-show-recent-blocks": {
        "task": "blocklist.tasks.show_recent_blocks",
        "schedule": 3600.0,
    },
    # Minute rollups serve the live view only.
    "prune-minute-rollups": {
        "task": "stats.tasks.prune_minute_rollups",
        "schedule": 3600.0,
    },
    # Each account's busiest domains get rollup rows of their own (docs/statistics.md).
    "stats-choose-tracked-domains": {
        "task": "stats.tasks.choose_tracked_domains",
        "schedule": 3600.0,
    },
    # Idempotency keys of sends are kept 24 hours.
    "delivery-prune-idempotency-keys": {
        "task": "delivery.tasks.prune_idempotency_keys",
        "schedule": 3600.0,
    },
    # With INGEST_FOLD=deferred: folds whatever a request's own fold task left behind
    # (the broker was down, a worker died), so no event waits longer than this.
    "delivery-fold-events": {
        "task": "delivery.tasks.fold_events",
        "schedule": 10.0,
    },
    # Recipients whose delivery task was lost (a worker died before acking) are re-queued.
    "delivery-resume-stalled": {
        "task": "delivery.tasks.resume_stalled_deliveries",
        "schedule": 300.0,
    },
    # Event notifications waiting for a retry, endpoints to disable, old attempts to forget.
    "notifications-dispatch": {
        "task": "notifications.tasks.dispatch_notifications",
        "schedule": 15.0,
    },
    # Event partitions of the coming days (PostgreSQL) and the retention below.
    "delivery-maintain-event-partitions": {
        "task": "delivery.tasks.maintain_event_partitions",
        "schedule": 3600.0,
    },
}
# Event notifications go to customers' servers, which may be slow or dead: their own queue,
# so they never hold up the default one (`celery worker -Q celery,notifications`).
CELERY_TASK_ROUTES = {"notifications.tasks.*": {"queue": "notifications"}}
# Raw events older than this many days are dropped (whole day partitions on PostgreSQL);
# messages and the quarter-hour and hour rollups stay. Empty or 0: kept forever.
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 0) or None

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# The sender of the console's own mail to staff (a surge of invalid-address verdicts).
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SES Console <noreply@localhost>")

# The largest batch POST /api/v1/events/ takes.
INGEST_MAX_BATCH = 1000
# Rollups keep domain pairs only for each account's busiest domains, chosen hourly by
# their messages of the last STATS_TRACKED_WINDOW_DAYS; the rest count as "other"
# (docs/statistics.md). Rows per bucket: at most (senders + 1) x (recipients + 1) + 1.
STATS_TRACKED_RECIPIENT_DOMAINS = env_int("STATS_TRACKED_RECIPIENT_DOMAINS", 50)
STATS_TRACKED_SENDER_DOMAINS = env_int("STATS_TRACKED_SENDER_DOMAINS", 20)
STATS_TRACKED_WINDOW_DAYS = env_int("STATS_TRACKED_WINDOW_DAYS", 7)
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
SENDING_TRACKING_SECRET = env_str("SENDING_TRACKING_SECRET", derive_key(SECRET_KEY, "tracking"))
# Tokens signed with these still open, click and unsubscribe: links in mail already sent
# outlive a key change. By default the former keys' derived secrets and SECRET_KEY itself
# (the tracking secret before keys were derived).
SENDING_TRACKING_SECRET_FALLBACKS = env_list(
    "SENDING_TRACKING_SECRET_FALLBACKS",
    ",".join(
        [derive_key(k, "tracking") for k in SECRET_KEY_FALLBACKS]
        + [SECRET_KEY, *SECRET_KEY_FALLBACKS]
    ),
)
# Opens this soon after delivery are image prefetches; clicks this soon, link scanners.
SENDING_MACHINE_OPEN_SECONDS = env_int("SENDING_MACHINE_OPEN_SECONDS", 2)
SENDING_MACHINE_CLICK_SECONDS = env_int("SENDING_MACHINE_CLICK_SECONDS", 10)
# Networks of mail privacy proxies and security gateways (Apple's 17/8 by default).
SENDING_MACHINE_NETWORKS = env_list("SENDING_MACHINE_NETWORKS", "17.0.0.0/8")

# Event notifications (webhooks): see docs/webhooks.md.
# Refuse loopback, private and link-local targets unless this is on (tests, the demo).
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
# Requests in flight to one endpoint at a time.
WEBHOOKS_MAX_IN_FLIGHT = env_int("WEBHOOKS_MAX_IN_FLIGHT", 4)
WEBHOOKS_MAX_BATCH = 100
WEBHOOKS_MAX_RESPONSE_BYTES = env_int("WEBHOOKS_MAX_RESPONSE_BYTES", 4096)
# Retries: base * 2^(attempt-1) seconds, at most MAX, times a random 0.5-1; for RETRY_HOURS.
WEBHOOKS_RETRY_BASE_SECONDS = env_int("WEBHOOKS_RETRY_BASE_SECONDS", 10)
WEBHOOKS_RETRY_MAX_SECONDS = env_int("WEBHOOKS_RETRY_MAX_SECONDS", 3600)
WEBHOOKS_RETRY_HOURS = env_int("WEBHOOKS_RETRY_HOURS", 24)
WEBHOOKS_DISABLE_AFTER_DAYS = env_int("WEBHOOKS_DISABLE_AFTER_DAYS", 3)
WEBHOOKS_KEEP_DAYS = env_int("WEBHOOKS_KEEP_DAYS", 14)
