from __future__ import annotations

import pytest

from notifications import outbox
from notifications.receiver import Receiver


@pytest.fixture(autouse=True)
def allow_private_networks(settings, monkeypatch):
    """The receiver listens on 127.0.0.1; SSRF tests switch this off again."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true")  # for worker processes


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def endpoint_and_secret(account, receiver):
    return outbox.create_endpoint(account, receiver.url)


@pytest.fixture
def endpoint(endpoint_and_secret):
    return endpoint_and_secret[0]
