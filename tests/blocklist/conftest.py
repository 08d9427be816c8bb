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
    from blocklist.services import Actor

    return Actor(alice, alice.username)


@pytest.fixture
def fresh_broker_pools():
    """Request before `celery_worker_process`: after its teardown closes the broker pool,
    drop kombu's registry of pools and Celery's producer pool, so the next test that
    starts a worker gets open ones instead of the closed pool for the same URL."""
    yield
    from kombu import pools

    from sesconsole.celery import app

    pools.reset()
    app.amqp._producer_pool = None
