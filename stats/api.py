"""Statistics API: `GET /api/v1/stats/` (time series from rollups), as JSON or CSV."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings

from delivery.filters import stored_domain
from delivery.fold import backlog
from sesconsole.api_autoschema import ApiAutoSchema
from sesconsole.api_exports import CSVRenderer
from sesconsole.lib.csv_export import csv_chunks, csv_response
from sesconsole.tenancy import require_account

from .exports import series_header, series_rows
from .models import COUNTERS
from .services import GRANULARITIES, series


class StatsQuerySerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day, in the account's time zone.")
    end = serializers.DateField(help_text="Last day (inclusive).")
    granularity = serializers.ChoiceField(choices=GRANULARITIES, default="day")
    sender_domain = serializers.CharField(required=False, allow_blank=True, max_length=253)
    recipient_domain = serializers.CharField(required=False, allow_blank=True, max_length=253)

    # Compared as stored: `Gmail.com` is gmail.com, `bücher.de` xn--bcher-kva.de.
    def validate_sender_domain(self, value: str) -> str:
        return stored_domain(value) if value else value

    def validate_recipient_domain(self, value: str) -> str:
        return stored_domain(value) if value else value


def _counters() -> dict:
    return {c: serializers.IntegerField() for c in COUNTERS}


StatsTotalsSerializer = type("StatsTotals", (serializers.Serializer,), _counters())
StatsBucketSerializer = type(
    "StatsBucket",
    (serializers.Serializer,),
    {
        "start": serializers.CharField(help_text="Bucket start, ISO-8601 in the account's zone."),
        **_counters(),
    },
)


class PendingSerializer(serializers.Serializer):
    events = serializers.IntegerField(
        help_text="Events received but not counted in these figures yet (deferred fold)."
    )
    more = serializers.BooleanField(help_text="More events than `events` are waiting.")
    oldest_received_at = serializers.DateTimeField(
        allow_null=True, help_text="When the oldest of them was received; null when none."
    )


class StatsSerializer(serializers.Serializer):
    granularity = serializers.ChoiceField(choices=GRANULARITIES)
    timezone = serializers.CharField()
    totals = StatsTotalsSerializer()
    buckets = StatsBucketSerializer(many=True)
    pending = PendingSerializer()


class _OneObjectSchema(ApiAutoSchema):
    def _is_list_view(self, serializer=None) -> bool:
        return False  # `list` answers one object: the series


class StatisticsViewSet(viewsets.ViewSet):
    """Counters over time for the account, read from rollups."""

    throttle_scope = "stats"
    schema = _OneObjectSchema()
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]

    @extend_schema(
        operation_id="stats_series",
        parameters=[StatsQuerySerializer],
        responses={200: StatsSerializer, (200, "text/csv"): OpenApiTypes.STR},
        examples=[
            OpenApiExample(
                "Two days",
                response_only=True,
                value={
                    "granularity": "day",
                    "timezone": "UTC",
                    "totals": {c: 0 for c in COUNTERS},
                    "buckets": [{"start": "2026-11-01T00:00:00Z", **{c: 0 for c in COUNTERS}}],
                    "pending": {"events": 0, "more": False, "oldest_received_at": None},
                },
            )
        ],
    )
    def list(self, request):
        account = require_account(request)
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        args = query.validated_data
        body = series(
            account,
            args["start"],
            args["end"],
            args["granularity"],
            sender_domain=args.get("sender_domain") or None,
            recipient_domain=args.get("recipient_domain") or None,
        )
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return csv_response(
                "statistics.csv",
                csv_chunks(series_header(), series_rows(body, ZoneInfo(body["timezone"]))),
            )
        waiting = backlog(account)
        body["pending"] = PendingSerializer(
            {"events": waiting.events, "more": waiting.more, "oldest_received_at": waiting.oldest}
        ).data
        return Response(body)
