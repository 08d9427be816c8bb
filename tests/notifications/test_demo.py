"""The demo points acme's notifications at the local receiver and gives the page attempts."""

from __future__ import annotations

import pytest

from notifications import outbox
from notifications.demo import DEMO_RECEIVER_URL, configure_demo_endpoint
from notifications.models import Endpoint, Notification
from notifications.receiver import Receiver

pytestmark = pytest.mark.django_db


def test_the_demo_endpoint_gets_fresh_traffic_and_a_test_event(account):
    secret = configure_demo_endpoint(account)
    endpoint = Endpoint.objects.get()
    assert endpoint.url == DEMO_RECEIVER_URL and endpoint.secret == secret
    assert Notification.objects.filter(event=None).count() == 1
    assert Notification.objects.exclude(event=None).count() > 5
    assert configure_demo_endpoint(account) is None  # once


def test_the_receiver_verifies_signatures_when_given_the_secret(account):
    with Receiver(secret="whsec_" + "A" * 32) as receiver:
        endpoint, secret = outbox.create_endpoint(account, receiver.url)
        outbox.send_test_event(endpoint)
        outbox.deliver_due(endpoint.pk)
        assert receiver.received[0].verified is False  # another secret
        receiver.secret = secret
        outbox.send_test_event(endpoint)
        outbox.deliver_due(endpoint.pk)
        assert receiver.received[1].verified is True
