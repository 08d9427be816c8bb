"""Exactly-once under concurrency: two workers ingesting the same batch at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, Message
from tests.events import make_event
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_two_concurrent_copies_of_a_batch_count_once():
    account = AccountFactory(name="acme")
    events = [make_event("request", f"m{i}") for i in range(200)]
    events += [make_event("opened", f"m{i}", timestamp="2026-11-28T11:00:00Z") for i in range(200)]
    results = []
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        try:
            results.append(ingest_events(account, events))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(r.accepted for r in results) == [0, 400]
    assert sum(r.duplicates for r in results) == 400
    assert DeliveryEvent.objects.count() == 400
    assert set(Message.objects.values_list("open_count", flat=True)) == {1}
