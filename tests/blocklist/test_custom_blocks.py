"""Custom blocks: add with a report, upload, update, delete, status."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from blocklist import custom, errors, expiry, gate, queries
from blocklist.models import Block, History

pytestmark = pytest.mark.django_db


def test_add_reports_like_tencent(account, actor):
    # Tencent's worked example: one valid, one repeat, one invalid.
    report = custom.add_custom_blocks(
        account, ["resrse@sdasd.com", "resrse@sdasd.com", "asdasdasdasd"], actor=actor
    )
    assert (report.total, report.valid, report.repeat, report.invalid, report.too_long) == (
        3,
        1,
        1,
        1,
        0,
    )


def test_an_address_already_blocked_counts_as_a_repeat(account, actor):
    custom.add_custom_blocks(account, ["a@example.com"], actor=actor)
    report = custom.add_custom_blocks(account, ["A@Example.com", "b@example.com"], actor=actor)
    assert (report.valid, report.repeat) == (1, 1)
    assert Block.objects.count() == 2


def test_upload_with_bom_duplicates_invalid_and_overlong_lines(account, actor):
    long_line = "x" * 250 + "@example.com"
    data = (
        "\ufeffemail\r\n"
        "first@example.com\r\n"
        "First@Example.com\r\n"
        "not-an-address\r\n"
        f"{long_line}\r\n"
        "\r\n"
        "second@example.com,extra column\r\n"
    ).encode()
    report = custom.upload_custom_blocks(account, data, actor=actor, note="import")
    assert (report.total, report.valid, report.repeat, report.invalid, report.too_long) == (
        5,
        2,
        1,
        1,
        1,
    )
    assert report.total == report.valid + report.repeat + report.invalid + report.too_long
    assert set(Block.objects.values_list("address", "reason")) == {
        ("first@example.com", "upload"),
        ("second@example.com", "upload"),
    }
    assert {p["kind"] for p in report.problems} == {"repeat", "invalid", "too_long"}


def test_an_upload_over_the_limit_is_refused(account, actor):
    data = "\n".join(f"u{i}@example.com" for i in range(100_001)).encode()
    with pytest.raises(errors.BlocklistError) as exc:
        custom.upload_custom_blocks(account, data, actor=actor)
    assert exc.value.code == "too_many_lines"


def test_a_file_that_is_not_utf8_is_refused(account, actor):
    with pytest.raises(errors.BlocklistError) as exc:
        custom.upload_custom_blocks(account, b"\xff\xfea\x00", actor=actor)
    assert exc.value.code == "bad_encoding"


def test_update_changes_address_and_expiry_and_keeps_history(account, actor):
    custom.add_custom_blocks(account, ["a@example.com"], actor=actor)
    block = Block.objects.get()
    soon = timezone.now().date() + timedelta(days=5)
    custom.update_custom_block(
        account, block.pk, actor=actor, address="b@example.com", expires_on=soon
    )
    block.refresh_from_db()
    assert block.address == "b@example.com"
    assert block.expires_at == expiry.expiry_from_date(soon)
    custom.update_custom_block(account, block.pk, actor=actor, expires_on=None)
    block.refresh_from_db()
    assert block.expires_at is None
    details = list(History.objects.filter(action="edited").values_list("detail", flat=True))
    assert "address a@example.com → b@example.com" in details[0]
    assert details[1] == f"expiry {soon.isoformat()} → permanent"


def test_update_refuses_a_past_date_and_another_accounts_block(account, other_account, actor):
    custom.add_custom_blocks(account, ["a@example.com"], actor=actor)
    block = Block.objects.get()
    with pytest.raises(errors.BlocklistError) as exc:
        custom.update_custom_block(account, block.pk, actor=actor, expires_on=date(2020, 1, 1))
    assert exc.value.code == "expiry_in_past"
    with pytest.raises(errors.BlocklistError) as exc:
        custom.update_custom_block(other_account, block.pk, actor=actor, expires_on=None)
    assert exc.value.code == "not_found"


def test_delete_by_address_keeps_the_block_in_history(account, actor):
    custom.add_custom_blocks(account, ["a@example.com", "b@example.com"], actor=actor)
    result = custom.delete_custom_blocks(account, ["a@example.com", "c@example.com"], actor=actor)
    assert result.done == ["a@example.com"] and result.not_found == ["c@example.com"]
    assert [b.address for b in queries.custom_blocks(account)] == ["b@example.com"]
    assert History.objects.filter(block__address="a@example.com", action="deleted").exists()
    assert not gate.check(account, ["a@example.com"])["a@example.com"].blocked


def test_a_deleted_address_can_be_blocked_again(account, actor):
    custom.add_custom_blocks(account, ["a@example.com"], actor=actor)
    custom.delete_custom_blocks(account, ["a@example.com"], actor=actor)
    assert custom.add_custom_blocks(account, ["a@example.com"], actor=actor).valid == 1


def test_auto_block_duration_is_bounded(account, actor):
    with pytest.raises(errors.BlocklistError):
        custom.set_auto_block(account, enabled=True, days=0, actor=actor)
    setting = custom.set_auto_block(account, enabled=True, days=14, actor=actor)
    assert setting.enabled_at is not None and queries.auto_block_setting(account).days == 14
