"""changes.change_in_force: the one statement PostgreSQL runs and the ORM steps the SQLite
demo runs leave the same blocks, whitelists and history, whatever the blocks and the
selection (Hypothesis); and both change only the selected blocks still in force."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocklist import actions, changes, custom
from blocklist.models import Block, History, Whitelist
from sesconsole.models import Account
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)

block_state = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["invalid", "reject", "custom"]),
        "released": st.booleans(),
        "expires_in_days": st.one_of(st.none(), st.integers(-30, 400)),
        "whitelisted": st.booleans(),
        "chosen": st.booleans(),
    }
)
# (updates, ends_whitelists): a release, "expire now", "extend by 30 days".
CHANGES = {
    "release": (
        {"released_at": NOW, "release_reason": Block.Release.REMOVED},
        True,
    ),
    "expire_now": ({"expires_at": NOW}, False),
    "extend": ({"expires_at": F("expires_at") + timedelta(days=30)}, False),
}


def _blocks(account, other_account, states) -> list[Block]:
    reasons = {"invalid": "invalid_address", "reject": "unsubscribed", "custom": "manual"}
    blocks = []
    for i, s in enumerate(states):
        expires = None if s["expires_in_days"] is None else NOW + timedelta(s["expires_in_days"])
        block = Block.objects.create(
            kind=s["kind"],
            reason=reasons[s["kind"]],
            address=f"r{i}@example.com",
            account=account,
            blocked_at=NOW - timedelta(days=1),
            expires_at=expires,
            released_at=NOW - timedelta(hours=1) if s["released"] else None,
            release_reason=Block.Release.EXPIRED if s["released"] else "",
        )
        if s["whitelisted"]:
            Whitelist.objects.create(account=other_account, block=block, address=block.address)
        blocks.append(block)
    return blocks


def _state() -> tuple:
    return (
        list(
            Block.objects.order_by("pk").values_list(
                "pk", "released_at", "release_reason", "expires_at"
            )
        ),
        list(Whitelist.objects.order_by("pk").values_list("pk", "removed_at")),
        sorted(
            History.objects.values_list(
                "block_id", "action", "at", "account_id", "actor_label", "detail"
            )
        ),
    )


class Undo(Exception):
    pass


def _run(change, chosen, updates, ends_whitelists, account) -> tuple[list[int], tuple]:
    """Run one implementation, read what it left, and undo it."""
    try:
        with transaction.atomic():
            in_force = (
                Block.objects.filter(pk__in=chosen, released_at=None)
                .select_for_update()
                .order_by("pk")
                .values_list("pk")
            )
            if "expires_at" in updates and "released_at" not in updates:
                in_force = in_force.filter(expires_at__isnull=False)
            ids = change(
                in_force,
                updates,
                History.Action.EDITED,
                account=account,
                actor=changes.Actor(None, "staff:someone"),
                detail="why" * 200,  # longer than the column: cut, as write_history does
                now=NOW,
                ends_whitelists=ends_whitelists,
            )
            raise Undo(ids, _state())
    except Undo as done:
        return done.args


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement is PostgreSQL's")
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(states=st.lists(block_state, max_size=12), change=st.sampled_from(sorted(CHANGES)))
def test_the_statement_and_the_orm_steps_agree(account, other_account, states, change):
    with transaction.atomic():
        blocks = _blocks(account, other_account, states)
        chosen = [b.pk for b, s in zip(blocks, states, strict=True) if s["chosen"]]
        updates, ends = CHANGES[change]
        before = _state()

        pg_ids, pg_state = _run(changes._change_in_force_pg, chosen, updates, ends, account)
        orm_ids, orm_state = _run(changes._change_in_force_orm, chosen, updates, ends, account)
        assert _state() == before  # each run was undone

        assert pg_ids == orm_ids
        assert pg_state == orm_state
        expected = [
            b.pk
            for b, s in zip(blocks, states, strict=True)
            if s["chosen"]
            and not s["released"]
            and (change == "release" or s["expires_in_days"] is not None)
        ]
        assert pg_ids == expected
        blocks_after, whitelists_after, history_after = pg_state
        assert [row[0] for row in history_after] == sorted(expected)
        assert {row[5] for row in history_after} <= {("why" * 200)[:500]}
        unchosen_before = [row for row in before[0] if row[0] not in expected]
        assert [row for row in blocks_after if row[0] not in expected] == unchosen_before
        ended = {pk for pk, removed_at in whitelists_after if removed_at == NOW}
        released_whitelists = set(
            Whitelist.objects.filter(block_id__in=expected).values_list("pk", flat=True)
        )
        assert ended == (released_whitelists if ends else set())
        transaction.set_rollback(True)


def test_an_empty_selection_changes_nothing(account):
    assert (
        changes.release(
            Block.objects.filter(pk__in=[]),
            "removed",
            "removed",
            account=None,
            actor=changes.SYSTEM,
        )
        == []
    )
    assert not History.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_overlapping_releases_at_once_release_each_block_once(account):
    """Two staff members remove overlapping selections at the same moment: locking in id
    order means one waits for the other (no deadlock), and each block is released, and
    written to history, once."""
    custom.add_custom_blocks(
        account, [f"u{i:04}@example.com" for i in range(3000)], actor=changes.SYSTEM
    )
    ids = list(Block.objects.order_by("pk").values_list("pk", flat=True))
    selections = [ids[:2000], ids[1000:]]

    def run(chosen):
        return actions.release_blocks(Block.objects.filter(pk__in=chosen), actor=changes.SYSTEM)

    # A deadlock would raise here.
    released = run_together(*(partial(run, chosen) for chosen in selections))
    assert sum(released) == 3000 and min(released) >= 1000
    assert not Block.objects.filter(released_at=None).exists()
    assert History.objects.filter(action=History.Action.REMOVED).count() == 3000


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_a_release_selected_through_accounts_locks_only_the_blocks(account):
    """An admin search by account name joins the accounts; a long release must not hold
    their rows (the account's own changes would wait for it)."""
    custom.add_custom_blocks(account, ["a@example.com"], actor=changes.SYSTEM)
    with transaction.atomic():
        actions.release_blocks(
            Block.objects.filter(account__name="acme"), actor=changes.SYSTEM
        )  # the transaction stays open, holding its locks
        waited = []

        def touch_account():
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '1s'")
                Account.objects.filter(pk=account.pk).update(display_name="Acme")
            except Exception as exc:
                waited.append(exc)
            finally:
                connection.close()

        other = threading.Thread(target=touch_account)
        other.start()
        other.join()
    assert waited == [], "the account row was not locked"
    assert not Block.objects.filter(released_at=None).exists()
