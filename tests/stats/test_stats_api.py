"""GET /api/v1/stats/: the wire format, filters, CSV, errors and tenant isolation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from stats.models import COUNTERS, Rollup

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/"
RANGE = {"start": "2026-11-27", "end": "2026-11-28"}


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_it_answers_the_documented_shape(api_client, scenario):
    response = api_client.get(URL, {**RANGE, "granularity": "day"})
    assert response.status_code == 200
    body = response.json()
    # Extended, never renamed: `pending` came last (docs/statistics.md).
    assert list(body) == ["granularity", "timezone", "totals", "buckets", "pending"]
    assert body["granularity"] == "day"
    assert body["timezone"] == "UTC"
    assert body["totals"] == scenario
    assert [b["start"] for b in body["buckets"]] == ["2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"]
    assert list(body["buckets"][0]) == ["start", *COUNTERS]
    assert body["buckets"][0]["requests"] == 3
    assert body["buckets"][1]["requests"] == 3


@time_machine.travel("2026-11-29T00:00:00Z", tick=False)
def test_hour_and_minute_buckets_add_up_to_the_same_totals(api_client, scenario):
    hours = api_client.get(URL, {**RANGE, "granularity": "hour"}).json()
    assert len(hours["buckets"]) == 48
    assert hours["totals"] == scenario
    minutes = api_client.get(URL, {**RANGE, "granularity": "minute"}).json()
    assert len(minutes["buckets"]) == 2880
    assert minutes["totals"] == scenario


def test_csv_carries_the_same_numbers(api_client, scenario):
    response = api_client.get(URL, {**RANGE, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert [r["bucket_start"] for r in rows] == ["2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"]
    assert rows[0]["bucket_start_ms"] == str(
        int(datetime(2026, 11, 27, tzinfo=UTC).timestamp() * 1000)
    )
    for counter, total in scenario.items():
        assert sum(int(r[counter]) for r in rows) == total


def test_rebuild_stats_reproduces_the_numbers_exactly(api_client, scenario):
    before = api_client.get(URL, {**RANGE, "granularity": "hour"}).json()
    Rollup.objects.all().delete()
    assert api_client.get(URL, RANGE).json()["totals"]["requests"] == 0
    call_command("rebuild_stats", "--since", "2026-11-27", "--until", "2026-11-29")
    assert api_client.get(URL, {**RANGE, "granularity": "hour"}).json() == before


@pytest.mark.parametrize(
    ("params", "requests"),
    [
        ({"sender_domain": "pay.example.com"}, 1),
        ({"sender_domain": "nowhere.example"}, 0),
        ({"recipient_domain": "gmail.com"}, 3),
        ({"recipient_domain": "yahoo.com", "sender_domain": "mail.example.com"}, 2),
    ],
)
def test_it_filters_by_domain(api_client, scenario, params, requests):
    body = api_client.get(URL, {**RANGE, **params}).json()
    assert body["totals"]["requests"] == requests


def test_days_follow_the_account_time_zone(api_client, account, scenario):
    account.time_zone = "America/New_York"
    account.save()
    body = api_client.get(URL, RANGE).json()
    assert body["timezone"] == "America/New_York"
    assert body["buckets"][0]["start"] == "2026-11-27T00:00:00-05:00"
    # Everything happened between 09:00 and 12:00 UTC, i.e. the same local days.
    assert [b["requests"] for b in body["buckets"]] == [3, 3]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "2026-11-27"}, "invalid"),
        ({**RANGE, "granularity": "week"}, "invalid"),
        ({"start": "2026-11-28", "end": "2026-11-27"}, "invalid_range"),
        ({"start": "2026-11-26", "end": "2026-11-28", "granularity": "minute"}, "range_too_large"),
        ({"start": "2026-11-01", "end": "2026-11-01", "granularity": "minute"}, "range_too_old"),
        ({"start": "2025-01-01", "end": "2026-11-27", "granularity": "day"}, "range_too_large"),
        ({"start": "yesterday", "end": "2026-11-27"}, "invalid"),
    ],
)
@time_machine.travel("2026-11-29T00:00:00Z", tick=False)
def test_bad_input_gets_a_stable_code(api_client, account, params, code):
    response = api_client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_another_account_sees_none_of_it(other_api_client, scenario):
    body = other_api_client.get(URL, RANGE).json()
    assert all(v == 0 for v in body["totals"].values())
    rows = _csv(other_api_client.get(URL, {**RANGE, "format": "csv"}))
    assert all(r["requests"] == "0" for r in rows)


def test_it_needs_credentials(client, scenario):
    assert client.get(URL, RANGE).status_code in (401, 403)


def test_staff_names_the_account(staff_client, scenario):
    assert staff_client.get(URL, RANGE).json()["code"] == "account_required"
    body = staff_client.get(URL, {**RANGE, "account": "acme"}).json()
    assert body["totals"] == scenario


def test_it_is_in_the_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/stats/" in schema["paths"]
    assert "/api/v1/messages/" in schema["paths"]
    assert "/api/v1/event-lists/" in schema["paths"]
