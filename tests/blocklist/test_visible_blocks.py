"""Which invalid-address blocks an account sees: kept as VisibleBlock rows, always equal to the
rule itself (its sending triggered the block, or it has mailed the address)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocklist import actions, jobs, queries
from blocklist.models import Block, VisibleBlock
from delivery.fold import fold_all
from delivery.ingest import ingest_events
from delivery.models import Message
from sesconsole.models import Account
from tests.blocklist.conftest import bounce
from tests.events import make_event
from tests.factories import AccountFactory

_n = itertools.count(1)


def mail(account, to: str) -> None:
    ingest_events(account, [make_event("request", f"v-{next(_n)}", to=to)])


def by_the_rule(account) -> set[str]:
    """The rule as a query over every block (what the lists read before the rows existed)."""
    mailed = Message.objects.filter(account=account, recipient=OuterRef("address"))
    return set(
        Block.objects.invalid()
        .active()
        .filter(Q(account=account) | Exists(mailed))
        .values_list("address", flat=True)
    )


def seen(account) -> set[str]:
    return set(queries.invalid_blocks_visible_to(account).values_list("address", flat=True))


@pytest.mark.django_db
def test_an_account_that_mailed_the_address_before_sees_a_block_another_triggered(
    account, other_account
):
    mail(other_account, "gone@example.com")
    bounce(account, "gone@example.com")
    assert seen(other_account) == {"gone@example.com"}
    assert seen(account) == {"gone@example.com"}


@pytest.mark.django_db
def test_mail_after_the_block_shows_it_and_mail_elsewhere_does_not(account, other_account):
    bounce(account, "gone@example.com")
    mail(other_account, "someone@example.com")
    assert seen(other_account) == set()
    mail(other_account, "GONE@example.com")  # stored normalised, as the block is
    assert seen(other_account) == {"gone@example.com"}


@pytest.mark.django_db
def test_a_new_block_of_the_address_is_seen_again(account, other_account, actor):
    mail(other_account, "gone@example.com")
    bounce(account, "gone@example.com")
    actions.remove_invalid_blocks(account, ["gone@example.com"], actor=actor)
    assert seen(other_account) == set()
    bounce(account, "gone@example.com")
    assert seen(other_account) == {"gone@example.com"}
    assert VisibleBlock.objects.filter(account=other_account).count() == 2  # one per block


@pytest.mark.django_db
def test_a_deleted_account_takes_its_rows_along(account, other_account):
    mail(other_account, "gone@example.com")
    bounce(account, "gone@example.com")
    other_account.delete()
    assert list(VisibleBlock.objects.values_list("account", flat=True)) == [account.pk]
    mail(AccountFactory(), "gone@example.com")
    account.delete()  # its blocks go with it, and every account's rows of them
    assert not VisibleBlock.objects.exists()


@pytest.mark.django_db
def test_the_hourly_job_shows_a_block_two_transactions_hid_from_each_other(account, other_account):
    bounce(account, "gone@example.com")
    # Mail stored by a transaction that did not yet see the block, and committed after the
    # block's own look for earlier mail: no row from either side.
    Message.objects.create(account=other_account, message_id="late", recipient="gone@example.com")
    assert seen(other_account) == set()

    assert jobs.show_recent_blocks() == 2  # the trigger's row is there already
    assert seen(other_account) == {"gone@example.com"}
    assert jobs.show_recent_blocks() == 2 and VisibleBlock.objects.count() == 2  # no twice

    with time_machine.travel(timezone.now() + timedelta(days=jobs.RECENT_BLOCK_DAYS)):
        assert jobs.show_recent_blocks() == 0, "older bounces: ingestion saw to them"


@pytest.mark.django_db
def test_the_hourly_job_shows_a_block_to_mail_whose_recipient_a_deferred_fold_filled_in(
    account, other_account, settings
):
    settings.INGEST_FOLD = "deferred"
    # The message is first stored from an event that names no recipient; the request
    # naming it waits for a worker's fold.
    ingest_events(other_account, [make_event("delivered", "d-1")])
    ingest_events(other_account, [make_event("request", "d-1", to="gone@example.com")])
    bounce(account, "gone@example.com")
    fold_all()
    assert Message.objects.get(message_id="d-1").recipient == "gone@example.com"
    assert seen(other_account) == set(), "nothing saw the recipient arrive"
    jobs.show_recent_blocks()
    assert seen(other_account) == {"gone@example.com"} == by_the_rule(other_account)


ADDRESSES = ["a@example.com", "b@example.com", "c@example.org"]
steps = st.lists(
    st.tuples(
        st.sampled_from(["mail", "bounce", "remove"]),
        st.integers(0, 2),  # which account
        st.sampled_from(ADDRESSES),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_the_rows_always_agree_with_the_rule(steps, actor):
    """Any order of mail, bounces and removals, in any accounts: each sees exactly what the
    rule says. Each example runs in a savepoint rolled back after it."""
    sid = transaction.savepoint()
    try:
        accounts = [Account.objects.create(name=f"visible-{next(_n)}") for _ in range(3)]
        for step, who, address in steps:
            account = accounts[who]
            if step == "mail":
                mail(account, address)
            elif step == "bounce":
                bounce(account, address)
            else:
                actions.remove_invalid_blocks(account, [address], actor=actor)
        for account in accounts:
            assert seen(account) == by_the_rule(account), steps
            # The walk of the address index (lists past the cap) finds the same rows.
            walked = queries.invalid_blocks_visible_to(account, probe_each=True)
            assert set(walked.values_list("address", flat=True)) == seen(account), steps
    finally:
        transaction.savepoint_rollback(sid)


BEFORE = [("blocklist", "0006_invalid_surges"), ("delivery", "0012_message_fewer_indexes")]
AFTER = [("blocklist", "0007_visible_blocks")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_rows_from_the_blocks_and_the_mail():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Account = apps.get_model("sesconsole", "Account")
    Message = apps.get_model("delivery", "Message")
    Block = apps.get_model("blocklist", "Block")
    trigger, mailer, stranger = (Account.objects.create(name=n) for n in ("t", "m", "s"))
    Message.objects.create(account=mailer, message_id="m1", recipient="gone@example.com")
    Message.objects.create(account=mailer, message_id="m2", recipient="gone@example.com")
    Message.objects.create(account=trigger, message_id="m3", recipient="gone@example.com")
    Message.objects.create(account=stranger, message_id="m4", recipient="other@example.com")
    common = {"kind": "invalid", "reason": "invalid_address"}
    active = Block.objects.create(address="gone@example.com", account=trigger, **common)
    Block.objects.create(
        address="old@example.com",
        account=trigger,
        released_at="2026-01-01T00:00Z",
        release_reason="released",
        **common,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    rows = apps.get_model("blocklist", "VisibleBlock").objects.values_list(
        "account__name", "block_id", "blocked_at"
    )
    assert sorted(rows) == [
        ("m", active.pk, active.blocked_at),
        ("t", active.pk, active.blocked_at),
    ]

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
