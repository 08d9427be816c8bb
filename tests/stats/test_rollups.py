"""Rollups counted live by ingestion equal a rebuild from the events, whatever the order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from delivery.ingest import ingest_events
from stats.models import Rollup
from stats.rollups import rebuild
from stats.services import series
from tests.events import make_event

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 28)


def _totals(account, **filters) -> dict:
    return series(account, DAY, DAY, "day", **filters)["totals"]


def _rebuilt_totals(account, **filters) -> dict:
    rebuild(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    return _totals(account, **filters)


def test_it_counts_each_event_type_once(account):
    events = [
        make_event("request", "m1", timestamp="2026-11-28T10:00:00Z"),
        make_event("delivered", "m1", timestamp="2026-11-28T10:00:05Z"),
        make_event("opened", "m1", timestamp="2026-11-28T10:05:00Z"),
        make_event("opened", "m1", timestamp="2026-11-28T10:06:00Z"),
        make_event("clicked", "m1", timestamp="2026-11-28T10:07:00Z", url="https://x.test/"),
        make_event("request", "m2", timestamp="2026-11-28T10:00:00Z"),
        make_event("bounced", "m2", timestamp="2026-11-28T10:01:00Z", bounce_class="mailbox_full"),
        make_event("rejected", "m3", timestamp="2026-11-28T11:00:00Z", reason="blocklisted"),
    ]
    ingest_events(account, events)
    ingest_events(account, events)  # a retry changes nothing
    totals = _totals(account)
    assert totals["requests"] == 2
    assert totals["delivered"] == 1
    assert totals["bounced"] == 1
    assert totals["bounced_mailbox_full"] == 1
    assert totals["rejected"] == 1
    assert (totals["opened"], totals["opened_unique"]) == (2, 1)
    assert (totals["clicked"], totals["clicked_unique"]) == (1, 1)
    assert _rebuilt_totals(account) == totals


def test_it_moves_the_unique_open_to_the_earliest_open(account):
    ingest_events(account, [make_event("request", "m1", timestamp="2026-11-28T08:00:00Z")])
    ingest_events(account, [make_event("opened", "m1", timestamp="2026-11-28T12:00:00Z")])
    ingest_events(account, [make_event("opened", "m1", timestamp="2026-11-28T09:00:00Z")])
    hours = series(account, DAY, DAY, "hour")["buckets"]
    unique = {b["start"]: b["opened_unique"] for b in hours if b["opened_unique"]}
    assert unique == {"2026-11-28T09:00:00Z": 1}
    assert _totals(account)["opened"] == 2
    rebuilt = _rebuilt_totals(account)
    assert series(account, DAY, DAY, "hour")["buckets"] == hours
    assert rebuilt["opened_unique"] == 1


def test_it_moves_counts_to_the_domains_a_late_request_brings(account):
    ingest_events(
        account,
        [
            make_event("delivered", "m1", timestamp="2026-11-28T10:01:00Z"),
            make_event("opened", "m1", timestamp="2026-11-28T10:02:00Z"),
        ],
    )
    assert _totals(account, recipient_domain="gmail.com")["delivered"] == 0
    ingest_events(account, [make_event("request", "m1", timestamp="2026-11-28T10:00:00Z")])
    by_domain = _totals(account, sender_domain="mail.example.com", recipient_domain="gmail.com")
    assert (by_domain["requests"], by_domain["delivered"], by_domain["opened_unique"]) == (1, 1, 1)
    blank = Rollup.objects.filter(recipient_domain="").exclude(delivered=0, opened_unique=0)
    assert not blank.exists()
    assert (
        _rebuilt_totals(account, sender_domain="mail.example.com", recipient_domain="gmail.com")
        == by_domain
    )


def test_it_keeps_days_exact_in_a_half_hour_zone(account):
    account.time_zone = "Asia/Kolkata"
    account.save()
    # 18:29 UTC is 23:59 on the 28th in Kolkata; 18:30 UTC is the 29th.
    ingest_events(
        account,
        [
            make_event("request", "m1", timestamp="2026-11-28T18:29:00Z"),
            make_event("request", "m2", timestamp="2026-11-28T18:30:00Z"),
        ],
    )
    days = series(account, DAY, date(2026, 11, 29), "day")
    assert [(b["start"], b["requests"]) for b in days["buckets"]] == [
        ("2026-11-28T00:00:00+05:30", 1),
        ("2026-11-29T00:00:00+05:30", 1),
    ]
    assert days["timezone"] == "Asia/Kolkata"


def test_it_keeps_accounts_apart(account, other_account):
    ingest_events(account, [make_event("request", "m1", timestamp="2026-11-28T10:00:00Z")])
    assert _totals(other_account)["requests"] == 0
    assert _totals(account)["requests"] == 1
