"""Delivery API: event ingestion, the mail API, returned-report intake, message status search,
event lists."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from sesconsole.api_autoschema import error_response
from sesconsole.api_exports import ExportMixin
from sesconsole.api_support import ApiError
from sesconsole.tenancy import AccountScopedMixin, require_account, sees_all_accounts

from .api_docs import EVENT_BATCH, RAW_REPORT
from .exports import EVENT_COLUMNS, MESSAGE_COLUMNS
from .filters import STATUS_THEN, EventFilter, MessageFilter, paged_by_status
from .idempotency import answer_once
from .ingest import ingest_events
from .intake import intake
from .models import DeliveryEvent, EventType, Message, OutboundEmail, OutboundRecipient
from .sending import STALLED_AFTER, SendRequest, send_email
from .wire import BatchError, read_batch


class _BatchParser(BaseParser):
    """Hands the raw JSON body to `delivery.wire.read_batch`, which reads it item by item
    when one item is too deep for a whole-body decode."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        # Django's request.body enforces DATA_UPLOAD_MAX_MEMORY_SIZE (413).
        return parser_context["request"]._request.body


class EventIngestView(APIView):
    """Ingest a batch of delivery events (the mail pipeline's report of what happened)."""

    parser_classes = [_BatchParser]
    throttle_scope = "ingest"

    @extend_schema(
        operation_id="events_ingest",
        request={"application/json": EVENT_BATCH},
        responses={
            200: inline_serializer(
                "IngestResult",
                {
                    "accepted": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "errors": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
        examples=[
            OpenApiExample(
                "One bounce",
                request_only=True,
                value=[
                    {
                        "id": "evt-8f2c1",
                        "type": "bounced",
                        "timestamp": "2026-11-28T10:15:00.123Z",
                        "message_id": "msg-4711",
                        "to": "alice@gmail.com",
                        "smtp": {
                            "code": 550,
                            "enhanced": "5.1.1",
                            "text": "550 5.1.1 user unknown",
                        },
                    }
                ],
            )
        ],
    )
    def post(self, request):
        account = require_account(request)
        # Without a JSON Content-Type no parser ran: read the body as it came.
        raw = request.data if isinstance(request.data, bytes) else request.body
        try:
            body = read_batch(raw)
        except BatchError as exc:
            raise ApiError(exc.code, str(exc)) from None
        limit = settings.INGEST_MAX_BATCH
        if len(body) > limit:
            raise ApiError(
                "batch_too_large",
                f"A batch holds at most {limit} events; this one has {len(body)}. Split it.",
                413,
            )
        return Response(ingest_events(account, body).as_json())


# ---------------------------------------------------------------------------------------
# Mail API: send an email, see what became of it.


class AddressListField(serializers.ListField):
    """A list of addresses; a single string is taken as a list of one."""

    child = serializers.CharField(max_length=512)
    max_length = 1000

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        return super().to_internal_value(data)


class SendEmailSerializer(serializers.Serializer):
    from_address = serializers.CharField(max_length=512, source="from_address")
    to = AddressListField()
    cc = AddressListField(required=False, default=list)
    bcc = AddressListField(required=False, default=list)
    subject = serializers.CharField(max_length=998)
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    html = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    reply_to = serializers.CharField(required=False, allow_blank=True, max_length=512)
    headers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
    )
    reference = serializers.CharField(required=False, allow_blank=True, max_length=128)

    # What the sending rules (docs/sending.md) require beyond the fields' types.
    request_schema = {
        "from": {"format": "email"},
        "to": {"minItems": 1, "items": {"type": "string", "format": "email"}},
        "cc": {"items": {"type": "string", "format": "email"}},
        "bcc": {"items": {"type": "string", "format": "email"}},
        "reply_to": {"anyOf": [{"format": "email"}, {"maxLength": 0}]},
        "subject": {"pattern": r"^[^\r\n\x00]*[^\s\x00][^\r\n\x00]*$"},
        "headers": {
            "maxProperties": 50,
            "propertyNames": {
                "pattern": "^[Xx]-[!-9;-~]{1,74}$",
                "not": {"pattern": "^[Xx]-[Ss][Ee][Ss]-"},
            },
            "additionalProperties": {"type": "string", "maxLength": 998, "pattern": "^[^\r\n]*$"},
        },
        "anyOf": [
            {"required": ["text"], "properties": {"text": {"minLength": 1}}},
            {"required": ["html"], "properties": {"html": {"minLength": 1}}},
        ],
    }

    def get_fields(self):
        # "from" is a Python keyword: declare the field under another name, expose it as "from".
        fields = super().get_fields()
        fields["from"] = fields.pop("from_address")
        return fields


class RecipientResultSerializer(serializers.Serializer):
    address = serializers.CharField()
    field = serializers.CharField()
    message_id = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()


class SendResultSerializer(serializers.Serializer):
    id = serializers.CharField()
    reference = serializers.CharField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    recipients = RecipientResultSerializer(many=True)


def _recipient_json(row: OutboundRecipient) -> dict:
    return {
        "address": row.address,
        "field": row.field,
        "message_id": row.message_id,
        "status": row.state,
        "reason": row.reject_reason,
    }


def _waiting(row: OutboundRecipient) -> dict:
    """When the next attempt is due, and whether it is overdue (its worker or task was lost;
    the resume job queues it again)."""
    due = row.next_attempt_at
    overdue = (
        row.state not in OutboundRecipient.FINAL_STATES
        and due is not None
        and due < timezone.now() - STALLED_AFTER
    )
    return {
        "next_attempt_at": due.isoformat().replace("+00:00", "Z") if due else None,
        "stalled": overdue,
    }


def _engagement(account, message_ids: list[str]) -> dict[str, dict]:
    """Opens and clicks per message: totals, and those not flagged as machine. One query."""
    rows = (
        DeliveryEvent.objects.filter(
            account=account,
            message__message_id__in=message_ids,
            type__in=[EventType.OPENED, EventType.CLICKED],
        )
        .values("message__message_id", "type")
        .annotate(total=Count("id"), human=Count("id", filter=Q(is_machine=False)))
    )
    out: dict[str, dict] = {}
    for row in rows:
        kind = "opens" if row["type"] == EventType.OPENED else "clicks"
        out.setdefault(row["message__message_id"], {})[kind] = {
            "total": row["total"],
            "human": row["human"],
        }
    return out


def email_detail(email: OutboundEmail) -> dict:
    """An email with each recipient's status and engagement, totals and human counts."""
    rows = list(email.recipients.order_by("pk"))
    engagement = _engagement(email.account, [r.message_id for r in rows])
    summary = {
        kind: {"total": 0, "unique": 0, "human": 0, "human_unique": 0}
        for kind in ("opens", "clicks")
    }
    recipients = []
    for row in rows:
        item = _recipient_json(row)
        item["attempts"] = row.attempts
        item["last_reply"] = row.last_reply
        item.update(_waiting(row))
        counts = engagement.get(row.message_id, {})
        for kind in ("opens", "clicks"):
            c = counts.get(kind, {"total": 0, "human": 0})
            item[kind] = c
            summary[kind]["total"] += c["total"]
            summary[kind]["unique"] += c["total"] > 0
            summary[kind]["human"] += c["human"]
            summary[kind]["human_unique"] += c["human"] > 0
        recipients.append(item)
    return {
        "id": email.email_id,
        "reference": email.reference,
        "from": email.from_address,
        "subject": email.subject,
        "created_at": email.created_at.isoformat().replace("+00:00", "Z"),
        "tracking": {"opens": email.track_opens, "clicks": email.track_clicks},
        **summary,
        "recipients": recipients,
    }


class EmailViewSet(AccountScopedMixin, viewsets.GenericViewSet):
    """Send an email (`POST /api/v1/emails/`) and see what became of it."""

    queryset = OutboundEmail.objects.none()
    throttle_scope = "send"
    lookup_field = "email_id"
    serializer_class = SendEmailSerializer
    filter_backends: list = []

    def get_queryset(self):
        return super().get_queryset().select_related("account")

    @extend_schema(
        operation_id="emails_send",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
                OpenApiParameter.HEADER,
                description="Same key and body within 24 hours: the same answer, no second mail.",
            )
        ],
        responses={202: SendResultSerializer, 409: error_response(409)},
    )
    def create(self, request):
        account = require_account(request)
        serializer = SendEmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        req = SendRequest(
            from_address=data["from_address"],
            to=data["to"],
            cc=data["cc"],
            bcc=data["bcc"],
            subject=data["subject"],
            text=data.get("text", ""),
            html=data.get("html", ""),
            reply_to=data.get("reply_to", ""),
            headers=data["headers"],
            reference=data.get("reference", ""),
        )

        def act() -> tuple[int, dict]:
            email = send_email(account, req)
            rows = email.recipient_rows
            rejected = sum(r.state == OutboundRecipient.State.REJECTED for r in rows)
            return 202, {
                "id": email.email_id,
                "reference": email.reference,
                "accepted": len(rows) - rejected,
                "rejected": rejected,
                "recipients": [_recipient_json(r) for r in rows],
            }

        key = request.headers.get("Idempotency-Key")
        if key is None:
            status, body = act()
        else:
            status, body = answer_once(account, key, request.data, act)
        return Response(body, status=status)

    @extend_schema(operation_id="emails_retrieve", responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, email_id=None):
        return Response(email_detail(self.get_object()))


