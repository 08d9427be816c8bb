"""Lifting reject blocks: for recipients who opted back in, own account only, history kept."""

from __future__ import annotations

import pytest
from django.urls import reverse

from blocklist import actions, gate
from blocklist.models import Block, History
from tests.blocklist.conftest import recipient_event

pytestmark = pytest.mark.django_db


def test_it_lifts_my_reject_block_and_keeps_the_history(account, actor):
    recipient_event(account, "back@example.com", "unsubscribed")
    result = actions.remove_reject_blocks(
        account, ["Back@Example.com", "never@example.com"], actor=actor
    )
    assert result.done == ["back@example.com"]
    assert result.not_found == ["never@example.com"]
    assert not gate.check(account, ["back@example.com"])["back@example.com"].blocked
    block = Block.objects.rejects().get(address="back@example.com")
    assert block.release_reason == Block.Release.REMOVED
    assert list(block.history.values_list("action", flat=True).order_by("at")) == [
        History.Action.ADDED,
        History.Action.REMOVED,
    ]


def test_it_leaves_other_accounts_reject_blocks(account, other_account, actor):
    recipient_event(other_account, "x@example.com", "complained")
    result = actions.remove_reject_blocks(account, ["x@example.com"], actor=actor)
    assert result.done == []
    assert gate.check(other_account, ["x@example.com"])["x@example.com"].blocked


def test_a_new_unsubscribe_blocks_again(account, actor):
    recipient_event(account, "flip@example.com", "unsubscribed")
    actions.remove_reject_blocks(account, ["flip@example.com"], actor=actor)
    recipient_event(account, "flip@example.com", "unsubscribed")
    assert gate.check(account, ["flip@example.com"])["flip@example.com"].kind == "reject"


def test_the_api_removes_and_reports_per_item(api_client, account, other_account):
    recipient_event(account, "mine@example.com", "unsubscribed")
    recipient_event(other_account, "theirs@example.com", "unsubscribed")
    response = api_client.post(
        "/api/v1/blocklist/rejects/remove/",
        {"addresses": ["mine@example.com", "theirs@example.com", "bad"]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["done"] == ["mine@example.com"]
    assert "theirs@example.com" in body["not_found"]
    assert gate.check(other_account, ["theirs@example.com"])["theirs@example.com"].blocked


def test_the_reject_page_batch_removes(alice_client, account):
    recipient_event(account, "a@example.com", "unsubscribed")
    recipient_event(account, "b@example.com", "complained")
    page = alice_client.get(reverse("blocklist:rejects")).content.decode()
    assert 'action="/blocklist/rejects/remove/"' in page
    response = alice_client.post(
        reverse("blocklist:rejects_remove"),
        {"addresses": ["a@example.com", "b@example.com"]},
        follow=True,
    )
    assert "Removed the reject block of 2" in response.content.decode()
    assert not Block.objects.rejects().active().filter(account=account).exists()
