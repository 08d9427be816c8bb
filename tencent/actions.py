"""The SES actions: Tencent's request fields in, Tencent's response fields out.

Each action takes the caller (the account its TC3 key acts for) and the request's parameters,
and returns the fields of `Response` (the view adds `RequestId`). Actions only adapt: the work
is done by the services of `delivery`, `stats` and `blocklist`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from blocklist import actions as blocklist_actions
from blocklist import custom, queries
from blocklist.changes import Actor
from blocklist.errors import BlocklistError
from delivery import idempotency, sending
from delivery.addresses import InvalidAddress, normalize_address
from delivery.models import DeliveryEvent, EventType, Message, OutboundRecipient
from delivery.sending import SendError, SendRequest
from sesconsole.lib.errors import ServiceError
from sesconsole.lib.timezones import day_bounds, zone_of
from sesconsole.models import Account
from stats import services as stats_services

from . import shapes
from .params import Params, TencentError


@dataclass(frozen=True)
class Context:
    """Who calls: the account the TC3 key acts for, and the key, for history rows."""

    account: Account
    actor: Actor
    # The caller's `Idempotency-Key` header (the SDK sends a request's `headers`): SendEmail
    # acts once per key and body, as POST /api/v1/emails/ does.
    idempotency_key: str | None = None


Action = Callable[[Context, Params], dict[str, Any]]

# Every action of the SES 2020-10-02 API: those not in ACTIONS answer UnsupportedOperation,
# anything else InvalidAction.
KNOWN_ACTIONS = frozenset(
    """
    BatchSendEmail CreateAddressUnsubscribeConfig CreateCustomBlacklist CreateEmailAddress
    CreateEmailIdentity CreateEmailTemplate CreateReceiver CreateReceiverDetail
    CreateReceiverDetailWithData DeleteAddressUnsubscribeConfig DeleteBlackList
    DeleteCustomBlackList DeleteEmailAddress DeleteEmailIdentity DeleteEmailTemplate
    DeleteReceiver GetAbuseReport GetEmailIdentity GetEmailTemplate GetSendEmailStatus
    GetStatisticsReport ListAddressUnsubscribeConfig ListBlackEmailAddress ListCustomBlacklist
    ListEmailAddress ListEmailIdentities ListEmailTemplates ListReceiverDetails ListReceivers
    ListSendTasks SendEmail UpdateAddressUnsubscribeConfig UpdateCustomBlackList
    UpdateEmailIdentity UpdateEmailSmtpPassWord UpdateEmailTemplate
    """.split()
)

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ABUSE_REPORT_MAX_LIMIT = 1000


def _local(account: Account, value: datetime | None) -> str:
    """A `YYYY-MM-DD HH:MM:SS` string in the account's time zone, or "" for no time."""
    if value is None:
        return ""
    return timezone.localtime(value, account.time_zone).strftime(DATETIME_FORMAT)


def _epoch(value: datetime | None) -> int:
    return int(value.timestamp()) if value is not None else 0


def _day_bounds(account: Account, day) -> tuple[datetime, datetime]:
    return day_bounds(day, day, zone_of(account))


# --- GetSendEmailStatus -----------------------------------------------------------------

# DeliverStatus: 0 queued, 1 delivered, 2 dropped by the service, 3 rejected by the ESP,
# 8 deferred.
DELIVER_STATUS = {
    Message.Status.PENDING: 0,
    Message.Status.REQUESTED: 0,
    Message.Status.DELIVERED: 1,
    Message.Status.REJECTED: 2,
    Message.Status.BOUNCED: 3,
    Message.Status.DEFERRED: 8,
}
# SendStatus of a rejected message, by the `reason` of its `rejected` event: 1013 the
# recipient unsubscribed; 1007 the address is blocklisted (every other block reason).
REJECT_SEND_STATUS = {"unsubscribed": 1013}
REJECT_DEFAULT_SEND_STATUS = 1007


def send_status(message: Message, reject_reason: str | None) -> int:
    if message.status != Message.Status.REJECTED:
        return 0
    return REJECT_SEND_STATUS.get(reject_reason or "", REJECT_DEFAULT_SEND_STATUS)


