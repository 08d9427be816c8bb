"""Both ways a queryset becomes CSV (COPY on PostgreSQL, Python rows) give the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from delivery.exports import EVENT_COLUMNS, MESSAGE_COLUMNS
from delivery.ingest import ingest_events
from delivery.models import DeliveryEvent, Message
from sesconsole.lib.csv_export import copy_csv, python_csv
from sesconsole.lib.csv_zones import local_iso_kind, with_zone

pytestmark = pytest.mark.django_db

AWKWARD = [
    "",
    "plain",
    "comma, inside",
    'a "quoted" word',
    "line\nbreak",
    "=1+2",
    "-3.5",
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "%41",
    "Grüße 你好",
    # The first character compared by code point: a pipe, and non-ASCII first characters.
    "|pipe",
    "你好",
    "\u2014dash",
]


@pytest.fixture
def awkward_rows(account):
    events = []
    for i, text in enumerate(AWKWARD):
        mid = f"m{i}"
        base = {
            "message_id": mid,
            "timestamp": datetime(2026, 11, 2, 3, 4, 5, 678000, UTC).isoformat(),
        }
        events.append(
            {
                **base,
                "id": f"{mid}-r",
                "type": "request",
                "from": "news@mail.example.com",
                "to": f"r{i}@gmail.com",
                "subject": text,
            }
        )
        events.append(
            {
                **base,
                "id": f"{mid}-b",
                "type": "bounced",
                "smtp": {"code": 550, "enhanced": "5.1.1", "text": text or "550"},
                "reason": text[:60],
            }
        )
        events.append(
            {
                **base,
                "id": f"{mid}-c",
                "type": "clicked",
                "url": 'https://example.com/a,b?q="x"',
                "user_agent": text,
                "ip": "2001:db8::1" if i % 2 else "203.0.113.9",
            }
        )
    result = ingest_events(account, events)
    assert result.errors == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
@pytest.mark.parametrize(
    ("model", "columns"), [(Message, MESSAGE_COLUMNS), (DeliveryEvent, EVENT_COLUMNS)]
)
def test_copy_and_python_give_the_same_bytes(awkward_rows, model, columns):
    qs = model.objects.order_by("pk")
    if model is DeliveryEvent:
        qs = qs.with_message()  # as the event lists read them (EVENT_COLUMNS needs it)
    from_copy = b"".join(copy_csv(qs, columns))
    from_python = b"".join(python_csv(qs, columns))
    assert from_copy.count(b"\n") > len(AWKWARD)
    assert from_copy == from_python


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/St_Johns", "UTC"])
@pytest.mark.parametrize(
    ("model", "columns"), [(Message, MESSAGE_COLUMNS), (DeliveryEvent, EVENT_COLUMNS)]
)
def test_local_time_columns_are_the_same_both_ways(awkward_rows, model, columns, zone):
    qs = model.objects.order_by("pk")
    if model is DeliveryEvent:
        qs = qs.with_message()  # as the event lists read them (EVENT_COLUMNS needs it)
    zoned = with_zone(columns, ZoneInfo(zone))
    from_copy = b"".join(copy_csv(qs, zoned))
    assert from_copy == b"".join(python_csv(qs, zoned))
    header, first = from_copy.decode().split("\n")[:2]
    assert header.endswith(",time_zone") and "requested_at_local" in header
    assert first.endswith(f",{zone}")


def test_local_time_column_states_the_offset_of_the_zone():
    kind = local_iso_kind(ZoneInfo("Asia/Kolkata"))
    at = datetime(2026, 11, 2, 20, 45, 5, 678000, UTC)
    assert kind.python(at) == "2026-11-03T02:15:05.678+05:30"
    assert kind.python(None) == ""
