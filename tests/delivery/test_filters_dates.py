"""The day filters of the message and event lists: any date in any zone gives the rows or
a 400 that names the field, never a 500 (a local midnight outside the bounds overflows)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sesconsole.lib.timezones import MAX_DAY, MIN_DAY

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = f"Enter a date between {MIN_DAY} and {MAX_DAY}."
RANGE = {"start": "2026-11-20", "end": "2026-11-28"}
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def in_shanghai(account):
    # East of UTC: the local midnight of 0001-01-01 lies before the first year datetime holds.
    account.time_zone = "Asia/Shanghai"
    account.save()
    return account


@pytest.mark.parametrize(
    ("name", "day"), [("sent_start", "0001-01-01"), ("sent_end", "9999-12-31")]
)
def test_the_event_api_refuses_a_sending_day_out_of_range(api_client, in_shanghai, name, day):
    response = api_client.get("/api/v1/event-lists/", {**RANGE, name: day})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The request has invalid fields.",
        "details": {name: [OUT_OF_RANGE]},
    }


def test_the_sending_days_at_the_bounds_are_accepted(api_client, in_shanghai):
    response = api_client.get(
        "/api/v1/event-lists/", {**RANGE, "sent_start": MIN_DAY, "sent_end": MAX_DAY}
    )
    assert response.status_code == 200


@SETTINGS
@given(
    zone=st.timezones(),
    name=st.sampled_from(["start", "end", "sent_start", "sent_end"]),
    day=st.dates(),
)
def test_any_day_in_any_zone_lists_rows_or_names_the_field(api_client, account, zone, name, day):
    account.time_zone = zone
    account.save()
    query = {**RANGE, name: day.isoformat()}
    response = api_client.get("/api/v1/event-lists/", query)
    start, end = date.fromisoformat(query["start"]), date.fromisoformat(query["end"])
    if not MIN_DAY <= day <= MAX_DAY:
        assert response.status_code == 400
        assert response.json()["details"] == {name: [OUT_OF_RANGE]}
    elif start <= end and (end - start).days < 31:
        assert response.status_code == 200, response.content[:300]
    else:
        assert response.status_code == 400
        assert OUT_OF_RANGE not in str(response.json())


def test_the_event_api_refuses_a_reversed_sending_range(api_client, account):
    response = api_client.get(
        "/api/v1/event-lists/", {**RANGE, "sent_start": "2026-12-02", "sent_end": "2026-11-20"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The request has invalid fields.",
        "details": {"sent_end": ["'sent_end' must not be before 'sent_start'."]},
    }


@SETTINGS
@given(first=st.dates(MIN_DAY, MAX_DAY), last=st.dates(MIN_DAY, MAX_DAY))
def test_a_sending_range_is_taken_exactly_when_it_is_in_order(api_client, account, first, last):
    query = {**RANGE, "sent_start": first.isoformat(), "sent_end": last.isoformat()}
    response = api_client.get("/api/v1/event-lists/", query)
    if first <= last:
        assert response.status_code == 200, response.content[:300]
    else:
        assert response.status_code == 400
        assert response.json()["details"] == {
            "sent_end": ["'sent_end' must not be before 'sent_start'."]
        }
