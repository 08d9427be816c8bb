"""Blocklist API: list, query, add, upload, update, delete, whitelist.

The FilterSets (filters.py) are the console pages' too.
"""

from __future__ import annotations

from datetime import UTC

from django.db.models import Q, QuerySet
from drf_spectacular.utils import (
    OpenApiRequest,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from sesconsole.api_exports import ExportMixin
from sesconsole.api_support import ApiError
from sesconsole.lib.fields import StrictBooleanField, StrictCharField
from sesconsole.lib.filters import StableOrdering
from sesconsole.lib.timezones import zone_of
from sesconsole.tenancy import (
    AccountScopedMixin,
    current_account,
    require_account,
    sees_all_accounts,
)

from .actions import (
    remove_invalid_blocks,
    remove_reject_blocks,
    unwhitelist_addresses,
    whitelist_addresses,
)
from .changes import Actor
from .custom import (
    add_custom_blocks,
    delete_custom_blocks,
    set_auto_block,
    update_custom_block,
    upload_custom_blocks,
)
from .expiry import expiry_date_of
from .exports import (
    BLOCK_COLUMNS,
    INVALID_COLUMNS,
    INVALID_COLUMNS_AS_SEEN,
    WHITELIST_COLUMNS,
    as_seen_by,
    my_whitelist,
)
from .filters import BlockFilter, CustomBlockFilter, HistoryFilter, InvalidBlockFilter
from .gate import check
from .models import Block, History, Whitelist
from .offers import verdict_json
from .pagination import BlockPagination
from .queries import auto_block_setting, invalid_blocks_visible_to
from .surges import verdicts_held
from .upload import MAX_UPLOAD_LINES, refuse_oversized_body

MAX_ADDRESSES_PER_CALL = 1000
# What a block says about the sending of the account that caused it (blank for others),
# and when sends to its address were stopped (null for others: whose sends they were is no
# one else's business).
PRIVATE_BLOCK_FIELDS = ("response_text", "event_id", "note")
PRIVATE_BLOCK_STOPS = ("stopped_count", "last_stopped_at")


# ---------------------------------------------------------------------------------------
# Serializers.


class BlockSerializer(serializers.ModelSerializer):
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)
    status = serializers.CharField(read_only=True)
    triggered_by_you = serializers.SerializerMethodField()
    whitelisted = serializers.SerializerMethodField()
    expires_on = serializers.SerializerMethodField()
    account = serializers.SerializerMethodField()
    event_id = serializers.CharField(source="event.event_id", default="", read_only=True)
    # Null on another account's invalid-address block (PRIVATE_BLOCK_STOPS).
    stopped_count = serializers.IntegerField(read_only=True, allow_null=True)
    last_stopped_at = serializers.DateTimeField(read_only=True, allow_null=True)

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
            "expires_on",
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

    def get_expires_on(self, block: Block) -> str | None:
        """The last day the block applies, in the account's zone (what `expires_on` sets)."""
        account = self._account() or (block.account if block.account_id else None)
        day = expiry_date_of(block, zone_of(account) if account else UTC)
        return day.isoformat() if day else None

    def get_whitelisted(self, block: Block) -> bool | None:
        return getattr(block, "whitelisted", None)

    def to_representation(self, block: Block) -> dict:
        data = super().to_representation(block)
        # Another account's invalid-address block: its bounce reply, event (which names that
        # account's message) and note stay private; that the block exists does not.
        request = self.context.get("request")
        account = self._account()
        if not (request and sees_all_accounts(request)) and (
            account is None or block.account_id != account.pk
        ):
            for name in PRIVATE_BLOCK_FIELDS:
                if name in data:
                    data[name] = ""
            for name in PRIVATE_BLOCK_STOPS:
                if name in data:
                    data[name] = None
        return data

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
        child=StrictCharField(max_length=1000, trim_whitespace=True),
        allow_empty=False,
        min_length=1,
        max_length=MAX_ADDRESSES_PER_CALL,
    )
    note = StrictCharField(max_length=500, required=False, default="", allow_blank=True)


class CustomAddSerializer(AddressesSerializer):
    addresses = serializers.ListField(
        child=StrictCharField(max_length=1000, allow_blank=True, trim_whitespace=False),
        allow_empty=False,
        min_length=1,
        max_length=MAX_UPLOAD_LINES,
    )
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class CustomUpdateSerializer(serializers.Serializer):
    address = StrictCharField(max_length=1000, required=False)
    expires_on = serializers.DateField(required=False, allow_null=True)


