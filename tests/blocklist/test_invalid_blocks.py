"""Whitelist and remove across two accounts, and the history they leave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from blocklist import actions, changes, gate, queries
from blocklist.models import Block, History
from delivery.ingest import ingest_events
from tests.blocklist.conftest import bounce
from tests.events import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob_actor(bob):
    return changes.Actor(bob, bob.username)


def test_the_triggering_account_removes_its_block_for_everyone(account, other_account, actor):
    bounce(account, "x@example.com")
    result = actions.remove_invalid_blocks(account, ["X@example.com"], actor=actor, note="fixed")
    assert result.done == ["x@example.com"] and result.refused == []
    assert not gate.check(other_account, ["x@example.com"])["x@example.com"].blocked


def test_another_account_may_not_remove_it_and_is_told_to_whitelist(
    account, other_account, bob_actor
):
    bounce(account, "x@example.com")
    result = actions.remove_invalid_blocks(other_account, ["x@example.com"], actor=bob_actor)
    assert result.done == []
    assert result.refused[0]["code"] == "triggered_by_another_account"
    assert "whitelist" in result.refused[0]["message"]
    assert gate.check(account, ["x@example.com"])["x@example.com"].blocked


def test_another_account_whitelists_it_for_itself_only(account, other_account, bob_actor):
    bounce(account, "x@example.com")
    result = actions.whitelist_addresses(other_account, ["x@example.com"], actor=bob_actor)
    assert result.done == ["x@example.com"]
    assert not gate.check(other_account, ["x@example.com"])["x@example.com"].blocked
    assert gate.check(account, ["x@example.com"])["x@example.com"].blocked
    again = actions.whitelist_addresses(other_account, ["x@example.com"], actor=bob_actor)
    assert again.refused[0]["code"] == "already_whitelisted"


def test_the_triggering_account_may_not_whitelist_its_own_block(account, actor):
    bounce(account, "x@example.com")
    result = actions.whitelist_addresses(account, ["x@example.com"], actor=actor)
    assert result.refused[0]["code"] == "triggered_by_you"
    assert gate.check(account, ["x@example.com"])["x@example.com"].blocked


def test_unknown_and_malformed_addresses_are_reported(account, actor):
    result = actions.remove_invalid_blocks(account, ["nobody@example.com", "junk"], actor=actor)
    assert result.not_found == ["nobody@example.com"]
    assert result.invalid[0]["address"] == "junk"


def test_my_own_bounce_ends_my_whitelist(account, other_account, bob_actor):
    bounce(account, "x@example.com")
    actions.whitelist_addresses(other_account, ["x@example.com"], actor=bob_actor)
    bounce(other_account, "x@example.com")
    assert gate.check(other_account, ["x@example.com"])["x@example.com"].blocked
    block = Block.objects.get()
    assert block.account == account  # the first trigger stands
    assert list(block.history.values_list("action", flat=True)) == [
        "added",
        "whitelisted",
        "unwhitelisted",
    ]


def test_history_is_kept_after_removal(account, actor):
    bounce(account, "x@example.com")
    actions.remove_invalid_blocks(account, ["x@example.com"], actor=actor, note="verified")
    entry = History.objects.filter(block__address="x@example.com").order_by("at", "pk").last()
    assert entry.action == "removed" and entry.actor == actor.user and entry.detail == "verified"
    block = entry.block
    assert block.release_reason == "removed" and block.status == "removed"
    assert not queries.invalid_blocks_visible_to(account).exists()


def test_an_account_sees_blocks_it_triggered_or_mailed_and_no_others(account, other_account):
    bounce(account, "mine@example.com")
    bounce(other_account, "theirs@example.com")
    bounce(other_account, "shared@example.com")
    from delivery.ingest import ingest_events
    from tests.events import make_event

    ingest_events(account, [make_event("request", "acme-shared", to="shared@example.com")])
    seen = set(queries.invalid_blocks_visible_to(account).values_list("address", flat=True))
    assert seen == {"mine@example.com", "shared@example.com"}


SMTP_INVALID = {"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"}


def test_each_block_of_one_batch_is_added_at_its_own_bounce_time(account):
    """One batch's blocks share one history INSERT, yet each keeps its bounce's time."""
    day = timezone.now().replace(microsecond=0) - timedelta(days=3)
    times = [day, day + timedelta(minutes=90), day + timedelta(hours=16, seconds=1)]
    ingest_events(
        account,
        [
            make_event("request", f"h-{i}", to=f"h{i}@example.com", timestamp=_iso(day))
            for i in range(3)
        ],
    )
    ingest_events(
        account,
        [
            make_event(
                "bounced",
                f"h-{i}",
                smtp=SMTP_INVALID,
                bounce_class="invalid_address",
                timestamp=_iso(at),
            )
            for i, at in enumerate(times)
        ],
    )
    added = History.objects.filter(action="added").select_related("block")
    assert sorted((h.block.address, h.at, h.block.blocked_at) for h in added) == [
        (f"h{i}@example.com", at, at) for i, at in enumerate(times)
    ]
    assert {h.account_id for h in added} == {account.pk}


def _iso(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")
