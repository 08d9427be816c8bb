"""Email status and the API lists stop counting past a cap instead of scanning everything."""

from __future__ import annotations

import pytest

from delivery.ingest import ingest_events
from sesconsole.lib.pagination import CappedPaginator
from tests.events import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def twelve(account, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 10)
    ingest_events(
        account, [make_event("request", f"m{i}", to=f"r{i}@gmail.com") for i in range(12)]
    )


def test_the_api_count_stops_at_the_cap(api_client, twelve):
    body = api_client.get("/api/v1/messages/", {"start": "2026-11-28", "end": "2026-11-28"}).json()
    assert body["count"] == 10
    assert body["count_capped"] is True
    assert len(body["results"]) == 10


def test_under_the_cap_the_payload_is_unchanged(api_client, twelve):
    body = api_client.get(
        "/api/v1/messages/",
        {"start": "2026-11-28", "end": "2026-11-28", "recipient": "r1@gmail.com"},
    ).json()
    assert body["count"] == 1
    assert "count_capped" not in body


def test_email_status_says_more_than(alice_client, twelve):
    page = alice_client.get("/messages/", {"start": "2026-11-28", "end": "2026-11-28"})
    assert "More than 10 messages" in page.content.decode()


def test_the_last_page_says_the_list_stops_there_and_how_to_see_the_rest(
    alice_client, account, monkeypatch
):
    monkeypatch.setattr(CappedPaginator, "cap", 60)  # 61 matching messages: pages stop at 60
    ingest_events(
        account, [make_event("request", f"m{i}", to=f"r{i}@gmail.com") for i in range(61)]
    )
    query = {"start": "2026-11-28", "end": "2026-11-28"}
    notice = "Pages stop here, after the first 60: narrow the dates or the search"
    first = alice_client.get("/messages/", query).content.decode()
    assert "Page 1 of 2" in first and notice not in first
    last = alice_client.get("/messages/", {**query, "page": 2}).content.decode()
    assert "Page 2 of 2" in last
    assert last.count(notice) == 1
    assert "Export CSV" in last
    every = alice_client.get("/messages/", {**query, "export": "csv"})
    assert len(b"".join(every.streaming_content).decode("utf-8-sig").splitlines()) == 1 + 61


def test_a_list_under_the_cap_has_no_such_notice(alice_client, twelve):
    html = alice_client.get(
        "/messages/", {"start": "2026-11-28", "end": "2026-11-28", "recipient": "r1@gmail.com"}
    ).content.decode()
    assert "Pages stop here" not in html