# ---------------------------------------------------------------------------------------
# Reading messages and events: the Email Status search and the per-type event lists.
# One FilterSet per resource drives the API list, the CSV export and the console page.


class MessageSerializer(serializers.ModelSerializer):
    opened = serializers.BooleanField(read_only=True)
    clicked = serializers.BooleanField(read_only=True)
    unsubscribed = serializers.BooleanField(read_only=True)
    complained = serializers.BooleanField(read_only=True)

    class Meta:
        model = Message
        fields = [
            "message_id",
            "from_address",
            "sender_domain",
            "recipient",
            "recipient_domain",
            "subject",
            "requested_at",
            "status",
            "status_at",
            "bounce_class",
            "response_text",
            "opened",
            "clicked",
            "unsubscribed",
            "complained",
            "first_opened_at",
            "first_clicked_at",
            "open_count",
            "click_count",
            "request_received",
        ]


class TimelineEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryEvent
        fields = [
            "event_id",
            "type",
            "timestamp",
            "bounce_class",
            "smtp_code",
            "smtp_enhanced",
            "response_text",
            "reason",
            "url",
            "user_agent",
            "ip",
        ]


class MessageDetailSerializer(MessageSerializer):
    events = serializers.SerializerMethodField()

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "events"]

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_events(self, message: Message) -> list:
        events = DeliveryEvent.objects.filter(account=message.account_id, message=message)
        return TimelineEventSerializer(events.order_by("timestamp", "pk"), many=True).data


