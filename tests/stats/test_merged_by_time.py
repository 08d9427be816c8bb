"""Open/Click sorted by time: opens and clicks read one type at a time and merged give, for
any page, the rows sorted by (time, id), ties on the time included."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models.signals import post_init
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, EventType
from stats.views import MergedByTime
from tests.events import make_event

pytestmark = pytest.mark.django_db

TYPES = (EventType.OPENED, EventType.CLICKED)
RANGE = {"start": "2026-11-27", "end": "2026-11-28"}
URL = "https://example.com/offer"
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# (type, message, minute): a few messages and minutes, so many events share a timestamp.
hits = st.lists(
    st.tuples(st.sampled_from(TYPES), st.integers(1, 3), st.integers(0, 4)), max_size=40
)


def _ingest(account, events: list[tuple[str, int, int]]) -> None:
    requests = [
        make_event("request", f"m{n}", timestamp="2026-11-27T08:00:00Z", to=f"r{n}@gmail.com")
        for n in (1, 2, 3)
    ]
    hits = [
        make_event(kind, f"m{n}", timestamp=f"2026-11-27T09:0{minute}:00Z", url=URL)
        if kind == EventType.CLICKED
        else make_event(kind, f"m{n}", timestamp=f"2026-11-27T09:0{minute}:00Z")
        for kind, n, minute in events
    ]
    result = ingest_events(account, requests + hits)
    assert not result.errors


def _sorted(account, descending: bool) -> list[int]:
    rows = DeliveryEvent.objects.for_account(account).of_type(*TYPES)
    return [e.pk for e in sorted(rows, key=lambda e: (e.timestamp, e.pk), reverse=descending)]


@SETTINGS
@given(
    events=hits,
    descending=st.booleans(),
    start=st.integers(0, 45),
    size=st.integers(0, 12),  # 0: the one page of an empty list is [0:0]
)
def test_any_slice_is_the_rows_sorted_by_time_then_id(account, events, descending, start, size):
    with transaction.atomic():
        _ingest(account, events)
        rows = DeliveryEvent.objects.for_account(account).of_type(*TYPES).with_message()
        merged = MergedByTime(rows, TYPES, descending=descending)
        page = merged[start : start + size]
        assert [e.pk for e in page] == _sorted(account, descending)[start : start + size]
        assert merged.count() == len(events)
        transaction.set_rollback(True)  # the next example starts from no events


@pytest.mark.parametrize("sort", ["time", "-time"])
def test_the_pages_of_open_click_list_every_event_once_in_order(
    alice_client, account, monkeypatch, sort
):
    monkeypatch.setattr("stats.views.PAGE_SIZE", 4)
    # 13 events on 3 timestamps: every page boundary falls inside a tie.
    _ingest(account, [(TYPES[i % 2], i % 3 + 1, i % 3) for i in range(13)])
    listed = []
    for number in range(1, 5):
        page = alice_client.get("/open-click/", {**RANGE, "sort": sort, "page": number})
        assert page.context["page"].paginator.num_pages == 4
        listed += [e.pk for e in page.context["page"].object_list]
    assert listed == _sorted(account, descending=sort == "-time")


def test_a_deep_page_reads_only_its_own_rows_whole(account, django_assert_num_queries):
    """The cost of a page does not grow with its number: the rows before it are skipped as
    keys in the database, never built as events."""
    _ingest(account, [(TYPES[i % 2], i % 3 + 1, i % 5) for i in range(40)])
    rows = DeliveryEvent.objects.for_account(account).of_type(*TYPES).with_message()
    merged = MergedByTime(rows, TYPES, descending=True)
    built: list[DeliveryEvent] = []

    def count(sender, instance, **kwargs):
        built.append(instance)

    post_init.connect(count, sender=DeliveryEvent)
    try:
        # 1: the page's keys, the first 36 of each type merged and offset in one UNION ALL;
        # 2: its 4 events with their messages, by id.
        with django_assert_num_queries(2):
            page = merged[32:36]
    finally:
        post_init.disconnect(count, sender=DeliveryEvent)
    assert [e.pk for e in page] == _sorted(account, descending=True)[32:36]
    assert len(built) == 4
