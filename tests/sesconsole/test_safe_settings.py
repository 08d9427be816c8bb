"""Production settings: no built-in key, one HTTPS switch, derived keys, a clean check --deploy."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import signing

from delivery import tracking
from sesconsole.settings import derive_key
from tencent import crypto

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_KEYS = [
    "DEBUG",
    "SECRET_KEY",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "TC3_ENCRYPTION_KEY",
    "SENDING_TRACKING_SECRET",
    "CACHES",
    "REST_FRAMEWORK",
]


def environment(**env: str) -> dict[str, str]:
    """This process's environment without any of the settings under test, plus `env`."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "SECRET_KEY",
            "DEBUG",
            "HTTPS",
            "DJANGO_SETTINGS_MODULE",
            "CACHE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests' fixture
        )
        and not k.startswith(("SECURE_", "THROTTLE_", "TC3_", "SENDING_TRACKING"))
    }
    return {**clean, "DJANGO_SETTINGS_MODULE": "sesconsole.settings", **env}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_settings(**env: str) -> dict:
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{k: getattr(settings, k) for k in {SETTINGS_KEYS!r}}}, default=str))"
    )
    result = run(["-c", "import django; django.setup(); " + code], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def production_key() -> str:
    return secrets.token_urlsafe(50)


def test_without_a_secret_key_it_refuses_to_start():
    result = run(["manage.py", "check"])
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set SECRET_KEY" in result.stderr


def test_debug_runs_with_a_public_development_key():
    values = read_settings(DEBUG="true")
    assert values["DEBUG"] is True
    assert values["SECRET_KEY"].startswith("insecure-development-key")


def test_check_deploy_reports_nothing_with_https_and_a_real_key():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        DEBUG="false",
        SECRET_KEY=production_key(),
        HTTPS="true",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    # The one silenced check is HSTS preload (a documented opt-in).
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


def test_check_deploy_complains_without_https():
    result = run(["manage.py", "check", "--deploy"], SECRET_KEY=production_key())
    assert "security.W008" in result.stderr  # no SSL redirect
    assert "security.W012" in result.stderr  # session cookie not Secure


def test_the_https_switch():
    off = read_settings(SECRET_KEY=production_key())
    on = read_settings(SECRET_KEY=production_key(), HTTPS="true")
    switched = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
    ]
    assert [off[k] for k in switched] == [False, False, False]
    assert [on[k] for k in switched] == [True, True, True]
    assert off["SECURE_PROXY_SSL_HEADER"] is None
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert (off["SECURE_HSTS_SECONDS"], on["SECURE_HSTS_SECONDS"]) == (0, 31536000)
    assert on["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert on["SECURE_HSTS_PRELOAD"] is False
    tuned = read_settings(
        SECRET_KEY=production_key(),
        HTTPS="true",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_PRELOAD="true",
    )
    assert (tuned["SECURE_HSTS_SECONDS"], tuned["SECURE_HSTS_PRELOAD"]) == (3600, True)


def test_keys_for_signing_and_encryption_are_derived_apart():
    key = production_key()
    values = read_settings(SECRET_KEY=key)
    derived = {values["TC3_ENCRYPTION_KEY"], values["SENDING_TRACKING_SECRET"], key}
    assert len(derived) == 3
    assert values["TC3_ENCRYPTION_KEY"] == derive_key(key, "tc3-encryption")
    assert values["SENDING_TRACKING_SECRET"] == derive_key(key, "tracking")
    # Explicit values still win.
    explicit = read_settings(SECRET_KEY=key, TC3_ENCRYPTION_KEY="a", SENDING_TRACKING_SECRET="b")
    assert (explicit["TC3_ENCRYPTION_KEY"], explicit["SENDING_TRACKING_SECRET"]) == ("a", "b")


def test_limits_and_the_cache_come_from_the_environment():
    values = read_settings(
        SECRET_KEY=production_key(),
        THROTTLE_INGEST="50/s",
        THROTTLE_AUTH_FAILURES="20/hour",
        CACHE_URL="redis://127.0.0.1:6379/3",
    )
    rates = values["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]
    assert (rates["ingest"], rates["auth_failure"]) == ("50/s", "20/hour")
    assert values["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/3",
    }
    result = run(["manage.py", "check"], SECRET_KEY=production_key(), THROTTLE_SEND="fast")
    assert "THROTTLE_SEND must be a rate such as 100/min, got 'fast'" in result.stderr


def test_database_connections_persist_in_production():
    db = "postgres://postgres@127.0.0.1:5432/unused"
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    prod = run(["-c", code], SECRET_KEY=production_key(), DATABASE_URL=db)
    dev = run(["-c", code], DEBUG="true", DATABASE_URL=db)
    assert (prod.stdout.split(), dev.stdout.split()) == (["60", "True"], ["0", "True"])


# --- rotation: what was made under the former keys still works ------------------------------


@pytest.mark.django_db
def test_tracking_links_signed_before_keys_were_derived_still_work(settings):
    old = signing.Signer(key=settings.SECRET_KEY, salt="delivery.tracking", algorithm="sha256")
    token = old.sign_object([tracking.OPEN, 7, "msg-1"], compress=True)
    assert tracking.read_token(token, tracking.OPEN) == tracking.Token(tracking.OPEN, 7, "msg-1")
    # A token signed with the TC3 key (or anything else) is refused.
    forged = signing.Signer(
        key=settings.TC3_ENCRYPTION_KEY, salt="delivery.tracking", algorithm="sha256"
    ).sign_object([tracking.OPEN, 7, "msg-1"], compress=True)
    assert tracking.read_token(forged, tracking.OPEN) is None


def test_tracking_links_survive_a_rotation_with_the_former_key_as_fallback(settings):
    former = settings.SENDING_TRACKING_SECRET
    token = tracking.make_token(tracking.CLICK, 7, "msg-1", "https://example.com/")
    settings.SENDING_TRACKING_SECRET = "the-new-secret"
    settings.SENDING_TRACKING_SECRET_FALLBACKS = [former]
    assert tracking.read_token(token, tracking.CLICK).url == "https://example.com/"
    settings.SENDING_TRACKING_SECRET_FALLBACKS = []
    assert tracking.read_token(token, tracking.CLICK) is None


def test_tc3_secrets_encrypted_under_the_former_default_stay_readable(settings):
    settings.TC3_ENCRYPTION_KEY = settings.SECRET_KEY  # the default before keys were derived
    token = crypto.encrypt("s3cret")
    settings.TC3_ENCRYPTION_KEY = derive_key(settings.SECRET_KEY, "tc3-encryption")
    assert crypto.decrypt(token) == "s3cret"
    settings.TC3_ENCRYPTION_KEY_FALLBACKS = []
    assert crypto.decrypt(token) is None
