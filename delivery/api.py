"""Delivery API: event ingestion, the mail API, returned-report intake, message status search,
event lists."""

from __future__ import annotations

from datetime import UTC, timedelta

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from sesconsole.api_support import ApiError
from sesconsole.tenancy import current_account, require_account, scope, sees_all_accounts
from stats.exports import EVENT_COLUMNS, MESSAGE_COLUMNS, csv_response, queryset_csv
from stats.services import local_midnight, zone_of

from .addresses import InvalidAddress, normalize_address
from .ingest import ingest_events
from .intake import intake
from .models import BounceClass, DeliveryEvent, EventType, Message, OutboundEmail, OutboundRecipient
from .sending import SendError, SendRequest, send_email


class EventIngestView(APIView):
    """Ingest a batch of delivery events (the mail pipeline's report of what happened)."""

    @extend_schema(
        operation_id="events_ingest",
        request=OpenApiTypes.OBJECT,
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
        body = request.data
        if isinstance(body, dict) and "events" in body:
            body = body["events"]
        if not isinstance(body, list):
            raise ApiError(
                "invalid_batch", 'Send a JSON array of events, or an object {"events": [...]}.'
            )
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


class EmailViewSet(viewsets.GenericViewSet):
    """Send an email (`POST /api/v1/emails/`) and see what became of it."""

    queryset = OutboundEmail.objects.none()
    lookup_field = "email_id"
    serializer_class = SendEmailSerializer
    filter_backends: list = []

    def get_queryset(self):
        return scope(OutboundEmail.objects.select_related("account"), self.request)

    @extend_schema(operation_id="emails_send", responses={202: SendResultSerializer})
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
        try:
            email = send_email(account, req)
        except SendError as exc:
            raise ApiError(exc.code, exc.message, exc.status, exc.details) from None
        rows = email.recipient_rows
        rejected = sum(r.state == OutboundRecipient.State.REJECTED for r in rows)
        body = {
            "id": email.email_id,
            "reference": email.reference,
            "accepted": len(rows) - rejected,
            "rejected": rejected,
            "recipients": [_recipient_json(r) for r in rows],
        }
        return Response(body, status=202)

    @extend_schema(operation_id="emails_retrieve", responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, email_id=None):
        return Response(email_detail(self.get_object()))


# ---------------------------------------------------------------------------------------
# Reading messages and events: the Email Status search and the per-type event lists.
# One FilterSet per resource drives the API list, the CSV export and the console page.


class DateRangeForm(forms.Form):
    """`start`..`end` dates (inclusive, in the account's zone): required and bounded."""

    max_days = 31

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "'end' must not be before 'start'.")
            elif (end - start).days >= self.max_days:
                self.add_error("end", f"A search covers at most {self.max_days} days.")
        return data


class _AccountZoneFilterSet(django_filters.FilterSet):
    def zone(self):
        account = current_account(self.request) if self.request is not None else None
        return zone_of(account) if account is not None else UTC

    def day_range(self, queryset, field: str, start, end):
        tz = self.zone()
        if start:
            queryset = queryset.filter(**{f"{field}__gte": local_midnight(start, tz)})
        if end:
            queryset = queryset.filter(**{f"{field}__lt": local_midnight(end + timedelta(1), tz)})
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        queryset = self.day_range(queryset, self.time_field, data.get("start"), data.get("end"))
        return super().filter_queryset(queryset)

    def filter_noop(self, queryset, name, value):
        return queryset  # applied together with its pair in filter_queryset

    def filter_recipient(self, queryset, name, value):
        try:
            value = normalize_address(value)
        except InvalidAddress:
            value = value.strip()
        return queryset.filter(**{name: value})


class MessageFilter(_AccountZoneFilterSet):
    time_field = "requested_at"
    start = django_filters.DateFilter(
        required=True, method="filter_noop", help_text="First day of the request time."
    )
    end = django_filters.DateFilter(
        required=True, method="filter_noop", help_text="Last day (inclusive); at most 31 days."
    )
    recipient = django_filters.CharFilter(field_name="recipient", method="filter_recipient")
    status = django_filters.ChoiceFilter(
        field_name="status", choices=Message.Status.choices, empty_label="Any"
    )
    sender_domain = django_filters.CharFilter(field_name="sender_domain", lookup_expr="exact")
    recipient_domain = django_filters.CharFilter(field_name="recipient_domain", lookup_expr="exact")

    class Meta:
        model = Message
        fields: list[str] = []
        form = DateRangeForm