@extend_schema_field({"type": "string", "format": "date", "description": "Empty: no expiry."})
class _FormDateField(serializers.DateField):
    """A date in a form: an empty value is none (a form cannot send null)."""


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    expires_on = _FormDateField(required=False, allow_null=True, default=None)
    note = StrictCharField(max_length=500, required=False, default="", allow_blank=True)

    request_schema = {"expires_on": {"nullable": False}}


class AutoBlockSerializer(serializers.Serializer):
    enabled = StrictBooleanField()
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
        verdicts = check(account, data["addresses"])
        held = verdicts_held(account, [a for a, v in verdicts.items() if v.valid and not v.matches])
        return Response({"results": [verdict_json(v, held.get(a)) for a, v in verdicts.items()]})


class _BlockViewSet(
    ExportMixin, AccountScopedMixin, viewsets.GenericViewSet, mixins.ListModelMixin
):
    """A block list; `…/export/` (or `?format=csv`) streams it as CSV, the address first, so
    the file uploads back unchanged as custom blocks."""

    serializer_class = BlockSerializer
    csv_columns = BLOCK_COLUMNS
    queryset = Block.objects.none()
    pagination_class = BlockPagination
    ordering_fields = ["blocked_at", "address", "expires_at", "stopped_count"]
    ordering = ["-blocked_at"]
    kind = ""

    def get_queryset(self) -> QuerySet[Block]:
        return (
            super()
            .get_queryset()
            .filter(kind=self.kind)
            .listed()
            .select_related("account", "event")
        )


class InvalidBlockViewSet(_BlockViewSet):
    """Invalid-address blocks visible to the account: ones it triggered or whose address it
    has mailed. Remove those it triggered; whitelist those another account triggered."""

    filterset_class = InvalidBlockFilter
    serializer_class = InvalidBlockSerializer
    kind = Block.Kind.INVALID
    csv_name = "invalid-blocks.csv"

    def get_queryset(self) -> QuerySet[Block]:
        # Not the account's own rows: invalid-address blocks are global, and an account
        # sees those it triggered or whose address it has mailed.
        if sees_all_accounts(self.request):
            return Block.objects.invalid().active().select_related("account", "event")
        account = current_account(self.request)
        if account is None:
            return Block.objects.none()
        blocks = invalid_blocks_visible_to(account).select_related("account", "event")
        return as_seen_by(blocks, account) if self.exporting else blocks

    @property
    def csv_columns(self):
        # Staff see every column of every block; an account, its own blocks' only.
        return INVALID_COLUMNS if sees_all_accounts(self.request) else INVALID_COLUMNS_AS_SEEN

    def walked_queryset(self) -> QuerySet[Block] | None:
        """The account's list by address, read by walking the address index (for its first
        pages past the count's cap: blocklist.pagination)."""
        account = current_account(self.request)
        if account is None or sees_all_accounts(self.request):
            return None
        ordering = StableOrdering().get_ordering(self.request, self.get_queryset(), self)
        if not ordering or ordering[0].lstrip("-") != "address":
            return None
        walked = invalid_blocks_visible_to(account, probe_each=True)
        return self.filter_queryset(walked.select_related("account", "event"))

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def remove(self, request):
        return _address_batch(request, remove_invalid_blocks)

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def whitelist(self, request):
        return _address_batch(request, whitelist_addresses)

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def unwhitelist(self, request):
        return _address_batch(request, unwhitelist_addresses)


def _address_batch(request, operation) -> Response:
    """Run a batch operation on `{"addresses": [...], "note": ...}`; answer its item report."""
    data = _valid(AddressesSerializer, request)
    result = operation(
        require_account(request),
        data["addresses"],
        actor=Actor.from_request(request),
        note=data["note"],
    )
    return Response(result.as_json())


class RejectBlockViewSet(_BlockViewSet):
    """Reject blocks: recipients who unsubscribed or reported spam."""

    filterset_class = BlockFilter
    kind = Block.Kind.REJECT
    csv_name = "reject-list.csv"

    def get_queryset(self) -> QuerySet[Block]:
        return super().get_queryset().active()

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"])
    def remove(self, request):
        """Lift reject blocks, e.g. of recipients who opted back in."""
        return _address_batch(request, remove_reject_blocks)


