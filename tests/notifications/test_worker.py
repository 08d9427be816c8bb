"""A real Celery worker on the `notifications` queue delivers what ingestion stored."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook

from delivery.ingest import ingest_events
from notifications import outbox
from notifications.models import Endpoint, Notification
from notifications.tasks import dispatch_notifications
from tests.events import make_event

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.parametrize("celery_worker_process", ["celery,notifications"], indirect=True),
]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setenv("WEBHOOKS_RETRY_BASE_SECONDS", "1")


def _wait(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.1)


def test_ingested_events_reach_the_endpoint_signed(account, receiver, celery_worker_process):
    _, secret = outbox.create_endpoint(account, receiver.url)
    events = []
    for i in range(20):
        events += [make_event("request", f"m{i}"), make_event("delivered", f"m{i}")]
    ingest_events(account, events)
    got = receiver.wait_for(20)
    bodies = [Webhook(secret).verify(r.body, r.headers) for r in got]
    assert sorted(b["bulkId"] for b in bodies) == sorted(f"m{i}" for i in range(20))
    _wait(lambda: Endpoint.objects.get().delivered_count == 20)
    assert set(Notification.objects.values_list("status", flat=True)) == {"delivered"}


def test_the_dispatch_job_retries_after_a_failure(account, receiver, celery_worker_process):
    outbox.create_endpoint(account, receiver.url)
    receiver.failures_left = 1
    ingest_events(account, [make_event("request", "m1"), make_event("bounced", "m1")])
    receiver.wait_for(1)
    _wait(lambda: Notification.objects.get().attempts == 1)
    time.sleep(1.2)  # the retry's backoff (base 1 s, jitter)
    dispatch_notifications.delay()
    receiver.wait_for(2)
    _wait(lambda: Notification.objects.get().status == "delivered")
    assert Notification.objects.get().attempts == 2
