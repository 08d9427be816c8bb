"""Property tests of the event wire format: any JSON in any field is refused item by item.

Whatever a client sends in one field of one event, the batch is answered 200, the other
events are stored, and what is stored equals what the same batch without the bad item
stores.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.models import DeliveryEvent, Message

pytestmark = pytest.mark.django_db

FIELDS = [
    "id",
    "type",
    "timestamp",
    "message_id",
    "from",
    "to",
    "subject",
    "smtp",
    "bounce_class",
    "reason",
    "url",
    "user_agent",
    "ip",
    "machine",
]

# Any JSON value, with the strings that databases and decoders trip over.
hostile_text = st.one_of(
    st.text(),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\ud800",
            " ",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "fe80::1%eth0",
            "x" * 5000,
            "=1+2",
            "javascript:alert(1)",
            "a@" + "b" * 300 + ".com",
            "ü@xn--.com",
        ]
    ),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["code", "enhanced", "text", "x"]), children, max_size=3)
    ),
    max_leaves=6,
)


def good_events(tag: str) -> list[dict]:
    return [
        {
            "id": f"{tag}-r",
            "type": "request",
            "timestamp": "2026-11-28T10:00:00Z",
            "message_id": f"{tag}-m",
            "from": "news@mail.example.com",
            "to": "alice@gmail.com",
        },
        {
            "id": f"{tag}-b",
            "type": "bounced",
            "timestamp": "2026-11-28T10:01:00Z",
            "message_id": f"{tag}-m",
            "smtp": {"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
        },
    ]


def post(client, batch) -> dict:
    response = client.post(
        "/api/v1/events/",
        data=json.dumps(batch, allow_nan=True),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content[:500]
    return response.json()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=st.sampled_from(FIELDS), value=json_values, kind=st.sampled_from(["click", "bounce"]))
def test_any_value_in_any_field_is_answered_item_by_item(api_client, field, value, kind):
    tag = uuid.uuid4().hex
    probe = {
        "id": f"{tag}-p",
        "type": "clicked" if kind == "click" else "bounced",
        "timestamp": "2026-11-28T10:02:00Z",
        "message_id": f"{tag}-m",
        "url": "https://example.com/",
        "smtp": {"code": 550, "text": "550 no"},
    }
    probe[field] = value
    body = post(api_client, [*good_events(tag), probe])
    assert body["accepted"] + body["duplicates"] + len(body["errors"]) == 3
    assert body["accepted"] >= 2
    for error in body["errors"]:
        assert error["index"] == 2
        assert error["code"] and error["message"]
    stored = set(
        DeliveryEvent.objects.filter(message__message_id=f"{tag}-m").values_list(
            "event_id", flat=True
        )
    )
    assert {f"{tag}-r", f"{tag}-b"} <= stored


def _state(tag: str):
    message = Message.objects.get(message_id=f"{tag}-m")
    events = sorted(
        DeliveryEvent.objects.filter(message=message).values_list(
            "type", "timestamp", "bounce_class", "smtp_code", "response_text"
        )
    )
    return (message.status, message.bounce_class, message.response_text, events)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(junk=st.lists(json_values, min_size=1, max_size=4))
def test_junk_items_store_nothing_a_clean_resend_would_not(api_client, junk):
    dirty, clean = uuid.uuid4().hex, uuid.uuid4().hex
    batch = good_events(dirty)
    for item in junk:
        # Non-objects and objects without a usable id/type are refused whole.
        batch.insert(1, item if not isinstance(item, dict) else {**item, "type": ["x"]})
    body = post(api_client, batch)
    assert body["accepted"] == 2
    post(api_client, good_events(clean))
    dirty_state, clean_state = _state(dirty), _state(clean)
    assert dirty_state == clean_state


def test_an_item_nested_100000_deep_is_refused_alone(api_client):
    tag = uuid.uuid4().hex
    good = [json.dumps(e) for e in good_events(tag)]
    body = "[" + good[0] + "," + "[" * 100_000 + "]" * 100_000 + "," + good[1] + "]"
    response = api_client.post("/api/v1/events/", data=body, content_type="application/json")
    assert response.status_code == 200
    result = response.json()
    assert result["accepted"] == 2
    assert result["errors"] == [
        {"index": 1, "code": "too_deep", "message": "This event is nested too deeply."}
    ]
