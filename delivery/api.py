"""Delivery API: event ingestion."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from sesconsole.api_support import ApiError
from sesconsole.tenancy import require_account

from .ingest import ingest_events


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
