"""GET /api/v1/messages/ and /api/v1/event-lists/: search, detail, CSV, isolation."""

from __future__ import annotations

import csv
import io

import pytest

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages/"
EVENTS = "/api/v1/event-lists/"
RANGE = {"start": "2026-11-27", "end": "2026-11-28"}


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


def test_it_lists_messages_newest_first(api_client, scenario):
    body = api_client.get(MESSAGES, RANGE).json()
    assert body["count"] == 7
    ids = [m["message_id"] for m in body["results"]]
    assert ids[0] == "m7"  # rejected at 09:30 on the 28th
    m1 = next(m for m in body["results"] if m["message_id"] == "m1")
    assert m1 == {
        "message_id": "m1",
        "from_address": "news@mail.example.com",
        "sender_domain": "mail.example.com",
        "recipient": "ann@gmail.com",
        "recipient_domain": "gmail.com",
        "subject": "Offer 1",
        "requested_at": "2026-11-27T09:00:00Z",
        "status": "delivered",
        "status_at": "2026-11-27T09:01:00Z",
        "bounce_class": "",
        "response_text": "",
        "opened": True,
        "clicked": True,
        "unsubscribed": False,
        "complained": False,
        "first_opened_at": "2026-11-27T10:00:00Z",
        "first_clicked_at": "2026-11-27T10:01:00Z",
        "open_count": 2,
        "click_count": 2,
        "request_received": True,
    }


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"recipient": "ANN@Gmail.com"}, ["m1"]),
        ({"recipient": "nobody@gmail.com"}, []),
        ({"status": "bounced"}, ["m6", "m3"]),
        ({"status": "deferred"}, []),
        ({"start": "2026-11-28"}, ["m7", "m6", "m5", "m4"]),
        ({"recipient_domain": "outlook.com"}, ["m5"]),
        ({"sender_domain": "nowhere.example"}, []),
    ],
)
def test_it_filters_messages(api_client, scenario, params, ids):
    body = api_client.get(MESSAGES, {**RANGE, **params}).json()
    assert [m["message_id"] for m in body["results"]] == ids


def test_it_sorts_and_pages(api_client, scenario):
    body = api_client.get(MESSAGES, {**RANGE, "ordering": "recipient", "page_size": 2}).json()
    assert [m["recipient"] for m in body["results"]] == ["ann@gmail.com", "bea@gmail.com"]
    assert body["next"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-11-27"},
        {"start": "2026-10-01", "end": "2026-11-28"},
        {**RANGE, "status": "x"},
    ],
)
def test_the_search_needs_a_bounded_date_range(api_client, scenario, params):
    response = api_client.get(MESSAGES, params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_detail_has_the_event_timeline(api_client, scenario):
    body = api_client.get(f"{MESSAGES}m1/").json()
    assert [e["type"] for e in body["events"]] == [
        "request",
        "delivered",
        "opened",
        "clicked",
        "clicked",
        "opened",
    ]


def test_messages_csv_has_every_row(api_client, scenario):
    rows = _csv(api_client.get(f"{MESSAGES}export/", RANGE))
    assert len(rows) == 7
    m1 = next(r for r in rows if r["message_id"] == "m1")
    assert m1["requested_at"] == "2026-11-27T09:00:00.000Z"
    assert m1["requested_at_ms"] == "1795770000000"
    assert (m1["opened"], m1["complained"]) == ("yes", "no")
    assert len(_csv(api_client.get(MESSAGES, {**RANGE, "format": "csv"}))) == 7


def test_event_list_per_type_with_user_agents(api_client, scenario):
    body = api_client.get(EVENTS, {**RANGE, "type": "opened"}).json()
    assert body["count"] == 4
    first = body["results"][-1]
    assert (first["recipient"], first["user_agent"], first["ip"]) == (
        "ann@gmail.com",
        "Mail/1.0",
        "203.0.113.9",
    )


def test_event_csv_neutralises_formulas(api_client, scenario):
    rows = _csv(api_client.get(EVENTS, {**RANGE, "type": "opened", "format": "csv"}))
    assert len(rows) == 4
    agents = {r["user_agent"] for r in rows}
    assert '\'=HYPERLINK("x")' in agents
    assert not any(a.startswith("=") for a in agents)


def test_event_lists_filter_by_sending_time_and_class(api_client, scenario):
    opened_from_28th = api_client.get(
        EVENTS, {**RANGE, "type": "opened", "sent_start": "2026-11-28"}
    ).json()
    assert [e["message_id"] for e in opened_from_28th["results"]] == ["m4"]
    bounces = api_client.get(EVENTS, {**RANGE, "bounce_class": "invalid_address"}).json()
    assert [e["message_id"] for e in bounces["results"]] == ["m3"]


def test_another_account_sees_no_messages_or_events(other_api_client, scenario):
    assert other_api_client.get(MESSAGES, RANGE).json()["count"] == 0
    assert other_api_client.get(f"{MESSAGES}m1/").status_code == 404
    assert other_api_client.get(EVENTS, RANGE).json()["count"] == 0
    assert _csv(other_api_client.get(f"{MESSAGES}export/", RANGE)) == []
    assert _csv(other_api_client.get(EVENTS, {**RANGE, "format": "csv"})) == []


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("to", "recipient", False),
        ("-to", "recipient", True),
        ("id", "message_id", False),
        ("-requested", "requested_at", True),
    ],
)
def test_sort_orders_the_list_and_its_export_as_on_the_page(
    api_client, scenario, sort, key, reverse
):
    """`?sort=` is the FilterSet's, as on the console's page; the view's default order
    used to replace it."""
    listed = api_client.get(MESSAGES, {**RANGE, "sort": sort}).json()["results"]
    values = [m[key] for m in listed]
    assert len(set(values)) > 1 and values == sorted(values, reverse=reverse)
    column = {"recipient": "to"}.get(key, key)
    export = api_client.get(f"{MESSAGES}export/", {**RANGE, "sort": sort})
    exported = [row[column] for row in _csv(export)]
    assert exported == sorted(exported, reverse=reverse)
    # `?ordering=` still wins when both are given (DRF's own parameter).
    both = api_client.get(MESSAGES, {**RANGE, "sort": sort, "ordering": "message_id"}).json()
    assert [m["message_id"] for m in both["results"]] == sorted(
        m["message_id"] for m in both["results"]
    )


@pytest.mark.parametrize("typed", ["Gmail.COM", " gmail.com. ", "GMAIL.com"])
def test_domain_filters_compare_domains_case_insensitively(api_client, scenario, typed):
    exact = {**RANGE, "recipient_domain": "gmail.com"}
    for url in (MESSAGES, EVENTS):
        want = api_client.get(url, exact).json()["count"]
        assert want > 0
        assert api_client.get(url, {**RANGE, "recipient_domain": typed}).json()["count"] == want
    totals = api_client.get("/api/v1/stats/", exact).json()["totals"]
    assert totals["requests"] > 0
    typed_totals = api_client.get("/api/v1/stats/", {**RANGE, "recipient_domain": typed}).json()
    assert typed_totals["totals"] == totals
