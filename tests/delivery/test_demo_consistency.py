"""The demo's data agrees with itself: what the blocklist says, what was rejected, the
"sends stopped" counters, when each block happened, and how far apart retries are."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from blocklist import surges
from blocklist.gate import check
from blocklist.models import Block, History, InvalidSurge
from delivery.models import DeliveryEvent, Message
from delivery.sending import retry_delay

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(account, other_account):
    # With the receiver fault setup_demo shows: gmail.com says "does not exist" to everyone.
    call_command("simulate_traffic", days=10, per_day=120, seed=3, outage="gmail.com", verbosity=0)
    return [account, other_account]


def test_every_rejected_recipient_is_blocked_with_the_reason_given(demo):
    rejected = DeliveryEvent.objects.filter(type="rejected").select_related("message")
    assert rejected.count() > 20  # mistyped sign-ups re-mailed, unsubscribers re-mailed
    for account in demo:
        mine = [e for e in rejected if e.account_id == account.pk]
        verdicts = check(account, {e.message.recipient for e in mine})
        for event in mine:
            verdict = verdicts[event.message.recipient]
            assert verdict.blocked, event.message.recipient
            assert verdict.reject_reason == event.reason
            assert verdict.since <= event.timestamp


def test_no_message_went_out_to_an_address_already_blocked(demo):
    for block in Block.objects.filter(kind__in=["invalid", "reject"]):
        later = Message.objects.filter(
            recipient=block.address, requested_at__gt=block.blocked_at
        ).exclude(status="rejected")
        if block.kind == "reject":
            later = later.filter(account=block.account)
        assert not later.exists(), block


def test_sends_stopped_counts_the_rejections(demo):
    rejected = DeliveryEvent.objects.filter(type="rejected")
    assert sum(Block.objects.values_list("stopped_count", flat=True)) == rejected.count()
    assert Block.objects.filter(stopped_count__gt=0).exists()
    for block in Block.objects.filter(stopped_count__gt=0):
        assert block.last_stopped_at > block.blocked_at


def test_history_carries_when_each_block_happened(demo):
    added = History.objects.filter(action="added").select_related("block")
    assert added.count() == Block.objects.count() > 10
    for row in added:
        assert row.at == row.block.blocked_at
        assert row.at == row.block.event.timestamp
    times = sorted(row.at for row in added)
    assert times[-1] - times[0] > timedelta(days=5)
    assert len(set(times)) == len(times)


def test_retries_are_spaced_as_delivery_spaces_them(demo):
    max_attempts = settings.SENDING_MAX_ATTEMPTS
    backoff = sum(retry_delay(a) for a in range(1, max_attempts))
    gave_up = DeliveryEvent.objects.filter(
        type="bounced", response_text__startswith="Gave up after"
    ).select_related("message")
    deferred = Counter(
        DeliveryEvent.objects.filter(type="deferred").values_list("message_id", flat=True)
    )
    assert gave_up.exists()
    for bounce in gave_up:
        assert bounce.response_text.startswith(f"Gave up after {max_attempts} attempts")
        assert deferred[bounce.message_id] == max_attempts - 1
        took = (bounce.timestamp - bounce.message.requested_at).total_seconds()
        assert backoff <= took <= backoff + 8 * (max_attempts + 1)
    assert not DeliveryEvent.objects.filter(response_text__contains="72 hours").exists()


def test_the_receivers_fault_is_held_for_staff_not_blocked(demo):
    surge = InvalidSurge.objects.get()
    assert surge.domain == "gmail.com" and surge.holding
    assert surge.verdicts_at_opening >= settings.INVALID_SURGE_MIN_VERDICTS
    held = surges.held_events(surge)
    # The verdicts before the count was reached blocked as always (dismissing lifts them).
    assert held.count() == surge.held > 0
    assert not Block.objects.filter(event__in=list(held)).exists()
    # Real people: the fault's replies blocked none of the addresses they were about.
    addresses = {e.message.recipient for e in held}
    assert not any(v.blocked for v in check(demo[0], addresses).values())


def test_an_outage_needs_a_day_of_traffic(account):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--outage needs at least a day of traffic"):
        call_command("simulate_traffic", days=0.5, outage="gmail.com", verbosity=0)


def test_setup_demo_prints_keys_once_then_where_to_get_one(db, monkeypatch):
    from io import StringIO

    monkeypatch.setenv("PORT", "8123")
    first, again = StringIO(), StringIO()
    call_command("setup_demo", days=0.01, per_day=5, verbosity=0, stdout=first)
    call_command("setup_demo", days=0.01, per_day=5, verbosity=0, stdout=again)
    assert "Console:   http://127.0.0.1:8123/" in first.getvalue()
    assert "API key for acme: ses_" in first.getvalue()
    assert "API key for" not in again.getvalue()
    assert "http://127.0.0.1:8123/account/api-keys/" in again.getvalue()
    assert "manage.py create_api_key acme" in again.getvalue()


def test_create_api_key_issues_a_working_key(account, client):
    from io import StringIO

    out = StringIO()
    call_command("create_api_key", account.name, stdout=out)
    raw = out.getvalue().strip().rsplit(" ", 1)[-1]
    r = client.get("/api/v1/blocklist/custom/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200


def test_create_api_key_names_a_missing_account(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No account named 'nobody'"):
        call_command("create_api_key", "nobody")
