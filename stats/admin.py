from __future__ import annotations

from django.contrib import admin

from .models import Rollup


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
