from django.contrib import admin

from .intake import READ_AGAIN, rematch
from .models import (
    DeliveryEvent,
    InboundReport,
    Message,
    OutboundEmail,
    OutboundRecipient,
    SenderIdentity,
    SendingSettings,
)
from .sending import verify_identities


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


# --- sending ----------------------------------------------------------------------------


@admin.register(SenderIdentity)
class SenderIdentityAdmin(admin.ModelAdmin):
    list_display = ["value", "kind", "account", "verified_at", "created_at"]
    list_filter = ["kind", ("verified_at", admin.EmptyFieldListFilter)]
    list_select_related = ["account"]
    search_fields = ["value", "account__name"]
    raw_id_fields = ["account"]
    actions = ["verify", "unverify"]

    @admin.action(description="Verify the selected identities")
    def verify(self, request, queryset) -> None:
        n = verify_identities(queryset)
        self.message_user(request, f"Verified {n} identity(ies).")

    @admin.action(description="Withdraw verification")
    def unverify(self, request, queryset) -> None:
        n = queryset.exclude(verified_at=None).update(verified_at=None)
        self.message_user(request, f"Withdrew verification of {n} identity(ies).")


@admin.register(SendingSettings)
class SendingSettingsAdmin(admin.ModelAdmin):
    list_display = ["account", "track_opens", "track_clicks"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]


class OutboundRecipientInline(admin.TabularInline):
    model = OutboundRecipient
    extra = 0
    can_delete = False
    fields = ["address", "field", "message_id", "state", "attempts", "last_reply"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["email_id", "account", "from_address", "subject", "created_at"]
    list_select_related = ["account"]
    search_fields = ["email_id", "reference", "from_address", "subject"]
    raw_id_fields = ["account"]
    inlines = [OutboundRecipientInline]
    show_full_result_count = False


@admin.register(InboundReport)
class InboundReportAdmin(admin.ModelAdmin):
    list_display = ["received_at", "status", "kind", "account", "message_id", "events", "note"]
    list_filter = ["status", "kind"]
    list_select_related = ["account"]
    search_fields = ["message_id", "sha256", "note"]
    raw_id_fields = ["account"]
    readonly_fields = ["raw_text"]
    exclude = ["raw"]
    show_full_result_count = False
    actions = ["match_again"]

    @admin.action(description="Read the selected unmatched or not-a-report reports again")
    def match_again(self, request, queryset) -> None:
        matched = 0
        for report in queryset.filter(status__in=READ_AGAIN)[:1000]:
            matched += rematch(report).status == InboundReport.Status.MATCHED
        self.message_user(request, f"Matched {matched} report(s).")

    @admin.display(description="Raw message")
    def raw_text(self, obj: InboundReport) -> str:
        return bytes(obj.raw).decode("utf-8", errors="replace")
