"""The outbox: written with the events, one row per event and covering endpoint."""

from __future__ import annotations

from functools import partial

import pytest
from django.db import connection

from delivery.ingest import ingest_events
from notifications import outbox
from notifications.models import Notification
from tests.concurrency import run_together
from tests.events import make_event
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

FROM = "news@mail.example.com"


def _events(n: int = 3, sender: str = FROM, prefix: str = "m") -> list[dict]:
    events = []
    for i in range(n):
        events.append(make_event("request", f"{prefix}{i}", **{"from": sender}))
        events.append(make_event("delivered", f"{prefix}{i}"))
    return events


def test_it_queues_one_row_per_event_but_not_requests(account, endpoint):
    result = ingest_events(account, _events(3))
    assert result.accepted == 6
    rows = Notification.objects.filter(endpoint=endpoint)
    assert sorted(rows.values_list("event__type", flat=True)) == ["delivered"] * 3
    assert set(rows.values_list("status", flat=True)) == {"pending"}


def test_an_account_without_endpoints_costs_one_query(account, django_assert_num_queries):
    from delivery.models import DeliveryEvent

    ingest_events(account, [make_event("request", "m1")])
    events = list(DeliveryEvent.objects.select_related("message"))
    # 1. SELECT the account's endpoints (the unique index on account, sender_address)
    with django_assert_num_queries(1):
        assert outbox.enqueue_events(account, events) == 0


def test_with_endpoints_it_is_one_insert_for_the_batch(
    account, endpoint, django_assert_num_queries
):
    from delivery.models import DeliveryEvent

    ingest_events(account, [make_event("request", f"m{i}") for i in range(50)])
    events = list(DeliveryEvent.objects.select_related("message"))
    for event in events:
        event.type = "delivered"  # requests are not notified
    # 1. SELECT endpoints  2. INSERT … ON CONFLICT DO NOTHING, all rows at once
    with django_assert_num_queries(2):
        assert outbox.enqueue_events(account, events) == 50


def test_the_sender_address_endpoint_wins_for_its_sender(account, receiver):
    wide, _ = outbox.create_endpoint(account, receiver.url)
    special, _ = outbox.create_endpoint(account, receiver.url + "?sender", sender_address=FROM)
    ingest_events(account, _events(2, sender=FROM, prefix="a"))
    ingest_events(account, _events(3, sender="other@mail.example.com", prefix="b"))
    assert Notification.objects.filter(endpoint=special).count() == 2
    assert Notification.objects.filter(endpoint=wide).count() == 3


def test_it_sends_only_the_event_types_wanted(account, receiver):
    endpoint, _ = outbox.create_endpoint(account, receiver.url, events=["bounce", "dropped"])
    ingest_events(
        account,
        [
            make_event("request", "m1"),
            make_event("delivered", "m1"),
            make_event("bounced", "m2", to="x@gmail.com", bounce_class="invalid_address"),
            make_event("rejected", "m3", reason="blocklisted"),
        ],
    )
    types = Notification.objects.filter(endpoint=endpoint).values_list("event__type", flat=True)
    assert sorted(types) == ["bounced", "rejected"]


def test_a_disabled_endpoint_gets_nothing_new(account, endpoint):
    outbox.set_enabled(endpoint, False)
    ingest_events(account, _events(2))
    assert not Notification.objects.exists()


def test_one_accounts_events_never_reach_another_accounts_endpoint(
    account, other_account, receiver
):
    mine, _ = outbox.create_endpoint(account, receiver.url)
    theirs, _ = outbox.create_endpoint(other_account, receiver.url + "?globex")
    # Same sender address and message ids in both accounts.
    ingest_events(account, _events(2))
    ingest_events(other_account, _events(3))
    assert Notification.objects.filter(endpoint=mine).count() == 2
    assert Notification.objects.filter(endpoint=theirs).count() == 3
    assert set(
        Notification.objects.filter(endpoint=theirs).values_list("event__account", flat=True)
    ) == {other_account.pk}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_racing_copies_of_a_batch_queue_each_event_once(receiver):
    account = AccountFactory(name="acme")
    outbox.create_endpoint(account, receiver.url)
    events = [make_event("request", f"m{i}") for i in range(200)]
    events += [make_event("delivered", f"m{i}") for i in range(200)]
    events += [make_event("opened", f"m{i}", timestamp="2026-11-28T11:00:00Z") for i in range(200)]
    results = run_together(*[partial(ingest_events, account, events)] * 3)

    assert sorted(r.accepted for r in results) == [0, 0, 600]
    assert Notification.objects.count() == 400
    assert Notification.objects.values("event").distinct().count() == 400
