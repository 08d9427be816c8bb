"""Bounce classification from an SMTP reply: code, enhanced status code (RFC 3463), text."""

from __future__ import annotations

import re

from .models import BounceClass

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")

# Wording real servers use, checked in this order. Text beats a generic enhanced code
# (x.0.0), because many servers send only a generic code.
_TEXT_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        BounceClass.MAILBOX_FULL,
        re.compile(
            r"mailbox (is )?full|over ?quota|quota exceeded|exceeded (the )?(storage|quota)"
            r"|insufficient (disk )?space|mailbox.{0,20}(size limit|storage limit)|inbox is full",
            re.I,
        ),
    ),
    (
        BounceClass.SPAM_REJECTED,
        re.compile(r"\bspam\b|junk|virus|malware|content (was )?rejected|message content", re.I),
    ),
    (
        BounceClass.INVALID_ADDRESS,
        re.compile(
            r"user unknown|unknown user|no such (user|mailbox|recipient|address)"
            r"|(does not|doesn't) exist|not exist|mailbox (is )?unavailable|recipient rejected"
            r"|invalid (recipient|mailbox|address)|address rejected|unknown recipient"
            r"|mailbox not found|no mailbox|user not found|account (is )?(disabled|deactivated)",
            re.I,
        ),
    ),
    (
        BounceClass.BLOCKED,
        re.compile(
            r"block|blacklist|denylist|rbl|reputation|policy|not allowed|refused"
            r"|access denied|rate limit|dmarc|spf|dkim|authenticat",
            re.I,
        ),
    ),
]


def classify_reply(code: int | None, enhanced: str = "", text: str = "") -> str:
    """Classify one SMTP reply into a BounceClass value."""
    match = _ENHANCED.search(enhanced or "") or _ENHANCED.search(text or "")
    subject_detail = (int(match.group(2)), int(match.group(3))) if match else None
    if subject_detail in ((1, 1), (1, 2), (1, 3), (1, 6), (1, 10)):
        return BounceClass.INVALID_ADDRESS
    if subject_detail in ((2, 2), (3, 1)):
        return BounceClass.MAILBOX_FULL
    for bounce_class, pattern in _TEXT_RULES:
        if text and pattern.search(text):
            return bounce_class
    if subject_detail is not None and subject_detail[0] == 7:
        return BounceClass.BLOCKED
    if code in (550, 551, 553) and subject_detail is None:
        return BounceClass.INVALID_ADDRESS
    return BounceClass.OTHER


def is_hard(bounce_class: str) -> bool:
    """Hard means the address will never work: only invalid addresses."""
    return bounce_class == BounceClass.INVALID_ADDRESS