def get_send_email_status(ctx: Context, params: Params) -> dict[str, Any]:
    account = ctx.account
    day = params.date("RequestDate", required=True)
    offset = params.int("Offset", required=True)
    limit = params.limit()
    start, end = _day_bounds(account, day)
    last_reason = (
        DeliveryEvent.objects.filter(message=OuterRef("pk"), type=EventType.REJECTED)
        .order_by("-timestamp")
        .values("reason")[:1]
    )
    messages = (
        Message.objects.for_account(account)
        .requested_between(start, end)
        .annotate(
            reject_reason=Subquery(last_reason),
            send_email_id=Subquery(
                OutboundRecipient.objects.filter(
                    account=OuterRef("account"), message_id=OuterRef("message_id")
                ).values("email__email_id")[:1]
            ),
        )
        .order_by("requested_at", "pk")
    )
    if message_id := params.str("MessageId"):
        # SendEmail answers one MessageId per request; each recipient's message is named
        # after it.
        sent = OutboundRecipient.objects.filter(account=account, email__email_id=message_id)
        messages = messages.filter(
            Q(message_id=message_id) | Q(message_id__in=sent.values("message_id"))
        )
    if to := params.str("ToEmailAddress"):
        messages = messages.filter(recipient__iexact=to)
    statuses = []
    for m in messages[offset : offset + limit]:
        finished = m.status not in (Message.Status.PENDING, Message.Status.REQUESTED)
        complained = m.complained
        statuses.append(
            {
                "MessageId": m.send_email_id or m.message_id,
                "ToEmailAddress": m.recipient,
                "FromEmailAddress": m.from_address,
                "SendStatus": send_status(m, m.reject_reason),
                "DeliverStatus": DELIVER_STATUS[m.status],
                "DeliverMessage": m.response_text,
                "RequestTime": _epoch(m.requested_at),
                "DeliverTime": _epoch(m.status_at) if finished else 0,
                "UserOpened": m.opened,
                "UserClicked": m.clicked,
                "UserUnsubscribed": m.unsubscribed,
                "UserComplainted": complained,  # Tencent's legacy spelling, still returned
                "UserComplained": complained,
            }
        )
    return {"EmailStatusList": statuses}


# --- GetAbuseReport ---------------------------------------------------------------------


def get_abuse_report(ctx: Context, params: Params) -> dict[str, Any]:
    account = ctx.account
    start, _ = params.date_or_datetime(
        "StartTime", required=True, code="InvalidParameter.InvalidStartTimeFormat"
    )
    end, end_is_date = params.date_or_datetime(
        "EndTime", required=True, code="InvalidParameter.InvalidEndTimeFormat"
    )
    if end_is_date:
        end += timedelta(days=1)  # a date names the whole day
    else:
        end += timedelta(seconds=1)
    offset = params.int("Offset", default=0)
    limit = params.limit(
        required=False, default=ABUSE_REPORT_MAX_LIMIT, maximum=ABUSE_REPORT_MAX_LIMIT
    )
    events = (
        DeliveryEvent.objects.for_account(account)
        .of_type(EventType.COMPLAINED)
        .filter(
            timestamp__gte=timezone.make_aware(start, account.time_zone),
            timestamp__lt=timezone.make_aware(end, account.time_zone),
        )
        .select_related("message")
        .order_by("timestamp", "pk")
    )
    if from_domain := params.str("FromDomain"):
        events = events.filter(message__sender_domain__iexact=from_domain)
    if from_address := params.str("FromAddress"):
        events = events.filter(message__from_address__iexact=from_address)
    if mta := params.str("Mta"):
        events = events.filter(message__recipient_domain__iexact=mta)
    if to := params.str("ToAddress"):
        events = events.filter(message__recipient__iexact=to)
    if params.str("TemplateId"):
        events = events.none()  # mail sent here has no templates
    total = events.count()
    reports = []
    for event in events[offset : offset + limit]:
        m = event.message
        complained = _local(account, event.timestamp)
        reports.append(
            {
                "DeliverTime": _local(account, m.requested_at),
                "OriginalMailFrom": m.from_address,
                "OriginalRcptTo": m.recipient,
                "FromDomain": m.sender_domain,
                "ComplainTime": complained,
                "Mta": m.recipient_domain,
                "SourceIp": event.ip or "",
                "InsertTime": _local(account, event.received_at),
                "TemplateId": "",
                "BulkId": m.message_id,
                "MessageId": m.message_id,
                "AbuseTime": complained,
                "Subject": m.subject,
            }
        )
    return {"Data": reports, "TotalCount": total}


