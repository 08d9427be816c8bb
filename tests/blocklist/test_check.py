"""The one check sending obeys."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from blocklist import actions, custom, gate
from blocklist.models import Block
from tests.blocklist.conftest import bounce, recipient_event

pytestmark = pytest.mark.django_db


def test_an_unblocked_address_passes(account):
    verdicts = gate.check(account, ["Nobody@Example.COM"])
    assert list(verdicts) == ["nobody@example.com"]
    v = verdicts["nobody@example.com"]
    assert v.blocked is False and v.kind is None and v.matches == []


def test_an_invalid_address_gets_a_verdict_not_an_exception(account):
    v = gate.check(account, ["not an address"])["not an address"]
    assert v.valid is False
    assert v.blocked is True
    assert v.reject_reason == "invalid_address"


def test_an_invalid_address_block_is_global(account, other_account):
    bounce(account, "gone@example.com")
    for acct in (account, other_account):
        v = gate.check(acct, ["gone@example.com"])["gone@example.com"]
        assert v.blocked and v.kind == "invalid" and v.reject_reason == "blocklisted"
        assert v.until - v.since == timedelta(days=180)
    mine = gate.check(account, ["gone@example.com"])["gone@example.com"].matches[0]
    theirs = gate.check(other_account, ["gone@example.com"])["gone@example.com"].matches[0]
    assert mine.triggered_by_you is True and theirs.triggered_by_you is False
    assert "user unknown" in mine.response_text


def test_reject_blocks_are_per_account(account, other_account):
    recipient_event(account, "bye@example.com", "unsubscribed")
    recipient_event(account, "angry@example.com", "complained")
    verdicts = gate.check(account, ["bye@example.com", "angry@example.com"])
    assert verdicts["bye@example.com"].reject_reason == "unsubscribed"
    assert verdicts["angry@example.com"].reject_reason == "complained"
    assert verdicts["angry@example.com"].kind == "reject"
    assert not gate.check(other_account, ["bye@example.com"])["bye@example.com"].blocked


def test_custom_blocks_say_custom_blocked(account, other_account, actor):
    custom.add_custom_blocks(account, ["mine@example.com"], actor=actor)
    assert gate.check(account, ["mine@example.com"])["mine@example.com"].reject_reason == (
        "custom_blocked"
    )
    assert not gate.check(other_account, ["mine@example.com"])["mine@example.com"].blocked


def test_every_match_is_explained_and_the_strongest_wins(account, actor):
    bounce(account, "x@example.com")
    recipient_event(account, "x@example.com", "unsubscribed")
    custom.add_custom_blocks(account, ["x@example.com"], actor=actor)
    v = gate.check(account, ["x@example.com"])["x@example.com"]
    assert [m.kind for m in v.matches] == ["invalid", "reject", "custom"]
    assert [m.wins for m in v.matches] == [True, False, False]
    assert v.kind == "invalid"
    assert all(m.why for m in v.matches)
    assert v.matches[1].event_id  # the unsubscribe event that caused it


def test_a_whitelist_overrides_an_invalid_block_only_for_its_account(account, other_account, actor):
    bounce(other_account, "x@example.com")
    actions.whitelist_addresses(account, ["x@example.com"], actor=actor)
    v = gate.check(account, ["x@example.com"])["x@example.com"]
    assert v.blocked is False
    assert [m.kind for m in v.matches] == ["invalid", "whitelist"]
    assert gate.check(other_account, ["x@example.com"])["x@example.com"].blocked


def test_a_whitelist_does_not_lift_my_reject_block(account, other_account, actor):
    bounce(other_account, "x@example.com")
    recipient_event(account, "x@example.com", "complained")
    actions.whitelist_addresses(account, ["x@example.com"], actor=actor)
    v = gate.check(account, ["x@example.com"])["x@example.com"]
    assert v.blocked and v.kind == "reject"


def test_an_expired_custom_block_no_longer_blocks_even_before_the_job(account, actor):
    custom.add_custom_blocks(
        account, ["x@example.com"], actor=actor, expires_on=timezone.now().date()
    )
    assert gate.check(account, ["x@example.com"])["x@example.com"].blocked
    with time_machine.travel(timezone.now() + timedelta(days=1, hours=1)):
        assert not gate.check(account, ["x@example.com"])["x@example.com"].blocked


def test_stops_are_counted_when_asked(account, actor):
    custom.add_custom_blocks(account, ["a@example.com", "b@example.com"], actor=actor)
    gate.check(account, ["a@example.com", "c@example.com"], record_stops=True)
    gate.check(account, ["a@example.com"], record_stops=True)
    gate.check(account, ["b@example.com"])
    counts = dict(Block.objects.values_list("address", "stopped_count"))
    assert counts == {"a@example.com": 2, "b@example.com": 0}
    assert Block.objects.get(address="a@example.com").last_stopped_at is not None


def test_a_batch_costs_a_handful_of_queries(
    account, other_account, actor, django_assert_num_queries
):
    bounce(other_account, "x@example.com")
    actions.whitelist_addresses(account, ["x@example.com"], actor=actor)
    custom.add_custom_blocks(account, ["c@example.com"], actor=actor)
    addresses = [f"user{i}@example.com" for i in range(1000)] + ["x@example.com", "c@example.com"]
    # 1: the blocks of the batch, each flagged when the account whitelisted it; 2: those
    # whitelists (their notes and times); 3: the UPDATE of the stop counters.
    with django_assert_num_queries(3):
        verdicts = gate.check(account, addresses, record_stops=True)
    assert sum(v.blocked for v in verdicts.values()) == 1


def test_a_batch_without_whitelists_is_one_query(account, other_account, django_assert_num_queries):
    bounce(other_account, "x@example.com")
    addresses = [f"user{i}@example.com" for i in range(1000)] + ["x@example.com"]
    with django_assert_num_queries(1):
        verdicts = gate.check(account, addresses)
    assert verdicts["x@example.com"].blocked
    assert verdicts["x@example.com"].reason == "Address does not exist"


@pytest.mark.parametrize(
    "raw",
    ["a@b.co", "a.b+c@x-y.example.com", "A@b.co", "a@-b.co", "a@b", "a@b..co", "ü@b.co", " a@b.co"],
)
def test_the_fast_path_agrees_with_normalize_address(raw):
    from delivery.addresses import InvalidAddress, normalize_address

    try:
        expected = normalize_address(raw)
    except InvalidAddress:
        expected = None
    if gate._is_normal(raw):
        assert expected == raw


def test_another_accounts_bounce_details_stay_private(account, other_account):
    bounce(other_account, "gone@example.com", bounce_evidence="text_5_1_x")
    theirs = gate.check(other_account, ["gone@example.com"])["gone@example.com"].matches[0]
    assert "user unknown" in theirs.response_text and theirs.event_id
    seen = gate.check(account, ["gone@example.com"])["gone@example.com"]
    assert seen.blocked and seen.kind == "invalid"
    [match] = seen.matches
    assert match.triggered_by_you is False
    assert (match.response_text, match.event_id, match.note) == ("", "", "")
    assert match.bounce_evidence == theirs.bounce_evidence  # a strength, not their mail
