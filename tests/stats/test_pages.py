"""Console pages: the numbers they show, their CSV exports, and tenant isolation."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import time_machine

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = "2026-11-28T13:00:00Z"
RANGE = {"start": "2026-11-27", "end": "2026-11-28"}
REPORTS = ["/open-click/", "/spam-reports/", "/bounced/", "/unsubscriptions/"]


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # console downloads carry a BOM for Excel
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


@time_machine.travel(NOW, tick=False)
def test_queue_status_shows_totals_and_chart_data(alice_client, scenario):
    response = alice_client.get("/queue/", {"range": "7d"})
    assert response.status_code == 200
    tiles = {t["key"]: t["value"] for t in response.context["tiles"]}
    assert (tiles["requests"], tiles["delivered"], tiles["bounced"], tiles["rejected"]) == (
        6,
        4,
        2,
        1,
    )
    chart = response.context["payload"]["chart"]
    sent = next(d for d in chart["datasets"] if d["key"] == "requests")
    assert sum(sent["data"]) == 6
    assert len(chart["labels"]) == 7 * 24
    assert "vendor/chart.js/dist/chart.umd.min.js" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_queue_status_live_ranges_refresh_as_json(alice_client, scenario):
    hour = alice_client.get("/queue/", {"range": "1h", "format": "json"}).json()
    assert len(hour["chart"]["labels"]) == 60
    day = alice_client.get("/queue/", {"range": "24h", "format": "json"}).json()
    assert {t["key"]: t["value"] for t in day["tiles"]}["requests"] == 3
    assert day["as_of"].startswith("2026-11-28 13:00")


@time_machine.travel(NOW, tick=False)
def test_queue_status_filters_by_domain_from_the_accounts_choices(alice_client, scenario):
    response = alice_client.get("/queue/", {"range": "7d", "sender_domain": "pay.example.com"})
    assert {t["key"]: t["value"] for t in response.context["tiles"]}["requests"] == 1
    suggested = response.context["form"].fields["recipient_domain"].widget.suggestions
    assert suggested == ["gmail.com", "outlook.com", "yahoo.com"]
    html = response.content.decode()
    assert 'list="id_recipient_domain-suggestions"' in html
    assert '<datalist id="id_recipient_domain-suggestions"><option value="gmail.com">' in html
    assert "data-suggest" not in html, "all of them are on the page: nothing to ask for"
    bad = alice_client.get("/queue/", {"range": "7d", "sender_domain": "evil.example"})
    assert bad.context["form"].errors
    typed = alice_client.get("/queue/", {"range": "7d", "sender_domain": " PAY.Example.com. "})
    assert typed.context["form"].cleaned_data["sender_domain"] == "pay.example.com"
    assert {t["key"]: t["value"] for t in typed.context["tiles"]}["requests"] == 1


@time_machine.travel(NOW, tick=False)
def test_queue_status_custom_range_and_csv(alice_client, scenario):
    response = alice_client.get("/queue/", {"range": "custom", **RANGE, "export": "csv"})
    rows = _csv(response)
    assert len(rows) == 48  # two days by the hour
    assert sum(int(r["requests"]) for r in rows) == 6
    assert sum(int(r["bounced"]) for r in rows) == 2


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("url", "counter", "total", "rows"),
    [
        ("/open-click/", "opened", 4, 6),
        ("/spam-reports/", "complained", 1, 1),
        ("/bounced/", "bounced", 2, 2),
        ("/unsubscriptions/", "unsubscribed", 1, 1),
    ],
)
def test_reports_agree_with_their_exports(alice_client, scenario, url, counter, total, rows):
    response = alice_client.get(url, RANGE)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == rows
    labels = dict(response.context["report"].counters)
    assert dict(response.context["totals"])[labels[counter]] == total
    counts = _csv(alice_client.get(url, {**RANGE, "export": "counts"}))
    assert sum(int(r[counter]) for r in counts) == total
    events = _csv(alice_client.get(url, {**RANGE, "export": "rows"}))
    assert len(events) == rows
    assert all(r["timestamp_ms"].isdigit() and r["timestamp"].endswith("Z") for r in events)


@time_machine.travel(NOW, tick=False)
def test_bounced_splits_by_class(alice_client, scenario):
    response = alice_client.get("/bounced/", RANGE)
    totals = dict(response.context["totals"])
    assert (totals["Invalid address"], totals["Mailbox full"], totals["Blocked"]) == (1, 1, 0)
    only = alice_client.get("/bounced/", {**RANGE, "bounce_class": "mailbox_full"})
    assert [e.message.message_id for e in only.context["page"]] == ["m6"]


@time_machine.travel(NOW, tick=False)
def test_reports_refuse_unbounded_ranges(alice_client, scenario):
    response = alice_client.get("/open-click/", {"start": "2026-01-01", "end": "2026-11-28"})
    assert response.status_code == 400
    assert "at most 31 days" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_email_status_searches_sorts_and_exports(alice_client, scenario):
    response = alice_client.get("/messages/", {**RANGE, "sort": "to"})
    assert response.status_code == 200
    recipients = [m.recipient for m in response.context["page"]]
    assert recipients[:2] == ["ann@gmail.com", "bea@gmail.com"]
    found = alice_client.get("/messages/", {**RANGE, "recipient": "dan@gmail.com"})
    assert [m.message_id for m in found.context["page"]] == ["m4"]
    bounced = alice_client.get("/messages/", {**RANGE, "status": "bounced"})
    assert {m.message_id for m in bounced.context["page"]} == {"m3", "m6"}
    rows = _csv(alice_client.get("/messages/", {**RANGE, "export": "csv"}))
    assert len(rows) == 7


def test_message_detail_shows_the_timeline(alice_client, scenario):
    response = alice_client.get("/messages/id/m1/")
    assert response.status_code == 200
    assert [e.type for e in response.context["events"]][:2] == ["request", "delivered"]


# --- tenant isolation: Bob of globex sees none of acme's data, on any page or export -----


@time_machine.travel(NOW, tick=False)
def test_bob_sees_nothing_of_acme(bob_client, scenario):
    page = bob_client.get("/queue/", {"range": "7d"})
    assert all(t["value"] == 0 for t in page.context["tiles"])
    assert page.context["form"].fields["sender_domain"].widget.suggestions == []
    for side in ("sender", "recipient"):
        assert bob_client.get("/domains/", {"side": side}).json() == {"domains": []}
    assert all(int(r["requests"]) == 0 for r in _csv(bob_client.get("/queue/", {"export": "csv"})))
    data = bob_client.get("/queue/", {"format": "json"}).json()
    assert all(t["value"] == 0 for t in data["tiles"])
    for url in REPORTS:
        response = bob_client.get(url, RANGE)
        assert response.context["page"].paginator.count == 0
        assert all(v == 0 for _, v in response.context["totals"])
        assert _csv(bob_client.get(url, {**RANGE, "export": "rows"})) == []
        counts = _csv(bob_client.get(url, {**RANGE, "export": "counts"}))
        assert all(
            int(v) == 0
            for r in counts
            for k, v in r.items()
            if not k.startswith("bucket_start") and k != "time_zone"
        )
    assert bob_client.get("/messages/", RANGE).context["page"].paginator.count == 0
    assert _csv(bob_client.get("/messages/", {**RANGE, "export": "csv"})) == []
    assert bob_client.get("/messages/id/m1/").status_code == 404


def test_a_member_of_both_sees_the_account_they_chose(client, scenario, account, other_account):
    user = UserFactory(username="carol")
    MembershipFactory(account=account, user=user)
    MembershipFactory(account=other_account, user=user)
    client.force_login(user)
    client.post("/account/switch/", {"account": other_account.pk, "next": "/messages/"})
    assert client.get("/messages/id/m1/").status_code == 404
    client.post("/account/switch/", {"account": account.pk, "next": "/messages/"})
    assert client.get("/messages/id/m1/").status_code == 200


def test_pages_need_a_sign_in(client):
    for url in ["/queue/", "/messages/", *REPORTS]:
        assert client.get(url).status_code == 302


def test_a_user_without_an_account_is_told_so(client, db):
    client.force_login(UserFactory(username="dave"))
    for url in ["/queue/", "/messages/", *REPORTS]:
        assert client.get(url).status_code == 403


def test_chart_data_is_embedded_as_json(alice_client, scenario):
    html = alice_client.get("/queue/", {"range": "30d"}).content.decode()
    match = re.search(r'<script id="queue-chart-data" type="application/json">(.*?)</script>', html)
    data = json.loads(match.group(1))
    assert [d["label"] for d in data["datasets"]] == ["Sent", "Delivered", "Bounced", "Rejected"]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({}, 6),
        ({"recipient_domain": "yahoo.com"}, 0),
        ({"sent_start": "2026-11-28"}, 1),  # a real count: rollups know no sending time
    ],
)
def test_the_event_count_matches_the_rows(alice_client, scenario, params, count):
    response = alice_client.get("/open-click/", {**RANGE, **params})
    page = response.context["page"]
    assert page.paginator.count == count == len(page.object_list)


@time_machine.travel(NOW, tick=False)
def test_the_bounce_count_follows_the_class(alice_client, scenario):
    page = alice_client.get("/bounced/", {**RANGE, "bounce_class": "invalid_address"}).context[
        "page"
    ]
    assert page.paginator.count == len(page.object_list) == 1


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("sort", ["-time", "time"])
def test_opens_and_clicks_come_in_time_order_across_pages(
    alice_client, scenario, sort, monkeypatch
):
    monkeypatch.setattr("stats.views.PAGE_SIZE", 4)
    seen = []
    for number in (1, 2, 3):
        response = alice_client.get("/open-click/", {**RANGE, "sort": sort, "page": number})
        seen += [(e.timestamp, e.type) for e in response.context["page"].object_list]
        if not response.context["page"].has_next():
            break
    assert number == 2
    assert len(seen) == 6
    assert seen == sorted(seen, key=lambda s: s[0], reverse=sort == "-time")