# --- GetStatisticsReport ----------------------------------------------------------------


def _volume(send_date: str, counters: dict[str, int]) -> dict[str, Any]:
    # Rejected mail never got a `request` event: Tencent counts it as requested, not accepted.
    return {
        "SendDate": send_date,
        "RequestCount": counters["requests"] + counters["rejected"],
        "AcceptedCount": counters["requests"],
        "DeliveredCount": counters["delivered"],
        "OpenedCount": counters["opened"],
        "ClickedCount": counters["clicked_unique"],
        "BounceCount": counters["bounced"],
        "UnsubscribeCount": counters["unsubscribed"],
    }


def get_statistics_report(ctx: Context, params: Params) -> dict[str, Any]:
    account = ctx.account
    start = params.date("StartDate", required=True)
    end = params.date("EndDate", required=True)
    try:
        body = stats_services.series(
            account,
            start,
            end,
            "day",
            sender_domain=(params.str("Domain") or "").lower() or None,
            recipient_domain=(params.str("ReceivingMailboxType") or "").lower() or None,
        )
    except stats_services.StatsError as exc:
        raise TencentError("InvalidParameterValue.WrongDate", exc.message) from None
    return {
        "DailyVolumes": [_volume(b["start"][:10], b) for b in body["buckets"]],
        "OverallVolume": _volume("", body["totals"]),
    }


# --- The invalid-address blocklist: ListBlackEmailAddress, DeleteBlackList ----------------

# BlocklistError codes as Tencent names them.
BLOCKLIST_ERRORS = {
    "too_many_addresses": "LimitExceeded.ReceiverDetailRequestLimit",
    "expiry_in_past": "InvalidParameterValue.WrongDate",
    "invalid_address": "InvalidParameterValue.IllegalEmailAddress",
    "already_blocked": "InvalidParameterValue.RepeatEmailAddress",
    "not_found": "ResourceNotFound",
}


def _blocklist_error(exc: BlocklistError) -> TencentError:
    return TencentError(BLOCKLIST_ERRORS.get(exc.code, "InvalidParameterValue"), exc.message)


def _valid_addresses(addresses: list[str]) -> list[str]:
    try:
        return [normalize_address(a) for a in addresses]
    except InvalidAddress as exc:
        raise TencentError("InvalidParameterValue.IllegalEmailAddress", str(exc)) from None


def list_black_email_address(ctx: Context, params: Params) -> dict[str, Any]:
    start = params.date("StartDate", required=True)
    end = params.date("EndDate", required=True)
    limit = params.limit()
    offset = params.int("Offset", required=True)
    params.str("TaskID")  # deprecated by Tencent: accepted and ignored
    blocks = queries.invalid_blocks_visible_to(
        ctx.account, start, end, params.str("EmailAddress") or ""
    ).filter(whitelisted=False)  # a whitelisted address is not blocked for this account
    return {
        "BlackList": [
            shapes.black_address(b, ctx.account.pk, zone_of(ctx.account))
            for b in blocks[offset : offset + limit]
        ],
        "TotalCount": blocks.count(),
    }


@transaction.atomic
def delete_black_list(ctx: Context, params: Params) -> dict[str, Any]:
    """Resume delivery to each address: remove the blocks this account's sending caused,
    and whitelist, for this account, those another account's sending caused."""
    addresses = _valid_addresses(params.str_list("EmailAddressList", required=True))
    try:
        removed = blocklist_actions.remove_invalid_blocks(ctx.account, addresses, actor=ctx.actor)
        others = [r["address"] for r in removed.refused]
        if others:
            blocklist_actions.whitelist_addresses(ctx.account, others, actor=ctx.actor)
    except BlocklistError as exc:
        raise _blocklist_error(exc) from None
    return {}


