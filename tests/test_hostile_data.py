"""Whatever ingestion accepts, every page and API answer that shows it renders: never a 500.

Hypothesis writes events whose free-text fields (ids, subjects, replies, user agents, URLs,
addresses) hold what a hostile or broken sender might put there; what ingestion refuses is
refused item by item, and what it stores is then read back through the console's pages,
the message pages, the API's lists and details, and the CSV exports.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from delivery.ingest import ingest_events
from delivery.models import Message

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\n",
    "a\nb",
    "\r\n",
    "\u2028",
    "/",
    "a/b/",
    "..",
    "%2F%0A",
    "?x=1#y",
    "<script>alert(1)</script>",
    "\"'`",
    "=cmd|' /C calc'!A0",
    "\u202e\ufeff",
    "é" * 40,
    " padded ",
    "x" * 1000,
]
text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=60),
)
VALID = st.sampled_from(
    ["ann@example.org", "BOB@Example.ORG", "zoë@exämple.org", "o'k@example.org"]
)
# Mostly what ingestion takes, so that the hostile values of the other fields are stored.
addresses = st.one_of(VALID, VALID, VALID, text)
UUIDS = st.uuids().map(str)
TYPES = ["delivered", "bounced", "deferred", "opened", "clicked", "complained", "unsubscribed"]
CLASSES = ["invalid_address", "mailbox_full", "blocked", "spam_rejected", "other", "", "nonsense"]


@st.composite
def messages(draw):
    """One message's events: its request, then some outcomes, each field possibly hostile."""
    message_id = draw(st.one_of(st.sampled_from(HOSTILE), text))
    at = timezone.now() - timedelta(hours=draw(st.integers(1, 30)))
    stamp = lambda minutes: (at + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    events = [
        {
            "id": draw(st.one_of(UUIDS, UUIDS, UUIDS, text)),
            "type": "request",
            "timestamp": stamp(0),
            "message_id": message_id,
            "from": draw(addresses),
            "to": draw(addresses),
            "subject": draw(text),
        }
    ]
    for n, kind in enumerate(draw(st.lists(st.sampled_from(TYPES), max_size=3)), start=1):
        event_id = draw(st.one_of(UUIDS, UUIDS, UUIDS, text))
        event = {"id": event_id, "type": kind, "timestamp": stamp(n), "message_id": message_id}
        if kind in ("delivered", "bounced", "deferred"):
            event["smtp"] = {
                "code": draw(st.one_of(st.integers(200, 599), st.integers(0, 999))),
                "enhanced": draw(st.one_of(st.sampled_from(["5.1.1", "4.2.2", ""]), text)),
                "text": draw(text),
            }
        if kind == "bounced":
            event["bounce_class"] = draw(st.sampled_from(CLASSES))
        if kind in ("opened", "clicked"):
            event["user_agent"] = draw(text)
            event["ip"] = draw(st.one_of(st.sampled_from(["198.51.100.7", "::1"]), text))
        if kind == "clicked":
            event["url"] = draw(st.one_of(st.just("https://example.com/a?b=<c>"), text))
            event["url"] = event["url"] or "https://example.com/"
        events.append(event)
    return events


def _pages(day: str, previous: str) -> list[str]:
    dates = f"start={previous}&end={day}"
    return [
        f"/messages/?{dates}",
        f"/messages/?{dates}&sort=-status",
        f"/queue/?range=custom&{dates}",
        f"/bounced/?{dates}",
        f"/open-click/?{dates}",
        f"/open-click/?{dates}&sort=to",
        f"/spam-reports/?{dates}",
        f"/unsubscriptions/?{dates}",
        f"/bounced/?{dates}&format=csv",
        "/blocklist/",
        "/blocklist/invalid/",
        "/blocklist/invalid/?sort=address",
        "/blocklist/rejects/",
        "/blocklist/history/",
        "/blocklist/invalid/mine/export/",
        "/blocklist/rejects/export/",
    ]


def _api(day: str, previous: str) -> list[str]:
    dates = f"start={previous}&end={day}"
    return [
        f"/api/v1/messages/?{dates}",
        f"/api/v1/messages/export/?{dates}",
        f"/api/v1/event-lists/?{dates}&type=bounced",
        f"/api/v1/event-lists/export/?{dates}&type=clicked",
        f"/api/v1/stats/?{dates}",
        "/api/v1/blocklist/invalid/",
        "/api/v1/blocklist/rejects/",
        "/api/v1/blocklist/history/",
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(messages(), min_size=1, max_size=4))
# Found by hand before this test: a message id with a newline broke every page linking to it.
@example(
    batch=[
        [
            {
                "id": "e-nl",
                "type": "request",
                "timestamp": (timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "message_id": "a\nb",
                "from": "news@mail.example.com",
                "to": "ann@example.org",
                "subject": "s",
            }
        ]
    ]
)
def test_stored_hostile_values_never_make_a_500(account, alice, api_key, batch):
    page = Client(raise_request_exception=False)
    page.force_login(alice)
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    today = timezone.now().date()
    day, previous = today.isoformat(), (today - timedelta(days=2)).isoformat()
    with transaction.atomic():
        for events in batch:
            ingest_events(account, events)  # refused items are reported, not raised
        ids = list(Message.objects.filter(account=account).values_list("message_id", flat=True))
        urls = [(page, u) for u in _pages(day, previous)] + [(api, u) for u in _api(day, previous)]
        for message_id in ids:
            urls.append((page, f"/messages/id/{quote(message_id, safe='')}/"))
            urls.append((api, f"/api/v1/messages/{quote(message_id, safe='')}/"))
        failures = []
        for client, url in urls:
            response = client.get(url)
            if response.status_code >= 500:
                failures.append((url, response.status_code))
        transaction.set_rollback(True)
    assert not failures, failures
