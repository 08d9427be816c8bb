"""Act where you look: remove or whitelist from the query, a bounced row, a bounced message."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from blocklist import actions, changes, custom
from blocklist.models import Block, History, Whitelist
from delivery.models import Message
from tests.blocklist.conftest import bounce, recipient_event

pytestmark = pytest.mark.django_db


def _forms(html: str, address: str) -> list[str]:
    """The action buttons offered in the row of `address`."""
    import re

    row = re.search(rf'<tr data-address="{re.escape(address)}">(.*?)</tr>', html, re.S).group(1)
    return re.findall(r'data-offer="(\w+)"', row)


def test_the_query_offers_the_action_that_applies(alice_client, account, other_account):
    bounce(account, "mine@example.com")
    bounce(other_account, "theirs@example.com")
    bounce(other_account, "vouched@example.com")
    actions.whitelist_addresses(account, ["vouched@example.com"], actor=changes.SYSTEM)
    recipient_event(account, "quit@example.com", "unsubscribed")
    custom.add_custom_blocks(account, ["vip@example.com"], actor=changes.SYSTEM)
    names = ["mine", "theirs", "vouched", "quit", "vip", "fine"]
    q = "\n".join(f"{name}@example.com" for name in names)
    html = alice_client.get(reverse("blocklist:overview"), {"q": q}).content.decode()
    assert _forms(html, "mine@example.com") == ["remove"]
    assert _forms(html, "theirs@example.com") == ["whitelist"]
    assert _forms(html, "vouched@example.com") == ["unwhitelist"]
    assert _forms(html, "quit@example.com") == ["remove"]
    assert _forms(html, "vip@example.com") == ["delete"]
    assert _forms(html, "fine@example.com") == []
    assert 'data-confirm="Whitelist theirs@example.com for your account?' in html


def test_acting_from_the_query_returns_to_it_and_writes_history(
    alice_client, account, other_account
):
    bounce(other_account, "theirs@example.com")
    back = reverse("blocklist:overview") + "?q=theirs%40example.com"
    r = alice_client.post(
        reverse("blocklist:invalid_whitelist"),
        {"addresses": "theirs@example.com", "next": back},
    )
    assert r.status_code == 302 and r["Location"] == back
    assert Whitelist.objects.active().for_account(account).count() == 1
    assert History.objects.filter(action=History.Action.WHITELISTED, account=account).count() == 1


def test_next_never_leaves_the_site(alice_client, account):
    bounce(account, "mine@example.com")
    r = alice_client.post(
        reverse("blocklist:invalid_remove"),
        {"addresses": "mine@example.com", "next": "//evil.example/"},
    )
    assert r["Location"] == reverse("blocklist:my_triggers")


def test_the_api_check_links_to_the_actions(api_client, account, other_account):
    bounce(account, "mine@example.com")
    bounce(other_account, "theirs@example.com")
    r = api_client.post(
        "/api/v1/blocklist/check/",
        {"addresses": ["mine@example.com", "theirs@example.com", "fine@example.com"]},
        format="json",
    )
    results = {v["address"]: v["actions"] for v in r.json()["results"]}
    assert results["mine@example.com"] == [
        {
            "action": "remove",
            "label": "Remove block",
            "method": "POST",
            "url": "/api/v1/blocklist/invalid/remove/",
            "body": {"addresses": ["mine@example.com"]},
        }
    ]
    assert [a["url"] for a in results["theirs@example.com"]] == [
        "/api/v1/blocklist/invalid/whitelist/"
    ]
    assert results["fine@example.com"] == []
    # The link works as given.
    action = results["theirs@example.com"][0]
    assert api_client.post(action["url"], action["body"], format="json").json()["done"] == [
        "theirs@example.com"
    ]


# The page shows the last 7 days by default, and the bounces are of 2026-11-28.
@time_machine.travel("2026-11-28T13:00:00Z", tick=False)
def test_bounced_rows_offer_remove_or_whitelist(alice_client, account, other_account):
    bounce(account, "mine@example.com")
    bounce(other_account, "theirs@example.com")
    bounce(account, "theirs@example.com")  # our bounce too; the block is the other account's
    bounce(
        account,
        "full@example.com",
        bounce_class="mailbox_full",
        smtp={"code": 552, "enhanced": "5.2.2", "text": "552 mailbox full"},
    )
    html = alice_client.get(reverse("stats:bounced")).content.decode()
    assert html.count('data-offer="remove"') == 1
    assert html.count('data-offer="whitelist"') == 1
    assert "Remove the block of mine@example.com for every account?" in html
    assert "Whitelist theirs@example.com for your account?" in html


def test_a_bounced_message_offers_the_action_and_acting_comes_back(alice_client, account):
    bounce(account, "mine@example.com")
    message = Message.objects.get(account=account, recipient="mine@example.com")
    url = reverse("delivery:message_detail", args=[message.message_id])
    html = alice_client.get(url).content.decode()
    assert 'id="block-offer"' in html and 'data-offer="remove"' in html
    r = alice_client.post(
        reverse("blocklist:invalid_remove"), {"addresses": "mine@example.com", "next": url}
    )
    assert r["Location"] == url
    assert not Block.objects.invalid().active().exists()
    assert 'id="block-offer"' not in alice_client.get(url).content.decode()