class CustomBlockViewSet(_BlockViewSet, mixins.RetrieveModelMixin):
    """Custom blocks: add (with a Tencent-style report), upload, update, delete."""

    filterset_class = CustomBlockFilter
    kind = Block.Kind.CUSTOM
    csv_name = "custom-blocks.csv"

    @extend_schema(request=CustomAddSerializer, responses={200: AddReportSerializer})
    def create(self, request):
        account = require_account(request)
        data = _valid(CustomAddSerializer, request)
        report = add_custom_blocks(
            account,
            data["addresses"],
            actor=Actor.from_request(request),
            expires_on=data["expires_on"],
            note=data["note"],
        )
        return Response(report.as_json())

    @extend_schema(request=CustomUpdateSerializer, responses={200: BlockSerializer})
    def partial_update(self, request, pk=None):
        account = require_account(request)
        data = _valid(CustomUpdateSerializer, request)
        try:
            block_id = int(pk)
        except (TypeError, ValueError):
            raise ApiError("not_found", "No such custom block.", 404) from None
        block = update_custom_block(
            account,
            block_id,
            actor=Actor.from_request(request),
            address=data.get("address"),
            expires_on=data.get("expires_on", "unchanged"),
        )
        return Response(BlockSerializer(block, context={"request": request}).data)

    def destroy(self, request, pk=None):
        account = require_account(request)
        try:
            block_id = int(pk)
        except (TypeError, ValueError):
            raise ApiError("not_found", "No such custom block.", 404) from None
        result = delete_custom_blocks(account, actor=Actor.from_request(request), ids=[block_id])
        if not result.done:
            raise ApiError("not_found", "No such custom block.", 404)
        return Response(status=204)

    @extend_schema(request=AddressesSerializer, responses={200: BatchResultSerializer})
    @action(detail=False, methods=["post"], url_path="delete")
    def delete_addresses(self, request):
        account = require_account(request)
        data = _valid(AddressesSerializer, request)
        result = delete_custom_blocks(
            account,
            data["addresses"],
            actor=Actor.from_request(request),
            note=data["note"],
        )
        return Response(result.as_json())

    @extend_schema(
        request={
            "multipart/form-data": OpenApiRequest(
                UploadSerializer, encoding={"file": {"contentType": "text/csv, text/plain"}}
            )
        },
        responses={200: AddReportSerializer},
    )
    @action(
        detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser]
    )
    def upload(self, request):
        account = require_account(request)
        refuse_oversized_body(request.META.get("CONTENT_LENGTH"))
        data = _valid(UploadSerializer, request)
        report = upload_custom_blocks(
            account,
            data["file"],
            actor=Actor.from_request(request),
            expires_on=data["expires_on"],
            note=data["note"],
        )
        return Response(report.as_json())


class WhitelistSerializer(serializers.ModelSerializer):
    whitelisted_at = serializers.DateTimeField(source="created_at")
    block_expires_at = serializers.DateTimeField(source="block.expires_at")

    class Meta:
        model = Whitelist
        fields = ["id", "address", "note", "whitelisted_at", "block", "block_expires_at"]


class WhitelistViewSet(ExportMixin, viewsets.GenericViewSet, mixins.ListModelMixin):
    """The account's live whitelists of invalid-address blocks other accounts triggered;
    `…/export/` streams them as CSV."""

    serializer_class = WhitelistSerializer
    queryset = Whitelist.objects.none()
    csv_columns = WHITELIST_COLUMNS
    csv_name = "whitelist.csv"
    ordering_fields = ["address", "created_at"]
    ordering = ["address"]

    def get_queryset(self) -> QuerySet[Whitelist]:
        account = current_account(self.request)
        if account is None:
            return Whitelist.objects.none()
        return my_whitelist(account).select_related("block")


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
        # Not one account column: the account's own blocks and its own actions (e.g.
        # whitelisting another account's block).
        return qs.filter(Q(block__account=account, account=None) | Q(account=account))


class AutoBlockView(APIView):
    """The account's auto-block of full inboxes: on/off and duration in days."""

    @extend_schema(responses={200: AutoBlockSerializer})
    def get(self, request):
        setting = auto_block_setting(require_account(request))
        return Response({"enabled": setting.enabled, "days": setting.days})

    @extend_schema(request=AutoBlockSerializer, responses={200: AutoBlockSerializer})
    def put(self, request):
        account = require_account(request)
        data = _valid(AutoBlockSerializer, request)
        setting = set_auto_block(
            account,
            enabled=data["enabled"],
            days=data["days"],
            actor=Actor.from_request(request),
        )
        return Response({"enabled": setting.enabled, "days": setting.days})
