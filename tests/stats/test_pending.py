"""With the fold deferred, the figures say what they do not count yet: the statistics API's
`pending` and a line on the queue page, per account, gone once a worker has folded."""

from __future__ import annotations

import pytest
from django.utils import timezone

from delivery import fold
from delivery.fold import fold_all
from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent
from tests.scenarios import scenario_events

pytestmark = pytest.mark.django_db

RANGE = {"start": "2026-11-27", "end": "2026-11-28"}


@pytest.fixture
def deferred(settings):
    settings.INGEST_FOLD = "deferred"


def test_the_statistics_say_how_many_events_wait_and_since_when(
    deferred, account, other_account, api_client, alice_client
):
    events = scenario_events()
    ingest_events(account, events)
    ingest_events(other_account, events[:3])
    oldest = DeliveryEvent.objects.filter(account=account).order_by("pk").first().received_at

    body = api_client.get("/api/v1/stats/", RANGE).json()
    assert body["totals"]["requests"] == 0  # nothing counted before the fold
    assert body["pending"]["events"] == len(events)
    assert body["pending"]["more"] is False
    assert body["pending"]["oldest_received_at"].startswith(
        oldest.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%dT%H:%M:%S")
    )
    page = alice_client.get("/queue/").content.decode()
    assert f"{len(events)} events received but not counted yet" in page
    assert (
        alice_client.get("/queue/", {"format": "json"})
        .json()["pending"]
        .startswith(f"{len(events)} events received")
    )

    assert fold_all() == len(events) + 3
    body = api_client.get("/api/v1/stats/", RANGE).json()
    assert body["pending"] == {"events": 0, "more": False, "oldest_received_at": None}
    assert body["totals"]["requests"] == sum(e["type"] == "request" for e in events)
    assert "not counted yet" not in alice_client.get("/queue/").content.decode()


def test_a_long_backlog_says_more_than(deferred, account, api_client, monkeypatch):
    monkeypatch.setattr(fold, "BACKLOG_CAP", 4)
    ingest_events(account, scenario_events())

    assert api_client.get("/api/v1/stats/", RANGE).json()["pending"]["events"] == 4
    assert api_client.get("/api/v1/stats/", RANGE).json()["pending"]["more"] is True


def test_inline_ingestion_leaves_nothing_pending(account, api_client):
    ingest_events(account, scenario_events())

    assert api_client.get("/api/v1/stats/", RANGE).json()["pending"]["events"] == 0
