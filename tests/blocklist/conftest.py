"""Helpers for blocklist tests: blocks made through the real ingestion pipeline."""

from __future__ import annotations

import itertools

import pytest

from delivery.ingest import ingest_events
from tests.events import make_event

_n = itertools.count(1)


def bounce(account, to: str, bounce_class: str = "invalid_address", **fields):
    """Ingest a request and a bounce for `to`; returns the ingest result of the bounce."""
    mid = f"m-{next(_n)}"
    ingest_events(account, [make_event("request", mid, to=to)])
    smtp = fields.pop("smtp", {"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"})
    return ingest_events(
        account,
        [make_event("bounced", mid, to=to, smtp=smtp, bounce_class=bounce_class, **fields)],
    )


def recipient_event(account, to: str, type: str, **fields):
    mid = f"m-{next(_n)}"
    ingest_events(account, [make_event("request", mid, to=to)])
    return ingest_events(account, [make_event(type, mid, **fields)])


@pytest.fixture
def actor(alice):
    from blocklist.changes import Actor

    return Actor(alice, alice.username)
