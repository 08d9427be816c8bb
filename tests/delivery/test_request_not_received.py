"""A message whose request never arrived is listed at its earliest known event, marked so,
and moves to its request's time when the request comes after all."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.fold import STATE_FIELDS, fold_pending
from delivery.ingest import ingest_events
from delivery.models import Message
from stats.models import Rollup
from tests.events import make_event
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

DAY = {"start": "2026-11-28", "end": "2026-11-28"}
BOB = "bob@example.org"


def _bounce(**fields) -> dict:
    return make_event(
        "bounced",
        "m1",
        timestamp="2026-11-28T10:05:00Z",
        to=BOB,
        smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
        **fields,
    )


def _request() -> dict:
    return make_event("request", "m1", timestamp="2026-11-28T09:59:00Z", to=BOB, subject="Hi")


def _listed(api_client, **params) -> list[dict]:
    return api_client.get("/api/v1/messages/", {**DAY, "recipient": BOB, **params}).json()[
        "results"
    ]


def _exported(api_client) -> list[dict]:
    response = api_client.get("/api/v1/messages/export/", {**DAY, "recipient": BOB})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize("fold", ["inline", "deferred"])
def test_the_api_lists_a_bounce_without_request_then_at_the_request(
    settings, account, api_client, fold
):
    settings.INGEST_FOLD = fold
    ingest_events(account, [_bounce()])
    fold_pending()
    [row] = _listed(api_client)
    assert row["message_id"] == "m1"
    assert row["status"] == "bounced"
    assert row["requested_at"] == "2026-11-28T10:05:00Z"
    assert row["request_received"] is False
    assert [m["message_id"] for m in _listed(api_client, status="bounced")] == ["m1"]
    [exported] = _exported(api_client)
    assert exported["requested_at"] == "2026-11-28T10:05:00.000Z"
    assert exported["request_received"] == "no"
    # The statistics count no request that did not arrive.
    assert sum(Rollup.objects.filter(account=account).values_list("requests", flat=True)) == 0

    ingest_events(account, [_request()])
    fold_pending()
    [row] = _listed(api_client)
    assert row["requested_at"] == "2026-11-28T09:59:00Z"
    assert row["request_received"] is True
    assert row["status"] == "bounced"  # the request does not undo the bounce
    assert _exported(api_client)[0]["request_received"] == "yes"
    assert api_client.get("/api/v1/messages/m1/").json()["request_received"] is True


def test_the_page_finds_it_and_says_the_request_was_not_received(account, alice_client):
    ingest_events(
        account,
        [
            make_event("delivered", "m1", timestamp="2026-11-28T10:07:00Z", to=BOB),
            make_event("opened", "m1", timestamp="2026-11-28T10:30:00Z"),
        ],
    )
    page = alice_client.get("/messages/", {**DAY, "recipient": BOB}).content.decode()
    assert "/messages/id/m1/" in page
    assert "2026-11-28 10:07:00" in page
    assert "request not received" in page
    detail = alice_client.get("/messages/id/m1/").content.decode()
    assert "request not received" in detail

    ingest_events(account, [_request()])
    page = alice_client.get("/messages/", {**DAY, "recipient": BOB}).content.decode()
    assert "2026-11-28 09:59:00" in page
    assert "request not received" not in page


def test_a_later_event_does_not_move_it_and_an_earlier_one_does(account, api_client):
    ingest_events(account, [_bounce()])
    ingest_events(account, [make_event("opened", "m1", timestamp="2026-11-28T11:00:00Z")])
    assert _listed(api_client)[0]["requested_at"] == "2026-11-28T10:05:00Z"
    ingest_events(
        account,
        [
            make_event(
                "deferred",
                "m1",
                timestamp="2026-11-28T10:01:00Z",
                smtp={"code": 451, "text": "451 later"},
            )
        ],
    )
    [row] = _listed(api_client)
    assert (row["requested_at"], row["request_received"]) == ("2026-11-28T10:01:00Z", False)


def test_a_rejection_is_a_request_received(account, api_client):
    ingest_events(
        account,
        [make_event("rejected", "m1", timestamp="2026-11-28T10:00:00Z", to=BOB, reason="x")],
    )
    [row] = _listed(api_client)
    assert (row["requested_at"], row["request_received"]) == ("2026-11-28T10:00:00Z", True)


# --- any order, any batching -------------------------------------------------------------

TYPES = [
    "request",
    "rejected",
    "delivered",
    "deferred",
    "bounced",
    "opened",
    "clicked",
    "complained",
    "unsubscribed",
]


def _event(n: int, message: int, kind: str, minute: int, with_to: bool, reply: bool) -> dict:
    fields: dict = {"id": f"e{n}", "timestamp": f"2026-11-28T10:{minute:02d}:00Z"}
    if with_to or kind in ("request", "rejected"):
        # Both addresses together: a message takes those of the first event naming its
        # recipient, and only a `request` overrides them.
        fields["to"] = f"r{message}@gmail.com"
        fields["from"] = "news@mail.example.com"
    # A status may bring the server's reply or none: a message shows the reply of the status
    # that wins, or none, whichever order the events came in.
    if kind in ("delivered", "deferred", "bounced") and reply:
        code = {"delivered": 250, "deferred": 451, "bounced": 552}[kind]
        fields["smtp"] = {"code": code, "text": f"{code} reply {n}"}
    if kind == "bounced":
        fields["bounce_class"] = "mailbox_full"
    if kind == "rejected":
        fields["reason"] = "blocklisted"
    if kind == "clicked":
        fields["url"] = "https://example.com/"
    return make_event(kind, f"m{message}", **fields)


@st.composite
def histories(draw):
    """Events of two messages at distinct minutes, in some order, cut into batches."""
    kinds = draw(
        st.lists(
            st.tuples(st.integers(1, 2), st.sampled_from(TYPES), st.booleans(), st.booleans()),
            max_size=9,
        )
    )
    minutes = draw(st.permutations(range(60)))[: len(kinds)]
    events = [
        _event(n, message, kind, minute, with_to, reply)
        for n, ((message, kind, with_to, reply), minute) in enumerate(
            zip(kinds, minutes, strict=True)
        )
    ]
    order = draw(st.permutations(events))
    cuts = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    batches, batch = [], []
    for event, cut in zip(order, cuts, strict=True):
        batch.append(event)
        if cut:
            batches.append(batch)
            batch = []
    return events, [*batches, batch] if batch else batches


def _rows(account) -> dict:
    return {
        m["message_id"]: m
        for m in Message.objects.filter(account=account).values("message_id", *STATE_FIELDS)
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(), limit=st.integers(1, 5))
def test_any_order_and_batching_folds_to_the_same_row(settings, db, history, limit):
    events, batches = history
    with transaction.atomic():
        one, inline, deferred = (AccountFactory(name=n) for n in ("one", "inline", "deferred"))
        settings.INGEST_FOLD = "inline"
        ingest_events(one, events)
        for batch in batches:
            settings.INGEST_FOLD = "inline"
            assert ingest_events(inline, batch).errors == []
            settings.INGEST_FOLD = "deferred"
            ingest_events(deferred, batch)
        while fold_pending(limit=limit):
            pass
        expected = _rows(one)
        assert _rows(inline) == expected
        assert _rows(deferred) == expected
        for mid, row in expected.items():
            own = [e for e in events if e["message_id"] == mid]
            requests = [e for e in own if e["type"] in ("request", "rejected")]
            first = min(requests or own, key=lambda e: e["timestamp"])["timestamp"]
            assert row["requested_at"].isoformat().replace("+00:00", "Z") == first
            assert row["request_received"] is bool(requests)
        transaction.set_rollback(True)  # the next example starts from nothing


def test_event_views_give_no_sending_time_until_the_request_arrives(account, api_client):
    # The events API, its CSV and the event pages' "sent" column: the time the message was
    # requested, which the first event's time is not. The sending-time filters skip it.
    ingest_events(account, [_bounce()])
    events = {**DAY, "type": "bounced"}
    [event] = api_client.get("/api/v1/event-lists/", events).json()["results"]
    assert event["requested_at"] is None
    body = b"".join(api_client.get("/api/v1/event-lists/export/", events).streaming_content)
    [row] = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert (row["requested_at"], row["requested_at_ms"]) == ("", "")
    sent = {**events, "sent_start": DAY["start"], "sent_end": DAY["end"]}
    assert api_client.get("/api/v1/event-lists/", sent).json()["results"] == []

    ingest_events(account, [_request()])
    [event] = api_client.get("/api/v1/event-lists/", sent).json()["results"]
    assert event["requested_at"] == "2026-11-28T09:59:00Z"


def test_a_status_without_a_reply_shows_none_whichever_order_it_came_in(account):
    # A `delivered` with no reply after a `deferred` with one: the message is delivered, and
    # the deferral's "451 later" is no reply to its delivery.
    deferred = make_event(
        "deferred",
        "m1",
        timestamp="2026-11-28T10:01:00Z",
        to=BOB,
        smtp={"code": 451, "text": "451 later"},
    )
    delivered = make_event("delivered", "m1", timestamp="2026-11-28T10:02:00Z", to=BOB)
    other = AccountFactory(name="other")
    ingest_events(account, [deferred, delivered])
    ingest_events(other, [delivered])
    ingest_events(other, [deferred])
    rows = [Message.objects.get(account=a, message_id="m1") for a in (account, other)]
    assert [(m.status, m.response_text) for m in rows] == [("delivered", "")] * 2


@pytest.mark.parametrize("sort", ["sent", "-sent"])
def test_the_event_pages_sort_a_message_without_request_after_every_sent_one(
    alice_client, account, sort
):
    # Its *Sent* cell is blank (a dash): its first event's time must not place it among sent mail.
    late = {"timestamp": "2026-11-28T10:30:00Z"}
    ingest_events(
        account,
        [
            make_event("request", "m0", timestamp="2026-11-28T09:00:00Z", to="a@example.org"),
            make_event("request", "m2", timestamp="2026-11-28T11:00:00Z", to="c@example.org"),
            make_event("bounced", "m0", **late),
            make_event("bounced", "m2", **late),
            make_event("bounced", "m1", to=BOB, **late),
        ],
    )
    page = alice_client.get("/bounced/", {**DAY, "sort": sort}).content.decode()
    order = [page.index(address) for address in ("a@example.org", "c@example.org", BOB)]
    sent_first = order[:2] if sort == "sent" else order[1::-1]
    assert sent_first == sorted(sent_first) and order[2] > max(order[:2])
