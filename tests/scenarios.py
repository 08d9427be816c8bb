"""A seeded delivery-response scenario with known counts, shared by stats and delivery tests."""

from __future__ import annotations

import pytest

from delivery.ingest import ingest_events
from tests.events import make_event

# 2026-11-27 and 2026-11-28 in UTC. Per day: requests, delivered, bounces by class, opens.
SCENARIO_TOTALS = {
    "requests": 6,
    "rejected": 1,
    "delivered": 4,
    "deferred": 1,
    "bounced": 2,
    "bounced_invalid_address": 1,
    "bounced_mailbox_full": 1,
    "bounced_blocked": 0,
    "bounced_spam_rejected": 0,
    "bounced_other": 0,
    "opened": 4,
    "opened_unique": 3,
    "clicked": 2,
    "clicked_unique": 1,
    "complained": 1,
    "unsubscribed": 1,
    # No machine opens or clicks here: human counts equal the totals.
    "opened_human": 4,
    "opened_human_unique": 3,
    "clicked_human": 2,
    "clicked_human_unique": 1,
}

# The scenario plus machine opens and clicks (`engagement_events()`).
ENGAGEMENT_TOTALS = {
    **SCENARIO_TOTALS,
    "opened": 6,
    "opened_unique": 4,
    "opened_human": 4,
    "opened_human_unique": 3,
    "clicked": 4,
    "clicked_unique": 2,
    "clicked_human": 3,
    "clicked_human_unique": 2,
}


def scenario_events() -> list[dict]:
    def msg(n: int, day: str, to: str, sender: str = "news@mail.example.com") -> dict:
        return make_event(
            "request",
            f"m{n}",
            timestamp=f"{day}T09:00:00Z",
            to=to,
            subject=f"Offer {n}",
            **{"from": sender},
        )

    d1, d2 = "2026-11-27", "2026-11-28"
    return [
        msg(1, d1, "ann@gmail.com"),
        msg(2, d1, "bea@gmail.com"),
        msg(3, d1, "cid@yahoo.com"),
        msg(4, d2, "dan@gmail.com"),
        msg(5, d2, "eve@outlook.com", sender="billing@pay.example.com"),
        msg(6, d2, "fay@yahoo.com"),
        make_event(
            "rejected", "m7", timestamp=f"{d2}T09:30:00Z", to="gus@gmail.com", reason="blocklisted"
        ),
        make_event("delivered", "m1", timestamp=f"{d1}T09:01:00Z"),
        make_event("delivered", "m2", timestamp=f"{d1}T09:01:00Z"),
        make_event("delivered", "m4", timestamp=f"{d2}T09:01:00Z"),
        make_event("deferred", "m5", timestamp=f"{d2}T09:01:00Z"),
        make_event("delivered", "m5", timestamp=f"{d2}T09:20:00Z"),
        make_event(
            "bounced",
            "m3",
            timestamp=f"{d1}T09:02:00Z",
            bounce_class="invalid_address",
            smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
        ),
        make_event("bounced", "m6", timestamp=f"{d2}T09:02:00Z", bounce_class="mailbox_full"),
        make_event(
            "opened", "m1", timestamp=f"{d1}T10:00:00Z", user_agent="Mail/1.0", ip="203.0.113.9"
        ),
        make_event("opened", "m1", timestamp=f"{d1}T11:00:00Z", user_agent="Mail/1.0"),
        make_event("opened", "m2", timestamp=f"{d1}T10:30:00Z", user_agent='=HYPERLINK("x")'),
        make_event("opened", "m4", timestamp=f"{d2}T10:00:00Z", user_agent="Mail/2.0"),
        make_event("clicked", "m1", timestamp=f"{d1}T10:01:00Z", url="https://example.com/a"),
        make_event("clicked", "m1", timestamp=f"{d1}T10:02:00Z", url="https://example.com/b"),
        make_event("complained", "m2", timestamp=f"{d1}T12:00:00Z"),
        make_event("unsubscribed", "m4", timestamp=f"{d2}T12:00:00Z"),
    ]


@pytest.fixture
def scenario(account):
    ingest_events(account, scenario_events())
    return SCENARIO_TOTALS


def engagement_events() -> list[dict]:
    """The scenario with privacy-proxy opens and scanner clicks mixed in.

    m1: a proxy fetches the pixel at 09:05, before the reader's opens (10:00, 11:00): the
        unique open sits at 09:05, the unique human open at 10:00.
    m5: opened by a proxy only (counted in totals, never as human).
    m4: a scanner follows the link at 09:05, the reader clicks at 10:05.
    """
    d1, d2 = "2026-11-27", "2026-11-28"
    return [
        *scenario_events(),
        make_event("opened", "m1", timestamp=f"{d1}T09:05:00Z", machine=True),
        make_event("opened", "m5", timestamp=f"{d2}T09:25:00Z", machine=True),
        make_event(
            "clicked", "m4", timestamp=f"{d2}T09:05:00Z", url="https://example.com/c", machine=True
        ),
        make_event("clicked", "m4", timestamp=f"{d2}T10:05:00Z", url="https://example.com/c"),
    ]


@pytest.fixture
def engagement(account):
    ingest_events(account, engagement_events())
    return ENGAGEMENT_TOTALS
