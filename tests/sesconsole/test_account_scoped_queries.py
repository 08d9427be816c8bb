"""Every query the console and the API run on events, messages and rollups names the account.

Distributing these tables by account (Citus, docs/scaling.md) routes a query to one node
only when each of them is constrained by `account_id`; a query that reaches a message by
its id alone, or joins events to messages on the message id only, would fan out to every
node. Pages and API lists are rendered as a member (not staff) and each captured SQL
statement is checked: every reference to one of these tables carries an `account_id`
predicate of its own. (CSV exports on PostgreSQL stream through COPY on the raw psycopg
connection, which Django's query capture does not see; they are left out here.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delivery.ingest import ingest_events
from tests.events import make_event

SCOPED_TABLES = ("delivery_deliveryevent", "delivery_message", "stats_rollup")
_KEYWORDS = {
    "where",
    "inner",
    "left",
    "right",
    "join",
    "on",
    "group",
    "order",
    "limit",
    "union",
    "as",
    "cross",
    "full",
    "outer",
    "natural",
    "using",
    "set",
    "returning",
    "window",
    "having",
    "offset",
    "for",
}


def unscoped_references(sql: str) -> list[str]:
    """The references to SCOPED_TABLES in `sql` that have no account_id predicate."""
    missing = []
    for table in SCOPED_TABLES:
        pattern = rf'(?:FROM|JOIN)\s+"?{table}"?(?:\s+(?:AS\s+)?"?(\w+)"?)?'
        for match in re.finditer(pattern, sql, flags=re.IGNORECASE):
            alias = match.group(1)
            if alias is None or alias.lower() in _KEYWORDS:
                alias = table
            qualified = rf'"?{re.escape(alias)}"?\."?account_id"?\s*(?:=|IN\b)'
            # Raw SQL over one table may leave the column unqualified.
            lone = r'(?<![\w."])"?account_id"?\s*(?:=|IN\b)'
            tables_in_query = sum(
                len(re.findall(rf'(?:FROM|JOIN)\s+"?{t}"?\b', sql, re.IGNORECASE))
                for t in SCOPED_TABLES
            )
            if re.search(qualified, sql, re.IGNORECASE):
                continue
            if tables_in_query == 1 and re.search(lone, sql, re.IGNORECASE):
                continue
            missing.append(f"{table} (as {alias})")
    return missing


def test_the_checker_flags_what_it_should():
    assert (
        unscoped_references(
            'SELECT * FROM "delivery_message" WHERE "delivery_message"."account_id" = 1'
        )
        == []
    )
    assert unscoped_references(
        'SELECT * FROM "delivery_deliveryevent" INNER JOIN "delivery_message" ON '
        '("delivery_deliveryevent"."message_id" = "delivery_message"."id") '
        'WHERE "delivery_deliveryevent"."account_id" = 1'
    ) == ["delivery_message (as delivery_message)"]
    assert (
        unscoped_references(
            "SELECT count(*) FROM stats_rollup r WHERE r.account_id = %s AND size = 60"
        )
        == []
    )
    assert unscoped_references('SELECT * FROM "delivery_message" WHERE "id" = 3') == [
        "delivery_message (as delivery_message)"
    ]


@pytest.fixture
def traffic(account, other_account):
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = lambda minutes: (now - timedelta(minutes=minutes)).isoformat()  # noqa: E731
    for acct in (account, other_account):
        ingest_events(
            acct,
            [
                make_event("request", "m1", timestamp=stamp(90)),
                make_event("delivered", "m1", timestamp=stamp(89)),
                make_event("opened", "m1", timestamp=stamp(60)),
                make_event("clicked", "m1", timestamp=stamp(59), url="https://shop.example/a"),
                make_event("unsubscribed", "m1", timestamp=stamp(58)),
                make_event("request", "m2", timestamp=stamp(80), to="bob@qq.com"),
                make_event(
                    "bounced",
                    "m2",
                    timestamp=stamp(79),
                    smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 unknown"},
                ),
                make_event("request", "m3", timestamp=stamp(70), to="carol@outlook.com"),
                make_event("complained", "m3", timestamp=stamp(50)),
            ],
        )
    return now


def _check(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
    problems = []
    for query in queries.captured_queries:
        for reference in unscoped_references(query["sql"]):
            problems.append(f"{url}: {reference}: {query['sql'][:300]}")
    touched = [q for q in queries.captured_queries if any(t in q["sql"] for t in SCOPED_TABLES)]
    assert touched, f"{url} read none of the scoped tables: the check would prove nothing"
    return problems


PAGES = [
    "/messages/",
    "/messages/?recipient=alice@gmail.com",
    "/messages/id/m1/",
    "/queue/",
    "/queue/?range=1h",
    "/queue/?range=30d",
    "/queue/?range=30d&recipient_domain=gmail.com",
    "/queue/?format=json",
    "/open-click/",
    "/bounced/",
    "/spam-reports/",
    "/unsubscriptions/",
]


def test_console_pages_filter_every_query_on_the_account(alice_client, traffic):
    problems = [p for url in PAGES for p in _check(alice_client, url)]
    assert problems == []


def test_api_lists_filter_every_query_on_the_account(api_client, traffic):
    today = traffic.date()
    days = f"start={today - timedelta(days=1)}&end={today}"
    urls = [
        f"/api/v1/stats/?{days}",
        f"/api/v1/stats/?{days}&granularity=hour&recipient_domain=gmail.com",
        f"/api/v1/messages/?{days}",
        "/api/v1/messages/m1/",
        f"/api/v1/event-lists/?type=opened&{days}",
        f"/api/v1/event-lists/?type=bounced&{days}",
    ]
    problems = [p for url in urls for p in _check(api_client, url)]
    assert problems == []
