from __future__ import annotations

from django.contrib import admin

from .models import Rollup, TrackedDomain


@admin.register(Rollup)
class RollupAdmin(admin.ModelAdmin):
    """Read-only: rollups change only through ingestion and `rebuild_stats`."""

    list_display = [
        "bucket",
        "size",
        "account",
        "sender_domain",
        "recipient_domain",
        "requests",
        "delivered",
        "bounced",
        "opened",
        "clicked",
    ]
    list_filter = ["size"]
    list_select_related = ["account"]
    search_fields = ["account__name", "sender_domain", "recipient_domain"]
    date_hierarchy = "bucket"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TrackedDomain)
class TrackedDomainAdmin(admin.ModelAdmin):
    """Read-only: the hourly job chooses them (`stats.tasks.choose_tracked_domains`); an
    edit here would make live counts differ from a rebuild."""

    list_display = ["account", "side", "domain", "since", "until"]
    list_filter = ["side"]
    list_select_related = ["account"]
    search_fields = ["account__name", "domain"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