class EventSerializer(TimelineEventSerializer):
    message_id = serializers.CharField(source="message.message_id", read_only=True)
    from_address = serializers.CharField(source="message.from_address", read_only=True)
    recipient = serializers.CharField(source="message.recipient", read_only=True)
    subject = serializers.CharField(source="message.subject", read_only=True)
    # The sending time: null while the message's request has not arrived.
    requested_at = serializers.DateTimeField(source="message.sent_at", read_only=True)

    class Meta(TimelineEventSerializer.Meta):
        fields = [
            *TimelineEventSerializer.Meta.fields,
            "message_id",
            "from_address",
            "recipient",
            "subject",
            "requested_at",
        ]


class MessageViewSet(AccountScopedMixin, ExportMixin, viewsets.ReadOnlyModelViewSet):
    """Per-message status: search by request date, recipient and status."""

    queryset = Message.objects.none()
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    lookup_field = "message_id"
    # Any id ingestion accepts: RFC 5322 Message-IDs may hold "/", and ids may hold a
    # newline. `export/` is routed before this, so it stays the export.
    lookup_value_regex = r"[\s\S]+"
    ordering_fields = ["requested_at", "status_at", "recipient", "status", "message_id"]
    ordering = ["-requested_at", "-pk"]
    ordering_then = STATUS_THEN
    csv_columns = MESSAGE_COLUMNS
    csv_name = "messages.csv"

    def get_serializer_class(self):
        return MessageDetailSerializer if self.action == "retrieve" else MessageSerializer

    def filter_queryset(self, queryset):
        if self.action == "retrieve":
            return queryset  # a message is found by its id alone
        return super().filter_queryset(queryset)

    def paginate_queryset(self, queryset):
        return super().paginate_queryset(paged_by_status(queryset))


class EventListViewSet(
    AccountScopedMixin, ExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Delivery events by type (e.g. every open, with time, recipient and user agent)."""

    queryset = DeliveryEvent.objects.none()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    ordering_fields = ["timestamp", "type"]
    ordering = ["-timestamp", "-pk"]
    csv_columns = EVENT_COLUMNS
    csv_name = "events.csv"

    def get_queryset(self):
        return super().get_queryset().with_message()


# ---------------------------------------------------------------------------------------
# Returned reports: the same intake as `manage.py intake_mail`, over HTTP.


class IntakeView(APIView):
    """Take in one raw bounce (RFC 3464) or feedback report (RFC 5965) as the request body.

    With an account's API key, reports match that account's messages only; staff (signed
    in, no account named) match across all accounts.
    """

    throttle_scope = "ingest"

    @extend_schema(
        operation_id="intake_report",
        request={"message/rfc822": RAW_REPORT},
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        account = None if sees_all_accounts(request) else require_account(request)
        raw = request.body
        if not raw.strip():
            raise ApiError("empty_message", "Send the raw message (RFC 5322) as the body.")
        report = intake(raw, account=account)
        return Response(
            {
                "id": report.pk,
                "status": report.status,
                "kind": report.kind,
                "message_id": report.message_id,
                "events": report.events,
                "note": report.note,
            }
        )
