from django.contrib import admin
from django.utils import timezone

from .models import Tc3Key


@admin.register(Tc3Key)
class Tc3KeyAdmin(admin.ModelAdmin):
    list_display = ["name", "secret_id", "account", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["account"]
    search_fields = ["name", "secret_id", "account__name"]
    fields = [
        "account",
        "name",
        "secret_id",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["secret_id", "created_at", "last_used_at", "created_by"]
    raw_id_fields = ["account"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # pairs are issued from the console or `create_tc3_key`, shown once

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        n = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {n} key(s).")
