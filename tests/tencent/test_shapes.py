"""The Tencent SES shapes a compatible endpoint returns, straight from the services."""

from __future__ import annotations

from datetime import UTC, date

import pytest
import time_machine

from blocklist import changes, custom, queries
from blocklist.models import Block
from tencent import shapes
from tests.blocklist.conftest import bounce

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-11-28 10:15:00Z", tick=False)
def test_list_black_email_address_entry(account):
    bounce(account, "gone@example.com", timestamp="2026-11-28T10:15:00Z")
    [block] = queries.invalid_blocks_visible_to(account, date(2026, 11, 28), date(2026, 11, 28))
    assert shapes.black_address(block, account.pk, UTC) == {
        "BounceTime": "2026-11-28 10:15:00",
        "EmailAddress": "gone@example.com",
        "IspDesc": "550 5.1.1 user unknown",
    }
    # Seen by another account: the block, not what this account's recipient server replied.
    assert shapes.black_address(block, account.pk + 1, UTC)["IspDesc"] == ""
    assert not queries.invalid_blocks_visible_to(account, date(2026, 11, 29), None).exists()


@time_machine.travel("2026-11-28 10:15:00Z", tick=False)
def test_custom_entry_and_add_report(account):
    report = custom.add_custom_blocks(
        account,
        ["resrse@sdasd.com", "resrse@sdasd.com", "asdasdasdasd"],
        actor=changes.SYSTEM,
        expires_on=date(2026, 11, 29),
    )
    assert shapes.add_report(report) == {
        "TotalCount": 3,
        "ValidCount": 1,
        "RepeatCount": 1,
        "InvalidCount": 1,
        "TooLongCount": 0,
    }
    block = Block.objects.get()
    assert shapes.custom_entry(block, UTC) == {
        "Id": block.pk,
        "Email": "resrse@sdasd.com",
        "CreateTime": "2026-11-28 10:15:00",
        "ExpireDate": "2026-11-29",
        "Status": 1,
    }
    with time_machine.travel("2026-11-30 00:00:01Z", tick=False):
        assert shapes.custom_entry(block, UTC)["Status"] == 0
