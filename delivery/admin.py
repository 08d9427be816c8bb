from django.contrib import admin

from .models import DeliveryEvent, Message


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = ["timestamp", "type", "bounce_class", "smtp_code", "response_text", "event_id"]
    readonly_fields = fields
    ordering = ["timestamp"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["message_id", "account", "recipient", "from_address", "status", "requested_at"]
    list_filter = ["status", "bounce_class", "account"]
    list_select_related = ["account"]
    search_fields = ["message_id", "recipient", "from_address", "subject"]
    date_hierarchy = "requested_at"
    raw_id_fields = ["account"]
    inlines = [DeliveryEventInline]
    show_full_result_count = False


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "account", "type", "timestamp", "bounce_class", "smtp_code"]
    list_filter = ["type", "bounce_class", "account"]
    list_select_related = ["account"]
    search_fields = ["event_id", "message__message_id", "message__recipient"]
    raw_id_fields = ["account", "message"]
    show_full_result_count = False
