"""The expiry and auto-block jobs, called as units with time frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import time_machine
from django.db import connection

from blocklist import changes, custom, gate, jobs, queries
from blocklist.models import AutoBlockSetting, Block, History
from delivery.ingest import ingest_events
from tests.blocklist.conftest import bounce
from tests.concurrency import run_together
from tests.events import make_event

pytestmark = pytest.mark.django_db

BOUNCED_AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FULL = {"code": 552, "enhanced": "5.2.2", "text": "552 5.2.2 mailbox full"}


@time_machine.travel(BOUNCED_AT, tick=False)
def _bounce_old(account, to="gone@example.com"):
    bounce(account, to, timestamp="2026-06-01T12:00:00Z")


def test_an_invalid_block_is_kept_at_179_days_and_released_at_181(account):
    _bounce_old(account)
    with time_machine.travel(BOUNCED_AT + timedelta(days=179), tick=False):
        assert jobs.release_invalid_blocks() == 0
        assert gate.check(account, ["gone@example.com"])["gone@example.com"].blocked
    with time_machine.travel(BOUNCED_AT + timedelta(days=181), tick=False):
        assert gate.check(account, ["gone@example.com"])["gone@example.com"].blocked is False
        assert jobs.release_invalid_blocks() == 1
        assert jobs.release_invalid_blocks() == 0  # idempotent
    block = Block.objects.get()
    assert block.release_reason == "released"
    assert list(block.history.values_list("action", flat=True)) == ["added", "released"]


def test_a_new_bounce_after_release_blocks_again(account):
    _bounce_old(account)
    with time_machine.travel(BOUNCED_AT + timedelta(days=200), tick=False):
        bounce(account, "gone@example.com", timestamp="2026-12-18T12:00:00Z")
        assert Block.objects.filter(released_at=None).count() == 1
        assert Block.objects.count() == 2


def test_expired_custom_blocks_lift(account, actor):
    with time_machine.travel(BOUNCED_AT, tick=False):
        custom.add_custom_blocks(
            account, ["a@example.com"], actor=actor, expires_on=BOUNCED_AT.date()
        )
        custom.add_custom_blocks(account, ["forever@example.com"], actor=actor)
        assert jobs.lift_expired_custom_blocks() == 0
    with time_machine.travel(BOUNCED_AT + timedelta(days=2), tick=False):
        assert jobs.lift_expired_custom_blocks() == 1
        assert jobs.lift_expired_custom_blocks() == 0
        assert [b.address for b in queries.custom_blocks(account, "expired")] == ["a@example.com"]
        assert [b.address for b in queries.custom_blocks(account, "active")] == [
            "forever@example.com"
        ]
    assert History.objects.filter(action="expired").count() == 1


def _full_inbox(account, to):
    mid = f"full-{to}"
    ingest_events(account, [make_event("request", mid, to=to)])
    ingest_events(account, [make_event("bounced", mid, smtp=FULL, timestamp=_now_iso())])


def _now_iso():
    return datetime.now(UTC).isoformat()


def test_auto_block_only_for_accounts_that_opted_in(account, other_account, actor):
    custom.set_auto_block(account, enabled=True, days=3, actor=actor)
    _full_inbox(account, "full@example.com")
    _full_inbox(other_account, "full@example.com")
    assert gate.check(account, ["full@example.com"])["full@example.com"].reject_reason == (
        "custom_blocked"
    )
    assert not gate.check(other_account, ["full@example.com"])["full@example.com"].blocked
    block = Block.objects.get()
    assert block.reason == "mailbox_full" and "mailbox full" in block.response_text
    assert block.expires_at - block.blocked_at == pytest.approx(
        timedelta(days=3), abs=timedelta(seconds=5)
    )


def test_the_auto_block_job_catches_up_and_is_idempotent(account, actor):
    _full_inbox(account, "a@example.com")  # before opting in: not blocked
    custom.set_auto_block(account, enabled=True, days=3, actor=actor)
    AutoBlockSetting.objects.update(enabled=False)
    _full_inbox(account, "b@example.com")  # while switched off
    AutoBlockSetting.objects.update(enabled=True)
    assert jobs.auto_block_full_inboxes() == 1
    assert jobs.auto_block_full_inboxes() == 0
    assert list(Block.objects.values_list("address", flat=True)) == ["b@example.com"]


def test_a_lifted_auto_block_is_not_remade_from_the_same_bounce(account, actor):
    custom.set_auto_block(account, enabled=True, days=1, actor=actor)
    _full_inbox(account, "a@example.com")
    custom.delete_custom_blocks(account, ["a@example.com"], actor=actor)
    assert jobs.auto_block_full_inboxes() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_two_concurrent_release_runs_release_each_block_once(account):
    with time_machine.travel(BOUNCED_AT, tick=False):
        custom.add_custom_blocks(
            account,
            [f"u{i}@example.com" for i in range(3000)],
            actor=changes.SYSTEM,
            expires_on=BOUNCED_AT.date(),
        )
    lift = partial(jobs.lift_expired_custom_blocks, BOUNCED_AT + timedelta(days=2), chunk=500)
    counts = run_together(lift, lift)
    assert sum(counts) == 3000
    assert History.objects.filter(action="expired").count() == 3000
    assert Block.objects.filter(released_at=None).count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_two_concurrent_auto_block_runs_make_no_duplicates(account, alice):
    custom.set_auto_block(account, enabled=True, days=3, actor=changes.SYSTEM)
    AutoBlockSetting.objects.update(enabled=False)
    for i in range(50):
        _full_inbox(account, f"f{i}@example.com")
    AutoBlockSetting.objects.update(enabled=True)
    counts = run_together(jobs.auto_block_full_inboxes, jobs.auto_block_full_inboxes)
    assert sum(counts) == 50
    assert Block.objects.count() == 50
    assert History.objects.count() == 50


def test_tasks_call_their_service(account, settings):
    from blocklist import tasks

    _bounce_old(account)
    with time_machine.travel(BOUNCED_AT + timedelta(days=181), tick=False):
        assert tasks.release_invalid_blocks.apply().get() == 1
    assert tasks.lift_expired_custom_blocks.apply().get() == 0
    assert tasks.auto_block_full_inboxes.apply().get() == 0


def test_the_beat_schedule_registers_every_job(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "blocklist.tasks.release_invalid_blocks",
        "blocklist.tasks.lift_expired_custom_blocks",
        "blocklist.tasks.auto_block_full_inboxes",
        "blocklist.tasks.show_recent_blocks",
    } <= tasks


def test_the_command_runs_every_job(account, capsys):
    from django.core.management import call_command

    _bounce_old(account)
    with time_machine.travel(BOUNCED_AT + timedelta(days=181), tick=False):
        call_command("blocklist_jobs")
    assert "Released 1 invalid-address block(s), lifted 0" in capsys.readouterr().out