class EventFilter(_AccountZoneFilterSet):
    time_field = "timestamp"
    start = django_filters.DateFilter(
        required=True, method="filter_noop", help_text="First day of the event time."
    )
    end = django_filters.DateFilter(
        required=True, method="filter_noop", help_text="Last day (inclusive); at most 31 days."
    )
    type = django_filters.MultipleChoiceFilter(field_name="type", choices=EventType.choices)
    bounce_class = django_filters.ChoiceFilter(
        field_name="bounce_class", choices=BounceClass.choices, empty_label="Any"
    )
    recipient = django_filters.CharFilter(
        field_name="message__recipient", method="filter_recipient"
    )
    sender_domain = django_filters.CharFilter(field_name="message__sender_domain")
    recipient_domain = django_filters.CharFilter(field_name="message__recipient_domain")
    sent_start = django_filters.DateFilter(
        method="filter_sent", help_text="Sending time: first day of the message's request."
    )
    sent_end = django_filters.DateFilter(
        method="filter_sent", help_text="Sending time: last day (inclusive)."
    )

    class Meta:
        model = DeliveryEvent
        fields: list[str] = []
        form = DateRangeForm

    def filter_sent(self, queryset, name, value):
        if name == "sent_start":
            return self.day_range(queryset, "message__requested_at", value, None)
        return self.day_range(queryset, "message__requested_at", None, value)


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
    requested_at = serializers.DateTimeField(source="message.requested_at", read_only=True)

    class Meta(TimelineEventSerializer.Meta):
        fields = [
            *TimelineEventSerializer.Meta.fields,
            "message_id",
            "from_address",
            "recipient",
            "subject",
            "requested_at",
        ]


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` select the streamed CSV export of a list."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data  # list views answer CSV with a StreamingHttpResponse of their own


class _ExportMixin:
    csv_columns: list[tuple[str, str]] = []
    csv_name = "export.csv"

    def list(self, request, *args, **kwargs):
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return self.export(request)
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer, JSONRenderer])
    def export(self, request, *args, **kwargs):
        """Every matching row as CSV (streamed; epoch-ms and ISO-8601 time columns)."""
        queryset = self.filter_queryset(self.get_queryset())
        return csv_response(self.csv_name, queryset_csv(queryset, self.csv_columns))


class MessageViewSet(_ExportMixin, viewsets.ReadOnlyModelViewSet):
    """Per-message status: search by request date, recipient and status."""

    queryset = Message.objects.none()
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    lookup_field = "message_id"
    lookup_value_regex = "[^/]+"
    ordering_fields = ["requested_at", "status_at", "recipient", "status", "message_id"]
    ordering = ["-requested_at", "-pk"]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    csv_columns = MESSAGE_COLUMNS
    csv_name = "messages.csv"

    def get_queryset(self):
        return scope(Message.objects.all(), self.request)

    def get_serializer_class(self):
        return MessageDetailSerializer if self.action == "retrieve" else MessageSerializer

    def filter_queryset(self, queryset):
        if self.action == "retrieve":
            return queryset  # a message is found by its id alone
        return super().filter_queryset(queryset)


class EventListViewSet(_ExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Delivery events by type (e.g. every open, with time, recipient and user agent)."""

    queryset = DeliveryEvent.objects.none()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    ordering_fields = ["timestamp", "type"]
    ordering = ["-timestamp", "-pk"]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    csv_columns = EVENT_COLUMNS
    csv_name = "events.csv"

    def get_queryset(self):
        return scope(DeliveryEvent.objects.with_message(), self.request)


# ---------------------------------------------------------------------------------------
# Returned reports: the same intake as `manage.py intake_mail`, over HTTP.


class IntakeView(APIView):
    """Take in one raw bounce (RFC 3464) or feedback report (RFC 5965) as the request body.

    With an account's API key, reports match that account's messages only; staff (signed
    in, no account named) match across all accounts.
    """

    @extend_schema(
        operation_id="intake_report",
        request={"message/rfc822": OpenApiTypes.BINARY},
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
