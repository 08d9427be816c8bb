"""Webhook endpoints API: `/api/v1/webhooks/` create, list, update, delete, rotate, test,
redeliver, and each endpoint's recent attempts."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sesconsole.api_autoschema import error_response
from sesconsole.api_support import ApiError
from sesconsole.tenancy import require_account, scope

from . import outbox
from .models import Attempt, Endpoint, EventName
from .urlsafety import URL_PATTERN


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 100})
class BatchSizeField(serializers.IntegerField):
    """Events per request; the service checks 1..100 and answers `invalid_batch_size`."""


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventName.choices), required=False
    )
    account = serializers.SlugRelatedField(slug_field="name", read_only=True)
    batch_size = BatchSizeField(required=False)
    # The service checks the URL (notifications/urlsafety.py), not Django's URL validator.
    url = serializers.CharField(
        max_length=2000, help_text="http(s) URL that receives a POST per event."
    )

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "account",
            "url",
            "sender_address",
            "events",
            "batch_size",
            "enabled",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "delivered_count",
            "failed_count",
            "created_at",
        ]
        read_only_fields = [
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "delivered_count",
            "failed_count",
            "created_at",
        ]


class EndpointRequestSerializer(EndpointSerializer):
    """What a client sends, as documented: the fields, and what the service checks beyond
    their types (notifications/urlsafety.py): an http(s) URL with a host, no credentials and a
    valid port; a sender address, or blank for all senders. Whether the host's addresses are
    public is known only after DNS: a 400 `forbidden_address` then."""

    request_schema = {
        "url": {"pattern": URL_PATTERN},
        "sender_address": {"anyOf": [{"format": "email"}, {"maxLength": 0}]},
    }

    class Meta(EndpointSerializer.Meta):
        ref_name = "EndpointRequest"


class CreatedEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: store it now.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = [
            "id",
            "notification",
            "at",
            "ok",
            "status_code",
            "latency_ms",
            "response_excerpt",
            "error",
            "next_retry_at",
        ]


class RedeliverSerializer(serializers.Serializer):
    notifications = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=1000
    )
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)

    def validate(self, data: dict) -> dict:
        if not data.get("notifications") and not (data.get("start") and data.get("end")):
            raise serializers.ValidationError(
                "Give notification ids, or a time range with start and end."
            )
        return data


def _endpoint_error(exc: outbox.EndpointError) -> ApiError:
    status = 409 if exc.code == "endpoint_exists" else 400
    return ApiError(exc.code, exc.message, status, {exc.field: [exc.message]} if exc.field else {})


class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """An account's event-notification endpoints. The signing secret is shown on create and
    on rotate only."""

    serializer_class = EndpointSerializer
    queryset = Endpoint.objects.none()
    ordering_fields = ["created_at", "url"]
    ordering = ["created_at"]

    def get_queryset(self) -> QuerySet[Endpoint]:
        return scope(Endpoint.objects.select_related("account"), self.request)

    def _fields(self, serializer) -> dict:
        return {k: v for k, v in serializer.validated_data.items() if k != "account"}

    @extend_schema(
        request=EndpointRequestSerializer,
        responses={201: CreatedEndpointSerializer, 409: error_response(409)},
    )
    def create(self, request):
        account = require_account(request)
        serializer = EndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = self._fields(serializer)
        fields.pop("enabled", None)
        try:
            endpoint, secret = outbox.create_endpoint(account, **fields)
        except outbox.EndpointError as exc:
            raise _endpoint_error(exc) from None
        data = EndpointSerializer(endpoint).data
        return Response({**data, "secret": secret}, status=201)

    @extend_schema(
        request=EndpointRequestSerializer,
        responses={200: EndpointSerializer, 409: error_response(409)},
    )
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        serializer = EndpointSerializer(endpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            outbox.update_endpoint(endpoint, **self._fields(serializer))
        except outbox.EndpointError as exc:
            raise _endpoint_error(exc) from None
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        request=EndpointRequestSerializer,
        responses={200: EndpointSerializer, 409: error_response(409)},
    )
    def update(self, request, pk=None):
        return self.partial_update(request, pk)

    @extend_schema(
        request=None,
        responses={200: inline_serializer("RotatedSecret", {"secret": serializers.CharField()})},
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """A new signing secret, used from the next request on; shown once."""
        return Response({"secret": outbox.rotate_secret(self.get_object())})

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer("QueuedTest", {"notification": serializers.IntegerField()})
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Queue a test `delivered` event (marked `ses_console.test`)."""
        notification = outbox.send_test_event(self.get_object())
        return Response({"notification": notification.pk}, status=202)

    @extend_schema(
        request=RedeliverSerializer,
        responses={200: inline_serializer("Redelivered", {"queued": serializers.IntegerField()})},
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Queue again the given notifications, or every failed one created in [start, end)."""
        endpoint = self.get_object()
        serializer = RedeliverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        queued = outbox.redeliver(
            endpoint,
            ids=data.get("notifications") or (),
            start=data.get("start"),
            end=data.get("end"),
        )
        return Response({"queued": queued})

    @extend_schema(responses={200: AttemptSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def attempts(self, request, pk=None):
        """The endpoint's most recent attempts, newest first."""
        endpoint = self.get_object()
        qs = Attempt.objects.filter(endpoint=endpoint).order_by("-at", "-pk")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(AttemptSerializer(page, many=True).data)
