"""Human opens and clicks: counted beside the totals, live and rebuilt alike."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum

from delivery.ingest import ingest_events
from stats.models import COUNTERS, Rollup, TrackedDomain
from stats.services import series
from tests.events import make_event
from tests.scenarios import ENGAGEMENT_TOTALS, engagement_events

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/"
RANGE = {"start": "2026-11-27", "end": "2026-11-28"}
DAY = date(2026, 11, 28)
HUMAN = ["opened_human", "opened_human_unique", "clicked_human", "clicked_human_unique"]


def _snapshot() -> dict:
    keys = ("account_id", "size", "bucket", "sender_domain", "recipient_domain")
    rows = Rollup.objects.values(*keys).annotate(**{c: Sum(c) for c in COUNTERS})
    out = {}
    for row in rows:
        key = tuple(row.pop(k) for k in keys)
        if any(row.values()):
            out[key] = row
    return out


def _hourly(account, counter: str) -> dict[str, int]:
    hours = series(account, DAY, DAY, "hour")["buckets"]
    return {b["start"]: b[counter] for b in hours if b[counter]}


@time_machine.travel("2026-11-29T00:00:00Z", tick=False)
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_shuffled_machine_and_human_events_count_like_a_rebuild(account, seed):
    events = engagement_events()
    rng = random.Random(seed)
    rng.shuffle(events)
    cut = sorted(rng.sample(range(1, len(events)), 5))
    for start, stop in zip([0, *cut], [*cut, len(events)], strict=True):
        ingest_events(account, events[start:stop])
    live = _snapshot()
    totals = series(account, date(2026, 11, 27), DAY, "day")["totals"]
    assert totals == ENGAGEMENT_TOTALS
    call_command("rebuild_stats", "--since", "2026-11-27", "--until", "2026-11-29")
    assert _snapshot() == live


# Minute rows are rebuilt only within MINUTE_RETENTION of now, so the clock is pinned.
@time_machine.travel("2026-11-29T00:00:00Z", tick=False)
def test_the_unique_human_open_follows_the_earliest_human_open(account):
    ingest_events(account, [make_event("request", "m1", timestamp="2026-11-28T08:00:00Z")])
    ingest_events(account, [make_event("opened", "m1", timestamp="2026-11-28T12:00:00Z")])
    # A proxy prefetch earlier than every open moves the unique open, not the human one.
    ingest_events(
        account, [make_event("opened", "m1", timestamp="2026-11-28T08:30:00Z", machine=True)]
    )
    ingest_events(account, [make_event("opened", "m1", timestamp="2026-11-28T10:00:00Z")])
    assert _hourly(account, "opened_unique") == {"2026-11-28T08:00:00Z": 1}
    assert _hourly(account, "opened_human_unique") == {"2026-11-28T10:00:00Z": 1}
    assert _hourly(account, "opened") == {
        "2026-11-28T08:00:00Z": 1,
        "2026-11-28T10:00:00Z": 1,
        "2026-11-28T12:00:00Z": 1,
    }
    assert _hourly(account, "opened_human") == {
        "2026-11-28T10:00:00Z": 1,
        "2026-11-28T12:00:00Z": 1,
    }
    live = _snapshot()
    call_command("rebuild_stats", "--since", "2026-11-28", "--until", "2026-11-29")
    assert _snapshot() == live


def test_a_message_clicked_only_by_a_scanner_has_no_human_click(account):
    TrackedDomain.objects.create(
        account=account,
        side="sender",
        domain="mail.example.com",
        since=datetime(2026, 1, 1, tzinfo=UTC),
    )
    scan = make_event(
        "clicked", "m1", timestamp="2026-11-28T09:00:00Z", url="https://x.test/", machine=True
    )
    assert ingest_events(account, [scan]).accepted == 1
    ingest_events(account, [make_event("request", "m1", timestamp="2026-11-28T08:00:00Z")])
    totals = series(account, DAY, DAY, "day")["totals"]
    assert (totals["clicked"], totals["clicked_unique"]) == (1, 1)
    assert (totals["clicked_human"], totals["clicked_human_unique"]) == (0, 0)
    # Counted under the domains the request brought, like every other counter.
    moved = Rollup.objects.filter(size=60, sender_domain="mail.example.com").aggregate(
        clicked=Sum("clicked"), clicked_unique=Sum("clicked_unique"), human=Sum("clicked_human")
    )
    assert moved == {"clicked": 1, "clicked_unique": 1, "human": 0}
    assert not Rollup.objects.filter(sender_domain="").exclude(clicked=0, clicked_unique=0)


def test_the_payload_carries_the_human_counters(api_client, engagement):
    body = api_client.get(URL, {**RANGE, "granularity": "day"}).json()
    common = {
        "bounced_blocked": 0,
        "bounced_spam_rejected": 0,
        "bounced_other": 0,
    }
    first = {
        "start": "2026-11-27T00:00:00Z",
        "requests": 3,
        "rejected": 0,
        "delivered": 2,
        "deferred": 0,
        "bounced": 1,
        "bounced_invalid_address": 1,
        "bounced_mailbox_full": 0,
        **common,
        "opened": 4,
        "opened_unique": 2,
        "clicked": 2,
        "clicked_unique": 1,
        "complained": 1,
        "unsubscribed": 0,
        "opened_human": 3,
        "opened_human_unique": 2,
        "clicked_human": 2,
        "clicked_human_unique": 1,
    }
    second = {
        "start": "2026-11-28T00:00:00Z",
        "requests": 3,
        "rejected": 1,
        "delivered": 2,
        "deferred": 1,
        "bounced": 1,
        "bounced_invalid_address": 0,
        "bounced_mailbox_full": 1,
        **common,
        "opened": 2,
        "opened_unique": 2,
        "clicked": 2,
        "clicked_unique": 1,
        "complained": 0,
        "unsubscribed": 1,
        "opened_human": 1,
        "opened_human_unique": 1,
        "clicked_human": 1,
        "clicked_human_unique": 1,
    }
    assert body["buckets"] == [first, second]
    assert body["totals"] == engagement
    # New counters come last; the older ones keep their places.
    assert list(body["totals"])[-4:] == HUMAN
    assert list(body["totals"])[:-4] == [k for k in first if k != "start"][:-4]


@time_machine.travel("2026-11-29T00:00:00Z", tick=False)
def test_hours_place_the_unique_human_counts_at_the_first_human_event(api_client, engagement):
    hours = api_client.get(URL, {**RANGE, "granularity": "hour"}).json()["buckets"]

    def at(counter: str) -> dict:
        return {b["start"]: b[counter] for b in hours if b[counter]}

    # m1: proxy open 09:05, reader 10:00; m2: reader 10:30; m4: reader 10:00; m5: proxy only.
    assert at("opened_unique") == {
        "2026-11-27T09:00:00Z": 1,
        "2026-11-27T10:00:00Z": 1,
        "2026-11-28T09:00:00Z": 1,
        "2026-11-28T10:00:00Z": 1,
    }
    assert at("opened_human_unique") == {"2026-11-27T10:00:00Z": 2, "2026-11-28T10:00:00Z": 1}
    # m4: scanner 09:05, reader 10:05.
    assert at("clicked_unique") == {"2026-11-27T10:00:00Z": 1, "2026-11-28T09:00:00Z": 1}
    assert at("clicked_human_unique") == {"2026-11-27T10:00:00Z": 1, "2026-11-28T10:00:00Z": 1}


def test_the_counts_csv_has_the_human_columns(api_client, engagement):
    response = api_client.get(URL, {**RANGE, "format": "csv"})
    text = b"".join(response.streaming_content).decode()
    header = text.splitlines()[0].split(",")
    # The counters come last but for the zone columns every CSV ends with.
    assert header[-6:-2] == HUMAN
    assert header[-2:] == ["bucket_start_local", "time_zone"]
    rows = list(csv.DictReader(io.StringIO(text)))
    for counter in HUMAN:
        assert sum(int(r[counter]) for r in rows) == engagement[counter]


def test_human_counts_stay_with_their_account(api_client, other_api_client, account, other_account):
    ingest_events(account, engagement_events())
    # The other account's reader opens m1 too, with the same message ids.
    ingest_events(
        other_account,
        [
            make_event("request", "m1", timestamp="2026-11-27T09:00:00Z"),
            make_event("opened", "m1", timestamp="2026-11-27T09:30:00Z"),
        ],
    )
    ours = api_client.get(URL, RANGE).json()["totals"]
    theirs = other_api_client.get(URL, RANGE).json()["totals"]
    assert {c: ours[c] for c in HUMAN} == {c: ENGAGEMENT_TOTALS[c] for c in HUMAN}
    assert {c: theirs[c] for c in HUMAN} == {
        "opened_human": 1,
        "opened_human_unique": 1,
        "clicked_human": 0,
        "clicked_human_unique": 0,
    }


# ---------------------------------------------------------------------------------------
# The Open/Click page.


@time_machine.travel("2026-11-28T13:00:00Z", tick=False)
def test_open_click_shows_human_counts_beside_the_totals(alice_client, engagement):
    response = alice_client.get("/open-click/", RANGE)
    assert response.status_code == 200
    totals = dict(response.context["totals"])
    assert totals == {
        "Opens": 6,
        "Human opens": 4,
        "Unique opens": 4,
        "Unique human opens": 3,
        "Clicks": 4,
        "Human clicks": 3,
        "Unique clicks": 2,
        "Unique human clicks": 2,
    }
    html = response.content.decode()
    tiles = re.findall(
        r'<div class="label">([^<]+)</div><div class="value" data-total="\d+">(\d+)</div>', html
    )
    assert ("Human opens", "4") in tiles
    assert ("Unique human clicks", "2") in tiles
    table = html[html.index('id="counts-table"') : html.index("</table>")]
    assert '<th scope="col" class="num">Human opens</th>' in table
    assert [d["values"] for d in response.context["days"]] == [
        [4, 3, 2, 2, 2, 2, 1, 1],
        [2, 1, 2, 1, 2, 1, 1, 1],
    ]
    chart = json.loads(
        re.search(
            r'<script id="report-chart-data" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    human = {d["key"]: d["data"] for d in chart["datasets"] if "_human" in d["key"]}
    assert human["opened_human"] == [3, 1]
    # Machine events are marked in the event list.
    assert html.count('<span class="badge machine"') == 3
    counts = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    alice_client.get(
                        "/open-click/", {**RANGE, "export": "counts"}
                    ).streaming_content
                ).decode()
            )
        )
    )
    assert [r["clicked_human"] for r in counts] == ["2", "1"]


def test_the_message_timeline_marks_machine_events(alice_client, engagement):
    html = alice_client.get("/messages/id/m1/").content.decode()
    assert html.count('<span class="badge machine"') == 1


@time_machine.travel("2026-11-28T13:00:00Z", tick=False)
def test_bob_sees_no_human_counts_of_acme(client, bob, engagement):
    client.force_login(bob)
    response = client.get("/open-click/", RANGE)
    assert response.status_code == 200
    totals = dict(response.context["totals"])
    assert totals["Human opens"] == totals["Unique human clicks"] == 0
    assert all(v == 0 for v in totals.values())
    assert 'class="badge machine"' not in response.content.decode()


def test_the_schema_documents_the_human_counters(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    for name in ("StatsTotals", "StatsBucket"):
        assert set(HUMAN) <= set(components[name]["properties"])
        assert set(HUMAN) <= set(components[name]["required"])
