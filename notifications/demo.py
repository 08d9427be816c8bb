"""The demo's event-notification endpoint: the `webhook_receiver` command on port 8090."""

from __future__ import annotations

from django.core.management import call_command

from sesconsole.models import Account

from . import outbox
from .models import Endpoint

DEMO_RECEIVER_URL = "http://127.0.0.1:8090/events"


def configure_demo_endpoint(account: Account) -> str | None:
    """Point the account's notifications at the demo receiver and make some fresh traffic.

    Returns the signing secret, or None when the account already has an endpoint.
    Needs WEBHOOKS_ALLOW_PRIVATE_NETWORKS (the receiver is on 127.0.0.1).
    """
    if Endpoint.objects.filter(account=account).exists():
        return None
    endpoint, secret = outbox.create_endpoint(account, DEMO_RECEIVER_URL)
    call_command("simulate_traffic", days=0.05, per_day=400, accounts=account.name, seed=11)
    outbox.send_test_event(endpoint)
    return secret
