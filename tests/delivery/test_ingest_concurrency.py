"""Exactly-once under concurrency: two workers ingesting the same batch at once."""

from __future__ import annotations

from functools import partial

import pytest
from django.db import connection

from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, Message
from tests.concurrency import run_together
from tests.events import make_event
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_two_concurrent_copies_of_a_batch_count_once():
    account = AccountFactory(name="acme")
    events = [make_event("request", f"m{i}") for i in range(200)]
    events += [make_event("opened", f"m{i}", timestamp="2026-11-28T11:00:00Z") for i in range(200)]
    results = run_together(*[partial(ingest_events, account, events)] * 2)

    assert sorted(r.accepted for r in results) == [0, 400]
    assert sum(r.duplicates for r in results) == 400
    assert DeliveryEvent.objects.count() == 400
    assert set(Message.objects.values_list("open_count", flat=True)) == {1}
