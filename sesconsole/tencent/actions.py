"""The SES actions: Tencent's request fields in, Tencent's response fields out.

Each action takes the account the TC3 key acts for and the request's parameters, and returns
the fields of `Response` (the view adds `RequestId`). Actions only adapt: the work is done by
the services of `delivery`, `stats` and `blocklist`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from delivery.models import DeliveryEvent, EventType, Message
from sesconsole.models import Account
from stats import services as stats_services

from .params import Params, TencentError

Action = Callable[[Account, Params], dict[str, Any]]

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
    start = timezone.make_aware(datetime.combine(day, time.min), account.time_zone)
    end = timezone.make_aware(
        datetime.combine(day + timedelta(days=1), time.min), account.time_zone
    )
    return start, end


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
# SendStatus of a rejected message, by the `reason` of its `rejected` event: 1007 the
# address is blocklisted, 1013 the recipient unsubscribed, 1006 frequency control, 1010
# the daily limit.
REJECT_SEND_STATUS = {
    "blocklisted": 1007,
    "custom_blocked": 1007,
    "complained": 1007,
    "invalid_address": 1007,
    "unsubscribed": 1013,
    "frequency_limit": 1006,
    "daily_limit": 1010,
}
REJECT_DEFAULT_SEND_STATUS = 1007


def send_status(message: Message, reject_reason: str | None) -> int:
    if message.status != Message.Status.REJECTED:
        return 0
    return REJECT_SEND_STATUS.get(reject_reason or "", REJECT_DEFAULT_SEND_STATUS)


def get_send_email_status(account: Account, params: Params) -> dict[str, Any]:
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
        .annotate(reject_reason=Subquery(last_reason))
        .order_by("requested_at", "pk")
    )
    if message_id := params.str("MessageId"):
        messages = messages.filter(message_id=message_id)
    if to := params.str("ToEmailAddress"):
        messages = messages.filter(recipient__iexact=to)
    statuses = []
    for m in messages[offset : offset + limit]:
        finished = m.status not in (Message.Status.PENDING, Message.Status.REQUESTED)
        complained = m.complained
        statuses.append(
            {
                "MessageId": m.message_id,
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


def get_abuse_report(account: Account, params: Params) -> dict[str, Any]:
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


def get_statistics_report(account: Account, params: Params) -> dict[str, Any]:
    start = params.date("StartDate", required=True)
    end = params.date("EndDate", required=True)
    try:
        body = stats_services.series(
            account,
            start,
            end,
            "day",
            sender_domain=params.str("Domain") or None,
            recipient_domain=params.str("ReceivingMailboxType") or None,
        )
    except stats_services.StatsError as exc:
        raise TencentError("InvalidParameterValue.WrongDate", exc.message) from None
    return {
        "DailyVolumes": [_volume(b["start"][:10], b) for b in body["buckets"]],
        "OverallVolume": _volume("", body["totals"]),
    }


ACTIONS: dict[str, Action] = {
    "GetStatisticsReport": get_statistics_report,
    "GetSendEmailStatus": get_send_email_status,
    "GetAbuseReport": get_abuse_report,
}
