"""Blocklist API: list, query, add, upload, update, delete, whitelist.

One FilterSet per list drives both the API and the console page.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from delivery.addresses import InvalidAddress, normalize_address
from sesconsole.api_support import ApiError
from sesconsole.tenancy import current_account, require_account, sees_all_accounts

from . import services
from .models import Block, History

MAX_ADDRESSES_PER_CALL = 1000
DATE = forms.DateInput(attrs={"type": "date"})


# ---------------------------------------------------------------------------------------
# Filters (shared with the console pages).


class AddressFilter(django_filters.CharFilter):
    """Exact match on the normalised address (what the indexes serve)."""

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        try:
            value = normalize_address(value)
        except InvalidAddress:
            value = value.strip().lower()
        return qs.filter(**{self.field_name: value})


class BlockFilter(django_filters.FilterSet):
    address = AddressFilter(label="Address")
    reason = django_filters.ChoiceFilter(choices=Block.Reason.choices, label="Reason")
    start = django_filters.DateFilter(
        field_name="blocked_at", lookup_expr="date__gte", label="Blocked from", widget=DATE
    )
    end = django_filters.DateFilter(
        field_name="blocked_at", lookup_expr="date__lte", label="Blocked until", widget=DATE
    )

    class Meta:
        model = Block
        fields = ["address", "reason", "start", "end"]


class InvalidBlockFilter(BlockFilter):
    triggered = django_filters.ChoiceFilter(
        choices=[("me", "By my sending"), ("others", "By other accounts")],
        method="filter_triggered",
        label="Triggered",
    )

    class Meta(BlockFilter.Meta):
        fields = ["address", "triggered", "start", "end"]

    def filter_triggered(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        account = current_account(self.request) if self.request else None
        if account is None:
            return qs
        return qs.filter(account=account) if value == "me" else qs.exclude(account=account)


class CustomBlockFilter(BlockFilter):
    status = django_filters.ChoiceFilter(
        choices=[("active", "Active"), ("expired", "Expired")],
        method="filter_status",
        label="Status",
    )

    class Meta(BlockFilter.Meta):
        fields = ["address", "status", "reason", "start", "end"]

    def filter_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if value == "active":
            return qs.active()
        return qs.filter(Q(released_at__isnull=False) | Q(expires_at__lte=timezone.now()))


class HistoryFilter(django_filters.FilterSet):
    address = AddressFilter(field_name="block__address", label="Address")
    kind = django_filters.ChoiceFilter(
        field_name="block__kind", choices=Block.Kind.choices, label="Kind"
    )
    action = django_filters.ChoiceFilter(choices=History.Action.choices, label="Action")
    start = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label="From", widget=DATE
    )
    end = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label="Until", widget=DATE
    )

    class Meta:
        model = History
        fields = ["address", "kind", "action", "start", "end"]


# ---------------------------------------------------------------------------------------
# Serializers.


class BlockSerializer(serializers.ModelSerializer):
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)
    status = serializers.CharField(read_only=True)
    triggered_by_you = serializers.SerializerMethodField()
    whitelisted = serializers.SerializerMethodField()
    account = serializers.SerializerMethodField()
    event_id = serializers.CharField(source="event.event_id", default="", read_only=True)

    class Meta:
        model = Block
        fields = [
            "id",
            "kind",
            "address",
            "account",
            "triggered_by_you",
            "whitelisted",
            "reason",
            "reason_label",
            "note",
            "response_text",
            "event_id",
            "blocked_at",
            "expires_at",
            "status",
            "released_at",
            "release_reason",
            "stopped_count",
            "last_stopped_at",
        ]

    def _account(self):
        request = self.context.get("request")
        return current_account(request) if request else None

    def get_triggered_by_you(self, block: Block) -> bool | None:
        account = self._account()
        if block.kind != Block.Kind.INVALID or account is None:
            return None
        return block.account_id == account.pk

    def get_whitelisted(self, block: Block) -> bool | None:
        return getattr(block, "whitelisted", None)

    def get_account(self, block: Block) -> str | None:
        # Another tenant's name is private; staff see every account.
        request = self.context.get("request")
        account = self._account()
        if (request and sees_all_accounts(request)) or (account and block.account_id == account.pk):
            return block.account.name
        return None


class InvalidBlockSerializer(BlockSerializer):
    """Invalid-address blocks also say what the bounce verdict rested on (docs/bounces.md)."""

    class Meta(BlockSerializer.Meta):
        fields = [*BlockSerializer.Meta.fields, "bounce_evidence"]


class HistorySerializer(serializers.ModelSerializer):
    address = serializers.CharField(source="block.address")
    kind = serializers.CharField(source="block.kind")
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = History
        fields = ["id", "block", "address", "kind", "action", "at", "actor", "detail"]


class AddressesSerializer(serializers.Serializer):
    addresses = serializers.ListField(
        child=serializers.CharField(max_length=1000, trim_whitespace=True),
        allow_empty=False,
        max_length=MAX_ADDRESSES_PER_CALL,
    )
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class CustomAddSerializer(AddressesSerializer):
    addresses = serializers.ListField(
        child=serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=False),
        allow_empty=False,
        max_length=services.MAX_UPLOAD_LINES,
    )
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class CustomUpdateSerializer(serializers.Serializer):
    address = serializers.CharField(max_length=1000, required=False)
    expires_on = serializers.DateField(required=False, allow_null=True)


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class AutoBlockSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    days = serializers.IntegerField(min_value=1, max_value=365)


BatchResultSerializer = inline_serializer(
    "BlocklistBatchResult",
    {
        "done": serializers.ListField(child=serializers.CharField()),
        "refused": serializers.ListField(child=serializers.DictField()),
        "not_found": serializers.ListField(child=serializers.CharField()),
        "invalid": serializers.ListField(child=serializers.DictField()),
    },
)
AddReportSerializer = inline_serializer(
    "BlocklistAddReport",
    {
        "total": serializers.IntegerField(),
        "valid": serializers.IntegerField(),
        "repeat": serializers.IntegerField(),
        "invalid": serializers.IntegerField(),
        "too_long": serializers.IntegerField(),
        "problems": serializers.ListField(child=serializers.DictField()),
    },
)


def _valid(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _service_error(exc: services.BlocklistError) -> ApiError:
    status = 404 if exc.code == "not_found" else 400
    return ApiError(exc.code, exc.message, status)


# ---------------------------------------------------------------------------------------
# Views.


class CheckView(APIView):
    """The blocking query: is each address blocked for my account, by what, since and until."""

    @extend_schema(
        operation_id="blocklist_check",
        request=AddressesSerializer,
        responses={
            200: inline_serializer(
                "BlocklistCheck", {"results": serializers.ListField(child=serializers.DictField())}
            )
        },
    )
    def post(self, request):
        account = require_account(request)
        data = _valid(AddressesSerializer, request)
        verdicts = services.check(account, data["addresses"])
        return Response({"results": [v.as_json() for v in verdicts.values()]})


class _BlockViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
    serializer_class = BlockSerializer
    queryset = Block.objects.none()
    ordering_fields = ["blocked_at", "address", "expires_at", "stopped_count"]
    ordering = ["-blocked_at"]
    kind = ""

    def base_queryset(self) -> QuerySet[Block]:
        qs = Block.objects.filter(kind=self.kind).listed().select_related("account", "event")
        if sees_all_accounts(self.request):
            return qs
        account = current_account(self.request)
        return qs.for_account(account) if account else qs.none()

    def get_queryset(self) -> QuerySet[Block]:
        return self.base_queryset()


class InvalidBlockViewSet(_BlockViewSet):
    """Invalid-address blocks visible to the account: ones it triggered or whose address it
    has mailed. Remove those it triggered; whitelist those another account triggered."""

    filterset_class = InvalidBlockFilter
    serializer_class = InvalidBlockSerializer
    kind = Block.Kind.INVALID

    def get_queryset(self) -> QuerySet[Block]:
        if sees_all_accounts(self.request):
            return Block.objects.invalid().active().select_related("account", "event")
        account = current_account(self.request)
        if account is None:
            return Block.objects.none()
        return services.invalid_blocks_visible_to(account).select_related("account", "event")

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def remove(self, request):
        return _address_batch(request, services.remove_invalid_blocks)

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def whitelist(self, request):
        return _address_batch(request, services.whitelist_addresses)

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def unwhitelist(self, request):
        return _address_batch(request, services.unwhitelist_addresses)


def _address_batch(request, operation) -> Response:
    """Run a batch operation on `{"addresses": [...], "note": ...}`; answer its item report."""
    data = _valid(AddressesSerializer, request)
    result = operation(
        require_account(request),
        data["addresses"],
        actor=services.Actor.from_request(request),
        note=data["note"],
    )
    return Response(result.as_json())


class RejectBlockViewSet(_BlockViewSet):
    """Reject blocks: recipients who unsubscribed or reported spam."""

    filterset_class = BlockFilter
    kind = Block.Kind.REJECT

    def get_queryset(self) -> QuerySet[Block]:
        return super().get_queryset().active()

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def remove(self, request):
        """Lift reject blocks, e.g. of recipients who opted back in."""
        return _address_batch(request, services.remove_reject_blocks)


class CustomBlockViewSet(_BlockViewSet, mixins.RetrieveModelMixin):
    """Custom blocks: add (with a Tencent-style report), upload, update, delete."""

    filterset_class = CustomBlockFilter
    kind = Block.Kind.CUSTOM

    @extend_schema(request=CustomAddSerializer, responses={200: AddReportSerializer})
    def create(self, request):
        account = require_account(request)
        data = _valid(CustomAddSerializer, request)
        try:
            report = services.add_custom_blocks(
                account,
                data["addresses"],
                actor=services.Actor.from_request(request),
                expires_on=data["expires_on"],
                note=data["note"],
            )
        except services.BlocklistError as exc:
            raise _service_error(exc) from None
        return Response(report.as_json())

    @extend_schema(request=CustomUpdateSerializer, responses={200: BlockSerializer})
    def partial_update(self, request, pk=None):
        account = require_account(request)
        data = _valid(CustomUpdateSerializer, request)
        try:
            block_id = int(pk)
        except (TypeError, ValueError):
            raise ApiError("not_found", "No such custom block.", 404) from None
        try:
            block = services.update_custom_block(
                account,
                block_id,
                actor=services.Actor.from_request(request),
                address=data.get("address"),
                expires_on=data.get("expires_on", "unchanged"),
            )
        except services.BlocklistError as exc:
            raise _service_error(exc) from None
        return Response(BlockSerializer(block, context={"request": request}).data)

    def destroy(self, request, pk=None):
        account = require_account(request)
        try:
            block_id = int(pk)
        except (TypeError, ValueError):
            raise ApiError("not_found", "No such custom block.", 404) from None
        result = services.delete_custom_blocks(
            account, actor=services.Actor.from_request(request), ids=[block_id]
        )
        if not result.done:
            raise ApiError("not_found", "No such custom block.", 404)
        return Response(status=204)

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"], url_path="delete")
    def delete_addresses(self, request):
        account = require_account(request)
        data = _valid(AddressesSerializer, request)
        result = services.delete_custom_blocks(
            account,
            data["addresses"],
            actor=services.Actor.from_request(request),
            note=data["note"],
        )
        return Response(result.as_json())

    @extend_schema(request=UploadSerializer, responses={200: AddReportSerializer})
    @action(
        detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser]
    )
    def upload(self, request):
        account = require_account(request)
        data = _valid(UploadSerializer, request)
        try:
            report = services.upload_custom_blocks(
                account,
                data["file"].read(),
                actor=services.Actor.from_request(request),
                expires_on=data["expires_on"],
                note=data["note"],
            )
        except services.BlocklistError as exc:
            raise _service_error(exc) from None
        return Response(report.as_json())


class HistoryViewSet(viewsets.GenericViewSet, mixins.ListModelMixin):
    """Every add, remove, whitelist, expiry and edit of the account's blocks."""

    serializer_class = HistorySerializer
    queryset = History.objects.none()
    filterset_class = HistoryFilter
    ordering_fields = ["at"]
    ordering = ["-at"]

    def get_queryset(self) -> QuerySet[History]:
        qs = History.objects.select_related("block")
        if sees_all_accounts(self.request):
            return qs
        account = current_account(self.request)
        if account is None:
            return qs.none()
        # The account's own blocks and its own actions (e.g. whitelisting another's block).
        return qs.filter(Q(block__account=account, account=None) | Q(account=account))


class AutoBlockView(APIView):
    """The account's auto-block of full inboxes: on/off and duration in days."""

    @extend_schema(responses={200: AutoBlockSerializer})
    def get(self, request):
        setting = services.auto_block_setting(require_account(request))
        return Response({"enabled": setting.enabled, "days": setting.days})

    @extend_schema(request=AutoBlockSerializer, responses={200: AutoBlockSerializer})
    def put(self, request):
        account = require_account(request)
        data = _valid(AutoBlockSerializer, request)
        setting = services.set_auto_block(
            account,
            enabled=data["enabled"],
            days=data["days"],
            actor=services.Actor.from_request(request),
        )
        return Response({"enabled": setting.enabled, "days": setting.days})
