from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from . import outbox
from .models import Attempt, Endpoint, Notification


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = [
        "url",
        "account",
        "sender_address",
        "enabled",
        "failing_since",
        "delivered_count",
        "failed_count",
        "created_at",
    ]
    list_filter = ["enabled"]
    list_select_related = ["account"]
    search_fields = ["url", "sender_address", "account__name"]
    raw_id_fields = ["account"]
    readonly_fields = ["delivered_count", "failed_count", "lease_until", "created_at"]
    actions = ["enable", "disable"]

    @admin.action(description="Enable the selected endpoints")
    def enable(self, request, queryset):
        n = 0
        for endpoint in queryset:
            outbox.set_enabled(endpoint, True)
            n += 1
        self.message_user(request, f"Enabled {n} endpoint(s)")

    @admin.action(description="Disable the selected endpoints")
    def disable(self, request, queryset):
        n = queryset.filter(enabled=True).update(
            enabled=False, disabled_at=timezone.now(), disabled_reason="Disabled by staff."
        )
        self.message_user(request, f"Disabled {n} endpoint(s)")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "endpoint",
        "event",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
    ]
    list_filter = ["status"]
    list_select_related = ["endpoint", "event"]
    raw_id_fields = ["endpoint", "event"]
    search_fields = ["event__event_id", "endpoint__url"]


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["at", "endpoint", "notification", "ok", "status_code", "latency_ms", "error"]
    list_filter = ["ok"]
    list_select_related = ["endpoint"]
    raw_id_fields = ["endpoint", "notification"]
    search_fields = ["endpoint__url"]
