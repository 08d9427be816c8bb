"""Blocklist entries in the shapes the Tencent SES actions answer with."""

from __future__ import annotations

from datetime import tzinfo

from blocklist.custom import AddReport
from blocklist.expiry import expiry_date_of
from blocklist.models import Block


def _tencent_time(instant, zone: tzinfo) -> str:
    """`YYYY-MM-DD HH:MM:SS` in the account's zone, as every other action answers."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def black_address(block: Block, account_id: int, zone: tzinfo) -> dict:
    """ListBlackEmailAddress's BlackEmailAddress: {BounceTime, EmailAddress, IspDesc}.

    IspDesc, the recipient server's reply, only for blocks the account's own sending caused:
    another account's bounce is that account's detail. Times in the account's zone."""
    return {
        "BounceTime": _tencent_time(block.blocked_at, zone),
        "EmailAddress": block.address,
        "IspDesc": block.response_text if block.account_id == account_id else "",
    }


def custom_entry(block: Block, zone: tzinfo) -> dict:
    """ListCustomBlacklist's BlackAddressDetail; Status 1 active, 0 expired."""
    expires_on = expiry_date_of(block, zone)
    return {
        "Id": block.pk,
        "Email": block.address,
        "CreateTime": _tencent_time(block.blocked_at, zone),
        "ExpireDate": expires_on.isoformat() if expires_on else "",
        "Status": 1 if block.is_active() else 0,
    }


def add_report(report: AddReport) -> dict:
    """CreateCustomBlacklist's counts."""
    return {
        "TotalCount": report.total,
        "ValidCount": report.valid,
        "RepeatCount": report.repeat,
        "InvalidCount": report.invalid,
        "TooLongCount": report.too_long,
    }
