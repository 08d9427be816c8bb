"""Returned reports: delivery status notifications (RFC 3464) and feedback reports (RFC 5965).

`intake(raw)` turns one raw message into `bounced`, `deferred` or `complained` events for the
message it is about, matched by the X-SES-Message-ID header every sent mail carries, falling
back to its Message-ID. Every report is kept as an InboundReport, so unmatched or unparsable
mail can be reviewed instead of being lost.
"""

from __future__ import annotations

import hashlib
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from sesconsole.models import Account

from .bounces import classify_reply, is_enhanced_status
from .ingest import ingest_events
from .models import BounceClass, EventType, InboundReport, OutboundRecipient
from .reports import BOUNCE, COMPLAINT, RecipientOutcome, Report, parse_report
from .sending import SES_HEADER

# Our message ids as they appear anywhere in a returned message (headers quoted in the body
# of plain-text bounces included).
_SES_ID_IN_TEXT = re.compile(rb"X-SES-Message-ID:[ \t]*<?([0-9a-f]{32}-\d{1,3})>?", re.IGNORECASE)
_BOUNCE_CLASSES = frozenset(BounceClass.values)


def intake(raw: bytes, *, account: Account | None = None) -> InboundReport:
    """Read one returned report; store its events once and keep the report.

    1. A report the same submitter already sent in (same bytes) is returned as it is:
       nothing counts twice (the events of another submitter's copy share their keys).
    2. Parse it; anything that is no bounce or feedback report is kept as "not a report".
    3. Find the message it is about (within `account` when given).
    4. Ingest one event per failed or delayed recipient, or one `complained` event.
    """
    digest = hashlib.sha256(raw).hexdigest()
    # Per submitter: another account's copy of the same bytes names its own match or miss.
    mine = InboundReport.objects.filter(sha256=digest, submitted_by=account)
    known = mine.first()
    if known is not None:
        return known
    record = InboundReport(sha256=digest, raw=raw, account=account, submitted_by=account)
    try:
        _process(record, raw, account)
    except IntegrityError:  # the same report arrived twice at once
        return mine.get()
    return record


# Kept reports worth reading again: an unmatched one once the message it names is known, one
# that was no report (or could not be read) once the reader learns its shape. Events are keyed
# by the report's digest, so a report read twice never counts twice.
READ_AGAIN = (InboundReport.Status.UNMATCHED, InboundReport.Status.NOT_A_REPORT)


def rematch(record: InboundReport) -> InboundReport:
    """Read a kept unmatched or not-a-report report again; a matched one stays as it is."""
    if record.status in READ_AGAIN:
        _process(record, bytes(record.raw), record.account)
    return record


def _process(record: InboundReport, raw: bytes, account: Account | None) -> None:
    report = parse_report(raw)
    record.kind = report.kind
    recipient = None
    if report.kind not in (BOUNCE, COMPLAINT):
        record.status = InboundReport.Status.NOT_A_REPORT
        record.note = (
            f"Could not be read ({report.unreadable}); kept for review."
            if report.unreadable
            else "Neither a delivery status notification nor a feedback report."
        )
    else:
        recipient = _match(raw, report, account)
        if recipient is None:
            record.status = InboundReport.Status.UNMATCHED
            record.note = (
                f"No sent message matches (X-SES-Message-ID or Message-ID "
                f"{report.original_message_id or 'missing'})."
            )
    events: list[dict] = []
    if recipient is not None:
        record.status = InboundReport.Status.MATCHED
        record.account_id = recipient.account_id
        record.message_id = recipient.message_id
        events, record.note = _events(report, recipient, record.sha256)
        if not events:
            record.note = "The report names no failed, delayed or complaining recipient."
    with transaction.atomic():
        if events:
            result = ingest_events(recipient.account, events)
            if result.errors:
                raise ValueError(f"intake produced invalid events: {result.errors}")
            record.events = result.accepted
        record.save()


def _match(raw: bytes, report: Report, account: Account | None) -> OutboundRecipient | None:
    """The sent message a report is about: by our header first, then by Message-ID."""
    recipients = OutboundRecipient.objects.select_related("account")
    if account is not None:
        recipients = recipients.filter(account=account)
    ours = report.original_header(SES_HEADER)
    candidates = [ours.strip("<> ")] if ours else []
    candidates += [m.decode() for m in _SES_ID_IN_TEXT.findall(raw)]
    # One query, whatever the count: a hostile report can quote thousands of ids.
    candidates = list(dict.fromkeys(candidates))
    found = recipients.in_bulk(candidates, field_name="message_id")
    for message_id in candidates:
        if message_id in found:
            return found[message_id]
    original = (report.original_message_id or "").strip()
    if original:
        if not original.startswith("<"):
            original = f"<{original}>"
        return recipients.filter(smtp_message_id=original).first()
    return None


def _pick(report: Report, recipient: OutboundRecipient) -> list[RecipientOutcome]:
    """The outcomes about our recipient; a report that names nobody is about our one."""
    named = [o for o in report.recipients if o.recipient == recipient.address]
    if named:
        return named
    return [o for o in report.recipients if not o.recipient or len(report.recipients) == 1]


def _events(report: Report, recipient: OutboundRecipient, digest: str) -> tuple[list[dict], str]:
    """The events a matched report means for our recipient, and a note of why a weaker class
    was given, if one was."""
    base = {
        "timestamp": timezone.now().isoformat(),
        "message_id": recipient.message_id,
        "to": recipient.address,
    }
    key = f"{recipient.message_id}:report:{digest[:16]}"
    if report.kind == COMPLAINT:
        return [{**base, "id": f"{key}:complained", "type": EventType.COMPLAINED}], ""
    events = []
    # Why a weaker class was given on purpose, kept on the report for staff to read.
    note = ""
    # One sent mail has one recipient, so one outcome counts: the first failed or delayed.
    outcomes = [o for o in _pick(report, recipient) if o.action in ("failed", "delayed")]
    for index, outcome in enumerate(outcomes[:1]):
        smtp: dict = {"text": (outcome.diagnostic or outcome.status or "")[:4000]}
        if outcome.smtp_code and 200 <= outcome.smtp_code <= 599:
            smtp["code"] = outcome.smtp_code
        if is_enhanced_status(outcome.status or ""):
            smtp["enhanced"] = outcome.status
        event = {**base, "id": f"{key}:{index}", "smtp": smtp}
        if outcome.action == "delayed":
            event["type"] = EventType.DEFERRED
        else:
            event["type"] = EventType.BOUNCED
            bounce_class = str(outcome.bounce_class)
            evidence = outcome.evidence
            if bounce_class not in _BOUNCE_CLASSES:
                bounce_class, evidence = (
                    str(classify_reply(smtp.get("code"), smtp.get("enhanced", ""), smtp["text"])),
                    "",
                )
            if (
                bounce_class == BounceClass.INVALID_ADDRESS
                and outcome.recipient
                and outcome.recipient != recipient.address
            ):
                # The report names another address (a forward, an alias): its mailbox not
                # existing says nothing about the address we sent to.
                bounce_class, evidence = BounceClass.OTHER, ""
                note = f"the report names {outcome.recipient}, not the address sent to"
            note = note or outcome.reason
            if note:
                note = f"Classified {bounce_class}: {note}."
            event["bounce_class"] = bounce_class
            if bounce_class == BounceClass.INVALID_ADDRESS and evidence:
                event["bounce_evidence"] = evidence
        events.append(event)
    return events, note
