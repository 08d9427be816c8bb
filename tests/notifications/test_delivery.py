"""Delivery to a real local HTTP receiver: signing, retries, give-up, disabling, redelivery."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from delivery.ingest import ingest_events
from notifications import outbox
from notifications.models import Attempt, Endpoint, Notification
from tests.events import make_event

pytestmark = pytest.mark.django_db


def _ingest(account, n: int = 1, prefix: str = "m") -> None:
    events = []
    for i in range(n):
        events.append(make_event("request", f"{prefix}{i}", subject="November news"))
        events.append(
            make_event(
                "bounced",
                f"{prefix}{i}",
                timestamp="2026-11-28T10:05:00Z",
                smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
            )
        )
    ingest_events(account, events)


def _later(minutes: float):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True)


def test_every_request_is_signed_per_standard_webhooks(account, endpoint_and_secret, receiver):
    endpoint, secret = endpoint_and_secret
    _ingest(account, 2)
    assert outbox.deliver_due(endpoint.pk) == 2
    got = receiver.wait_for(2)
    ids = set()
    for item in got:
        payload = Webhook(secret).verify(item.body, item.headers)
        ids.add(item.headers["webhook-id"])
        assert payload["event"] == "bounce"
    assert ids == {f"ntf_{n.pk}" for n in Notification.objects.all()}
    with pytest.raises(Exception, match="signature"):
        Webhook(outbox.rotate_secret(endpoint)).verify(got[0].body, got[0].headers)


def test_the_payload_is_tencents_format_plus_our_own_fields(account, endpoint, receiver):
    _ingest(account, 1)
    outbox.deliver_due(endpoint.pk)
    body = json.loads(receiver.wait_for(1)[0].body)
    assert body == {
        "event": "bounce",
        "eventid": 3,
        "email": "alice@gmail.com",
        "link": "",
        "bulkId": "m0",
        "timestamp": 1795860300,
        "reason": "550 5.1.1 user unknown",
        "bounceType": "hard_bounce",
        "username": "acme",
        "from": "news@mail.example.com",
        "fromDomain": "mail.example.com",
        "useragent": "",
        "subject": "November news",
        "messageId": "",
        "sentTimestamp": 1795860000,
        "ses_console": {
            "event_id": body["ses_console"]["event_id"],
            "type": "bounced",
            "account": "acme",
            "machine": False,
            "bounce_class": "invalid_address",
            "test": False,
        },
    }


def test_a_failing_then_recovering_receiver_gets_it_on_a_retry(account, endpoint, receiver):
    receiver.failures_left = 1
    _ingest(account, 1)
    assert outbox.deliver_due(endpoint.pk) == 0
    notification = Notification.objects.get()
    attempt = Attempt.objects.get()
    assert (attempt.ok, attempt.status_code, attempt.response_excerpt) == (
        False,
        500,
        "try again later",
    )
    assert notification.status == "pending" and notification.attempts == 1
    assert attempt.next_retry_at == notification.next_attempt_at
    assert notification.next_attempt_at > timezone.now()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.paused_until is not None
    # Not before its time: the endpoint is paused.
    assert outbox.deliver_due(endpoint.pk) == 0
    assert len(receiver.received) == 1

    with _later(2):
        assert outbox.deliver_due(endpoint.pk) == 1
    notification.refresh_from_db()
    endpoint.refresh_from_db()
    assert (notification.status, notification.attempts) == ("delivered", 2)
    assert (endpoint.delivered_count, endpoint.failing_since) == (1, None)
    assert len(receiver.received) == 2
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # same id on retry


def test_a_failing_endpoint_is_paused_instead_of_tried_for_every_row(
    account, endpoint, receiver, settings
):
    settings.WEBHOOKS_MAX_IN_FLIGHT = 2
    receiver.status = 503
    _ingest(account, 20)
    outbox.deliver_due(endpoint.pk)
    endpoint.refresh_from_db()
    tried = Notification.objects.filter(attempts=1)
    untried = Notification.objects.filter(attempts=0)
    assert 1 <= tried.count() <= 2
    assert tried.count() == len(receiver.received)
    assert untried.count() == 20 - tried.count()
    assert {n.next_attempt_at for n in untried} == {endpoint.paused_until}
    assert all(n.next_attempt_at >= endpoint.paused_until for n in tried)


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 10
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 3600
    delays = [outbox.retry_delay(n).total_seconds() for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        full = min(10 * 2 ** (n - 1), 3600)
        assert full / 2 <= delay <= full


def test_a_timeout_is_a_failed_attempt(account, endpoint, receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    receiver.delay = 1.5
    _ingest(account, 1)
    assert outbox.deliver_due(endpoint.pk) == 0
    attempt = Attempt.objects.get()
    assert (attempt.ok, attempt.status_code, attempt.error) == (False, None, "timeout")


def test_a_dead_endpoint_is_a_connection_error(account, receiver):
    dead, _ = outbox.create_endpoint(account, receiver.url)
    receiver.stop()
    _ingest(account, 1)
    outbox.deliver_due(dead.pk)
    assert Attempt.objects.get().error.startswith("connection error")


def test_redirects_are_not_followed(account, endpoint, receiver):
    receiver.status = 302
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    _ingest(account, 1)
    outbox.deliver_due(endpoint.pk)
    attempt = Attempt.objects.get()
    assert (attempt.ok, attempt.status_code, attempt.error) == (False, 302, "redirect not followed")
    assert len(receiver.received) == 1


def test_a_long_answer_is_read_only_up_to_the_cap(account, endpoint, receiver, settings):
    settings.WEBHOOKS_MAX_RESPONSE_BYTES = 100
    receiver.body = b"x" * 5_000_000
    _ingest(account, 2)
    assert outbox.deliver_due(endpoint.pk) == 2
    assert [len(a.response_excerpt) for a in Attempt.objects.all()] == [100, 100]


def test_after_24_hours_of_failures_it_gives_up(account, endpoint, receiver):
    receiver.status = 503
    _ingest(account, 1)
    outbox.deliver_due(endpoint.pk)
    Notification.objects.update(next_attempt_at=timezone.now())
    Endpoint.objects.update(paused_until=None)
    with _later(24 * 60 + 1):
        outbox.deliver_due(endpoint.pk)
    notification = Notification.objects.get()
    endpoint.refresh_from_db()
    assert (notification.status, notification.attempts, endpoint.failed_count) == ("failed", 2, 1)


def test_an_endpoint_failing_for_days_is_disabled(account, endpoint, receiver, alice_client):
    receiver.status = 500
    _ingest(account, 2)
    outbox.deliver_due(endpoint.pk)
    assert outbox.disable_failing_endpoints() == 0
    with _later(3 * 24 * 60 + 5):
        assert outbox.disable_failing_endpoints() == 1
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "failed for 3 days" in endpoint.disabled_reason
    assert set(Notification.objects.values_list("status", flat=True)) == {"failed"}
    page = alice_client.get(f"/webhooks/{endpoint.pk}/")
    assert b"This endpoint is disabled" in page.content
    assert outbox.deliver_due(endpoint.pk) == 0  # no delivery to a disabled endpoint


def test_failed_notifications_can_be_redelivered(account, endpoint, receiver):
    receiver.status = 500
    _ingest(account, 3)
    outbox.deliver_due(endpoint.pk)
    Notification.objects.update(status="failed", next_attempt_at=None)
    Endpoint.objects.update(paused_until=None, failing_since=None)
    receiver.status = 200
    one = Notification.objects.order_by("pk").first()
    assert outbox.redeliver(endpoint, ids=[one.pk]) == 1
    assert outbox.deliver_due(endpoint.pk) == 1
    now = timezone.now()
    assert outbox.redeliver(endpoint, start=now - timedelta(hours=1), end=now) == 2
    assert outbox.deliver_due(endpoint.pk) == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {"delivered"}
    assert outbox.redeliver(endpoint, start=now - timedelta(hours=1), end=now) == 0


def test_batching_sends_a_json_array_when_opted_in(account, receiver):
    endpoint, secret = outbox.create_endpoint(account, receiver.url, batch_size=3)
    _ingest(account, 5)
    assert outbox.deliver_due(endpoint.pk) == 5
    bodies = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    assert sorted(len(b) for b in bodies) == [2, 3]
    assert Attempt.objects.count() == 5


def test_the_test_event_is_marked_as_a_test(account, endpoint_and_secret, receiver):
    endpoint, secret = endpoint_and_secret
    outbox.send_test_event(endpoint)
    assert outbox.deliver_due(endpoint.pk) == 1
    payload = Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers)
    assert payload["ses_console"]["test"] is True and payload["username"] == "acme"


def test_the_dispatch_job_is_safe_to_rerun(account, endpoint):
    _ingest(account, 1)
    assert outbox.dispatch_due() == 1
    assert outbox.dispatch_due() == 1  # waking twice is harmless: the lease serialises
    assert outbox.take_lease(endpoint.pk, timezone.now())
    assert not outbox.take_lease(endpoint.pk, timezone.now())
    assert outbox.dispatch_due() == 0  # a leased endpoint is being served
