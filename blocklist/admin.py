"""Staff tools: search and filter every block, whitelist, remove, extend or expire."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html_join

from delivery.models import BounceEvidence
from sesconsole.models import Account

from . import actions, changes, surges
from .models import AutoBlockSetting, Block, History, InvalidSurge, Whitelist


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("due", "Due (time up)"), ("released", "Released")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.active(now)
        if self.value() == "due":
            return queryset.due(now)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


class HistoryInline(admin.TabularInline):
    model = History
    extra = 0
    can_delete = False
    fields = ["at", "action", "actor_label", "account", "detail"]
    readonly_fields = fields
    ordering = ["at", "pk"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class WhitelistInline(admin.TabularInline):
    model = Whitelist
    extra = 0
    can_delete = False
    fields = ["account", "created_at", "removed_at", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _actor(request) -> changes.Actor:
    return changes.Actor(request.user, f"staff:{request.user.get_username()}"[:100])


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = [
        "address",
        "kind",
        "account",
        "reason",
        "bounce_evidence",
        "blocked_at",
        "expires_at",
        "released_at",
        "release_reason",
        "stopped_count",
    ]
    list_filter = ["kind", "reason", "bounce_evidence", StateFilter, "release_reason", "account"]
    list_select_related = ["account"]
    search_fields = ["address", "account__name", "response_text", "note"]
    date_hierarchy = "blocked_at"
    raw_id_fields = ["account", "event", "created_by"]
    readonly_fields = ["stopped_count", "last_stopped_at", "released_at", "release_reason"]
    inlines = [WhitelistInline, HistoryInline]
    show_full_result_count = False
    actions = [
        "remove",
        "expire_now",
        "extend_30_days",
        "whitelist",
        "lift_wording",
        "lift_text_5_1_x",
        "lift_no_evidence",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # blocks are made by events, the console and the API (with history)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # never lose history: remove instead

    @admin.action(description="Remove selected blocks (kept in history)")
    def remove(self, request, queryset: QuerySet[Block]):
        n = actions.release_blocks(queryset, actor=_actor(request))
        self.message_user(request, f"Removed {n} block(s).")

    def _lift_by_evidence(self, request, queryset: QuerySet[Block], evidence: str) -> None:
        """Lift the selected invalid-address blocks that rest on `evidence` only; the others
        stay (filter the list by evidence first to lift all of one strength)."""
        chosen = queryset.filter(kind=Block.Kind.INVALID, bounce_evidence=evidence)
        n = actions.release_blocks(
            chosen, actor=_actor(request), note=f"Lifted by staff: evidence {evidence or 'none'}."
        )
        label = BounceEvidence(evidence).label if evidence else "no recorded evidence"
        self.message_user(request, f"Lifted {n} invalid-address block(s) resting on {label}.")

    @admin.action(description="Lift selected invalid-address blocks resting on wording only")
    def lift_wording(self, request, queryset: QuerySet[Block]):
        self._lift_by_evidence(request, queryset, BounceEvidence.WORDING)

    @admin.action(description="Lift selected invalid-address blocks resting on a 5.1.x in text")
    def lift_text_5_1_x(self, request, queryset: QuerySet[Block]):
        self._lift_by_evidence(request, queryset, BounceEvidence.TEXT_5_1_X)

    @admin.action(description="Lift selected invalid-address blocks with no recorded evidence")
    def lift_no_evidence(self, request, queryset: QuerySet[Block]):
        self._lift_by_evidence(request, queryset, "")

    @admin.action(description="Expire selected blocks now")
    def expire_now(self, request, queryset: QuerySet[Block]):
        n = actions.set_expiry(
            queryset, timezone.now(), actor=_actor(request), note="Expired by staff."
        )
        self.message_user(request, f"Expired {n} block(s).")

    @admin.action(description="Extend selected blocks by 30 days")
    def extend_30_days(self, request, queryset: QuerySet[Block]):
        n = actions.extend_blocks(queryset, 30, actor=_actor(request))
        self.message_user(request, f"Extended {n} block(s) by 30 days.")

    @admin.action(description="Whitelist selected invalid-address blocks for an account…")
    def whitelist(self, request, queryset: QuerySet[Block]):
        queryset = queryset.filter(kind=Block.Kind.INVALID, released_at=None)
        name = request.POST.get("whitelist_account")
        if name:
            account = Account.objects.filter(name=name).first()
            if account is None:
                self.message_user(request, f"No account named {name!r}.", level="error")
                return None
            result = actions.whitelist_addresses(
                account,
                list(queryset.values_list("address", flat=True)),
                actor=_actor(request),
                note="Whitelisted by staff.",
            )
            self.message_user(request, f"Whitelisted {result.count} block(s) for {account.name}.")
            for refused in result.refused:
                self.message_user(request, refused["message"], level="warning")
            return None
        return TemplateResponse(
            request,
            "admin/blocklist/whitelist.html",
            {
                **self.admin_site.each_context(request),
                "title": "Whitelist for an account",
                "blocks": queryset,
                "accounts": Account.objects.exclude(Q(pk__in=queryset.values("account"))).order_by(
                    "name"
                ),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(Whitelist)
class WhitelistAdmin(admin.ModelAdmin):
    list_display = ["address", "account", "block", "created_at", "removed_at"]
    list_filter = [("removed_at", admin.EmptyFieldListFilter), "account"]
    list_select_related = ["account", "block"]
    search_fields = ["address", "account__name"]
    raw_id_fields = ["account", "block", "created_by"]
    readonly_fields = ["created_at", "removed_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(History)
class HistoryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "block", "account", "actor_label", "detail"]
    list_filter = ["action", "block__kind"]
    list_select_related = ["block", "account"]
    search_fields = ["block__address", "actor_label", "detail", "account__name"]
    date_hierarchy = "at"
    raw_id_fields = ["block", "account", "actor"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AutoBlockSetting)
class AutoBlockSettingAdmin(admin.ModelAdmin):
    list_display = ["account", "enabled", "days", "enabled_at", "updated_at"]
    list_filter = ["enabled"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]


@admin.register(InvalidSurge)
class InvalidSurgeAdmin(admin.ModelAdmin):
    """Surges of invalid-address verdicts at one domain: judge whether the addresses are
    really gone (block them) or the receiver was at fault (dismiss)."""

    list_display = [
        "domain",
        "holding",
        "opened_at",
        "verdicts_at_opening",
        "usual",
        "held",
        "hold_until",
        "decision",
        "decided_by",
        "decision_count",
    ]
    list_filter = ["decision", ("decided_at", admin.EmptyFieldListFilter)]
    search_fields = ["domain"]
    date_hierarchy = "opened_at"
    fields = [
        "domain",
        "holding",
        "window_start",
        "opened_at",
        "hold_until",
        "verdicts_at_opening",
        "usual",
        "held",
        "accounts",
        "replies",
        "decision",
        "decided_at",
        "decided_by",
        "decision_count",
    ]
    readonly_fields = fields
    actions = ["block_held", "dismiss"]

    def has_add_permission(self, request) -> bool:
        return False  # opened by ingestion only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(boolean=True, description="holding now")
    def holding(self, surge: InvalidSurge) -> bool:
        return surge.holding

    @admin.display(description="usual per window", ordering="usual_per_window")
    def usual(self, surge: InvalidSurge) -> str:
        return f"{surge.usual_per_window:.1f}"

    @admin.display(description="verdicts by account")
    def accounts(self, surge: InvalidSurge):
        rows = (
            surges.held_events(surge)
            .values("account__name")
            .annotate(n=Count("pk"))
            .order_by("-n", "account__name")[:20]
        )
        return format_html_join(
            "", "<div>{}: {}</div>", ((r["account__name"], r["n"]) for r in rows)
        )

    @admin.display(description="most frequent replies")
    def replies(self, surge: InvalidSurge):
        rows = (
            surges.held_events(surge)
            .values("response_text")
            .annotate(n=Count("pk"))
            .order_by("-n", "response_text")[:5]
        )
        return format_html_join(
            "",
            "<div>{} times: <code>{}</code></div>",
            ((r["n"], r["response_text"][:300]) for r in rows),
        )

    def _decide(self, request, queryset, decide, done: str) -> None:
        for surge in queryset.filter(decision="").order_by("pk"):
            try:
                n = decide(surge.pk, actor=_actor(request))
            except surges.AlreadyDecided as decided:
                self.message_user(request, str(decided), level="warning")
                continue
            self.message_user(request, done.format(domain=surge.domain, n=n))

    # The staff mail links to a surge's page: its two decisions are buttons there too.
    change_form_template = "admin/blocklist/invalidsurge/change_form.html"

    def save_model(self, request, obj, form, change) -> None:
        pass  # every field is read-only; a save would write back a stale `held` count

    def response_change(self, request, obj: InvalidSurge):
        for action in ("block_held", "dismiss"):
            if f"_{action}" in request.POST:
                getattr(self, action)(request, InvalidSurge.objects.filter(pk=obj.pk))
                return redirect(request.path)
        return super().response_change(request, obj)

    @admin.action(description="Block the held addresses (they do not exist)")
    def block_held(self, request, queryset: QuerySet[InvalidSurge]):
        self._decide(
            request, queryset, surges.block_held, "Blocked {n} address(es) held at {domain}."
        )

    @admin.action(description="Dismiss: a fault at the receiver (lift the surge's blocks)")
    def dismiss(self, request, queryset: QuerySet[InvalidSurge]):
        self._decide(
            request,
            queryset,
            surges.dismiss,
            "Dismissed the surge at {domain}; lifted {n} block(s).",
        )
