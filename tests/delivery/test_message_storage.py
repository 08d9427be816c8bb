"""How message rows are stored on PostgreSQL: a fold rewrites a message on every later event,
so the row keeps room on its page and no index covers what a fold changes after delivery
(the update is then HOT: no index is touched)."""

from __future__ import annotations

import pytest
from django.db import connection

from delivery.ingest import ingest_events
from delivery.models import Message
from tests.delivery.test_partitions import NOW, message_events
from tests.factories import AccountFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="fillfactor and HOT updates are PostgreSQL's"
)


def _one(sql: str, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


@pytest.mark.django_db
def test_message_pages_keep_room_for_updates():
    (options,) = _one("SELECT reloptions FROM pg_class WHERE relname = 'delivery_message'")
    assert "fillfactor=80" in (options or [])


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["delivery_message", "delivery_deliveryeventkey"])
def test_no_index_repeats_the_account_alone(table):
    # Every index of these tables starts with the account; one on the account alone would
    # only cost a write per row.
    (count,) = _one(
        "SELECT count(*) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]"
        " WHERE t.relname = %s AND i.indnatts = 1 AND a.attname = 'account_id'",
        [table],
    )
    assert count == 0


@pytest.mark.django_db
def test_an_open_after_delivery_rewrites_the_message_without_touching_an_index():
    account = AccountFactory()
    request, delivered, opened = message_events("m-hot", NOW)
    ingest_events(account, [request, delivered])

    def updates():
        return _one(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
            " WHERE relname = 'delivery_message'"
        )

    upd, hot = updates()
    ingest_events(account, [opened])

    assert Message.objects.get(message_id="m-hot").open_count == 1
    upd_after, hot_after = updates()
    assert upd_after == upd + 1
    assert hot_after == hot + 1