# --- Custom blocklist ----------------------------------------------------------------

CUSTOM_STATUS = {0: "expired", 1: "active", 2: "all"}


def create_custom_blacklist(ctx: Context, params: Params) -> dict[str, Any]:
    emails = params.str_list(
        "Emails", required=True, missing_code="MissingParameter.EmailsNecessary"
    )
    expires_on = params.date("ExpireDate")
    try:
        report = custom.add_custom_blocks(
            ctx.account, emails, actor=ctx.actor, expires_on=expires_on, note="Added by API."
        )
    except BlocklistError as exc:
        raise _blocklist_error(exc) from None
    return shapes.add_report(report)


def list_custom_blacklist(ctx: Context, params: Params) -> dict[str, Any]:
    offset = params.int("Offset", required=True)
    limit = params.limit()
    status = params.int("Status", required=True)
    if status not in CUSTOM_STATUS:
        raise TencentError(
            "InvalidParameterValue", "Status must be 0 (expired), 1 (active) or 2 (all)."
        )
    blocks = queries.custom_blocks(ctx.account, CUSTOM_STATUS[status], params.str("Email") or "")
    return {
        "TotalCount": blocks.count(),
        "Data": [
            shapes.custom_entry(b, zone_of(ctx.account)) for b in blocks[offset : offset + limit]
        ],
    }


def update_custom_black_list(ctx: Context, params: Params) -> dict[str, Any]:
    block_id = params.int("Id", required=True)
    email = params.str("Email", required=True)
    expires_on = params.date("ExpireDate")  # empty: permanent
    try:
        custom.update_custom_block(
            ctx.account, block_id, actor=ctx.actor, address=email, expires_on=expires_on
        )
    except BlocklistError as exc:
        raise _blocklist_error(exc) from None
    return {}


def delete_custom_black_list(ctx: Context, params: Params) -> dict[str, Any]:
    emails = params.str_list(
        "Emails", required=True, missing_code="MissingParameter.EmailsNecessary"
    )
    try:
        custom.delete_custom_blocks(ctx.account, emails, actor=ctx.actor, note="Deleted by API.")
    except BlocklistError as exc:
        raise _blocklist_error(exc) from None
    return {}


# --- SendEmail ----------------------------------------------------------------------

MAX_DESTINATIONS = 50
MAX_CC = 20
MAX_SUBJECT = 998  # RFC 5322's line limit, as delivery.sending enforces

# SendError codes of delivery.sending as Tencent names them.
SEND_ERRORS = {
    "invalid_address": "InvalidParameterValue.IllegalEmailAddress",
    "sender_not_verified": "FailedOperation.NotAuthenticatedSender",
    "missing_field": "MissingParameter",
    "invalid_field": "InvalidParameterValue",
    "invalid_headers": "InvalidParameterValue",
    "message_too_large": "FailedOperation.EmailContentToolarge",
    "too_many_recipients": "FailedOperation.TooManyRecipients",
}
# When every recipient is refused, SendEmail fails with the code of the first refusal.
REJECT_ERRORS = {
    "unsubscribed": (
        "FailedOperation.ReceiverHasUnsubscribed",
        "The recipient has unsubscribed from this sender.",
    ),
}
REJECT_DEFAULT_ERROR = ("FailedOperation.EmailAddrInBlacklist", "The recipient is blocklisted.")


def _base64_text(value: str | None, name: str) -> str:
    if not value:
        return ""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, ValueError):
        raise TencentError(
            "InvalidParameterValue.EmailContentIsWrong", f"Simple.{name} must be base64 of UTF-8."
        ) from None
    if "\x00" in text:
        raise TencentError(
            "InvalidParameterValue.EmailContentIsWrong", f"Simple.{name} holds a NUL character."
        )
    return text


