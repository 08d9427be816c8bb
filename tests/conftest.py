"""Fixtures: the cast, Alice of acme and Bob of globex, who must never see each other's data."""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from sesconsole.models import ApiKey
from tests.factories import AccountFactory, MembershipFactory, UserFactory

# CI is the gate a change lands through: there Hypothesis tries the same examples on every run
# (seeded from each test), so a run passes or fails for the code, not for the draw. On a
# developer's machine every run draws new examples, and a failure found there is replayed
# from .hypothesis/ until it is fixed.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# The seeded scenario (`scenario`, `engagement` fixtures) that several apps' tests read.
pytest_plugins = ["tests.scenarios"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """API throttles count in the cache: every test starts from zero."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def account(db):
    return AccountFactory(name="acme", display_name="Acme Shop")


@pytest.fixture
def other_account(db):
    return AccountFactory(name="globex", display_name="Globex")


@pytest.fixture
def alice(account):
    user = UserFactory(username="alice")
    MembershipFactory(account=account, user=user)
    return user


@pytest.fixture
def bob(other_account):
    user = UserFactory(username="bob")
    MembershipFactory(account=other_account, user=user)
    return user


@pytest.fixture
def staff_user(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def api_key(account) -> str:
    return ApiKey.issue(account, name="test")[1]


@pytest.fixture
def other_api_key(other_account) -> str:
    return ApiKey.issue(other_account, name="test")[1]


@pytest.fixture
def api_client(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def other_api_client(other_api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_api_key}")
    return client


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


# --- browser tests (Playwright driving Debian's Chromium) ---------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def login(page):
    """Sign a user in through the login form: `login(user)`; the password is 'password'."""

    def sign_in(user, password: str = "password"):
        page.goto("/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    return sign_in


# --- a real Celery worker ---------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def celery_worker_process(request, transactional_db, settings):
    """Start `celery worker` in a subprocess against Redis and this test's PostgreSQL database.

    Tests that use it see committed data only (transactional_db). Tasks sent from the test
    process go to the same Redis database the worker reads. The worker consumes the default
    queue, or the queues given by indirect parametrisation ("celery,notifications").
    """
    with _celery_workers(settings, [getattr(request, "param", None)]) as (proc,):
        yield proc


@pytest.fixture
def two_celery_workers(transactional_db, settings):
    """Two `celery worker` processes on one Redis broker and this test's database, as two
    machines would run them. Both consume the default queue; worker N also consumes its
    own queue `worker-N`, so a test can hand each of them work at the same moment."""
    with _celery_workers(settings, ["celery,worker-1", "celery,worker-2"]) as procs:
        yield procs


@contextlib.contextmanager
def _celery_workers(settings, queues: list[str | None]):
    import subprocess
    import sys
    import time

    from django.db import connection

    from sesconsole.celery import app

    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs a database server it can share (PostgreSQL)")
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    broker_url = REDIS_URL
    app.conf.broker_url = broker_url
    app.conf.broker_transport_options = {}
    _reset_broker_pool(app)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sesconsole.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
    }
    celery = [sys.executable, "-m", "celery", "-A", "sesconsole"]
    subprocess.run([*celery, "purge", "-f"], env=env, check=True, capture_output=True)
    procs = []
    try:
        for n, queue in enumerate(queues, 1):
            procs.append(
                subprocess.Popen(
                    [
                        *celery,
                        "worker",
                        "-P",
                        "solo",
                        "-l",
                        "warning",
                        "-n",
                        f"test-{os.getpid()}-{n}@%h",
                        "--without-mingle",
                        "--without-gossip",
                        *(["-Q", queue] if queue else []),
                    ],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        deadline = time.monotonic() + 30
        while len(app.control.ping(timeout=0.5)) < len(procs):
            for proc in procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a Celery worker did not start:\n{proc.stdout.read()}")
            if time.monotonic() > deadline:
                raise RuntimeError("the Celery workers did not answer within 30 s")
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        app.conf.broker_url = settings.CELERY_BROKER_URL
        _reset_broker_pool(app)


def _reset_broker_pool(app):
    # Celery keeps one connection pool per app; drop it so the next use takes the new URL.
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    # Kombu's global registries (and the app's producer pool) would hand the closed pools
    # back for the same URL.
    from kombu import pools

    pools.reset()
    app.amqp._producer_pool = None
