"""The tracked-domain job through a real Celery worker on Redis."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import Max
from django.utils import timezone

from delivery.ingest import ingest_events
from stats import tasks
from stats.models import SeenDomain, TrackedDomain
from tests.events import make_event
from tests.factories import AccountFactory


@pytest.mark.worker
def test_a_worker_runs_the_job_and_a_second_run_changes_nothing(celery_worker_process):
    account = AccountFactory(name="acme")
    at = (timezone.now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ingest_events(
        account,
        [make_event("request", f"m{i}", timestamp=at, to=f"u@d{i % 3}.test") for i in range(9)],
    )
    tasks.choose_tracked_domains.delay()
    deadline = time.monotonic() + 30
    while not TrackedDomain.objects.filter(account=account).exists():
        assert time.monotonic() < deadline, "the worker did not run the job"
        time.sleep(0.2)
    rows = set(TrackedDomain.objects.values_list("side", "domain", "since", "until"))
    assert {(side, domain) for side, domain, _, _ in rows} == {
        ("sender", "mail.example.com"),
        ("recipient", "d0.test"),
        ("recipient", "d1.test"),
        ("recipient", "d2.test"),
    }
    # The second run has finished when it has refreshed the menu's last_seen.
    first_seen = SeenDomain.objects.filter(account=account).aggregate(at=Max("last_seen"))["at"]
    tasks.choose_tracked_domains.delay()
    while SeenDomain.objects.filter(account=account, last_seen__gt=first_seen).count() < 4:
        assert time.monotonic() < deadline + 30, "the worker did not run the job again"
        time.sleep(0.2)
    assert set(TrackedDomain.objects.values_list("side", "domain", "since", "until")) == rows