def _smtp_headers(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    try:
        headers = json.loads(value)
    except ValueError:
        headers = None
    if not isinstance(headers, dict):
        raise TencentError(
            "InvalidParameterValue", "SmtpHeaders must be a JSON object of header names and values."
        )
    return headers


def send_email(ctx: Context, params: Params) -> dict[str, Any]:
    """Send plain content (`Simple`) through delivery.sending; templates are not offered."""
    from_address = params.str("FromEmailAddress", required=True)
    to = params.str_list("Destination")
    cc = params.str_list("Cc")
    bcc = params.str_list("Bcc")
    if not (to or cc or bcc):
        raise TencentError(
            "InvalidParameterValue.EmailAddressIsNULL", "Name at least one recipient."
        )
    if len(to) > MAX_DESTINATIONS:
        raise TencentError(
            "FailedOperation.TooManyRecipients", f"At most {MAX_DESTINATIONS} recipients."
        )
    if len(cc) > MAX_CC or len(bcc) > MAX_CC:
        raise TencentError(
            "FailedOperation.TooManyRecipients", f"At most {MAX_CC} Cc and Bcc each."
        )
    subject = params.str("Subject", required=True)
    if len(subject) > MAX_SUBJECT or "\n" in subject or "\r" in subject:
        raise TencentError(
            "InvalidParameterValue.SubjectLengthError",
            f"Subject must be one line of at most {MAX_SUBJECT} characters.",
        )
    if params.data.get("Template"):
        raise TencentError(
            "UnsupportedOperation", "Templates are not supported here: send Simple content."
        )
    if params.data.get("Attachments"):
        raise TencentError("UnsupportedOperation", "Attachments are not supported here.")
    simple = params.data.get("Simple")
    if not isinstance(simple, dict):
        raise TencentError(
            "FailedOperation.MissingEmailContent", "Send Simple.Html or Simple.Text."
        )
    content = Params(simple)
    html = _base64_text(content.str("Html"), "Html")
    text = _base64_text(content.str("Text"), "Text")
    request = SendRequest(
        from_address=from_address,
        to=to,
        cc=cc,
        bcc=bcc,
        subject=subject,
        text=text,
        html=html,
        reply_to=params.str("ReplyToAddresses") or "",
        headers=_smtp_headers(params.str("SmtpHeaders")),
    )
    if not (html or text):
        raise TencentError(
            "FailedOperation.MissingEmailContent", "Send Simple.Html or Simple.Text."
        )

    def act() -> tuple[int, dict[str, Any]]:
        try:
            email = sending.send_email(ctx.account, request)
        except SendError as exc:
            code = SEND_ERRORS.get(exc.code, "FailedOperation")
            if exc.code == "invalid_address" and set(exc.details) & {"to", "cc", "bcc"}:
                code = "InvalidParameterValue.ReceiverEmailInvalid"
            raise TencentError(code, exc.message) from None
        rows = email.recipient_rows
        if all(r.state == OutboundRecipient.State.REJECTED for r in rows):
            # Stored (the rejections are part of the record) and answered as an error; a
            # repeat with the same key gets the same error, not a second attempt.
            code, message = REJECT_ERRORS.get(rows[0].reject_reason, REJECT_DEFAULT_ERROR)
            return 400, {"Error": {"Code": code, "Message": f"{message} ({rows[0].address})"}}
        return 200, {"MessageId": email.email_id}

    if ctx.idempotency_key is None:
        _, answer = act()
    else:
        try:
            _, answer = idempotency.answer_once(
                ctx.account, ctx.idempotency_key, {"SendEmail": params.data}, act
            )
        except ServiceError as exc:  # an empty or reused key
            raise TencentError("InvalidParameterValue", exc.message) from None
    if "Error" in answer:
        raise TencentError(answer["Error"]["Code"], answer["Error"]["Message"])
    return answer


ACTIONS: dict[str, Action] = {
    "SendEmail": send_email,
    "ListBlackEmailAddress": list_black_email_address,
    "DeleteBlackList": delete_black_list,
    "CreateCustomBlacklist": create_custom_blacklist,
    "ListCustomBlacklist": list_custom_blacklist,
    "UpdateCustomBlackList": update_custom_black_list,
    "DeleteCustomBlackList": delete_custom_black_list,
    "GetStatisticsReport": get_statistics_report,
    "GetSendEmailStatus": get_send_email_status,
    "GetAbuseReport": get_abuse_report,
}
