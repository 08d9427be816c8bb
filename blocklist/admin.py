"""Staff tools: search and filter every block, whitelist, remove, extend or expire."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html_join

from delivery.addresses import InvalidAddress, normalize_domain
from delivery.models import BounceEvidence
from sesconsole.models import Account

from . import actions, changes, surges
from .models import INVALID_BLOCK_DAYS, AutoBlockSetting, Block, History, InvalidSurge, Whitelist


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


class ChangedOnlyByActions:
    """A block or whitelist changes only through the actions, which check what they do
    and write it to the block's history; its change form edits the staff note alone. An
    address typed over here was stored unchecked ("Not An Address!!" showed as a customer's
    block) and rewrote what the history's earlier rows name, with no row of its own."""

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        editable = {"note"}
        return [f.name for f in self.model._meta.concrete_fields if f.name not in editable]


def _ascii_forms(search_term: str) -> str:
    """The search's words with their domains in A-labels, as addresses are stored
    ("用户@例子.中国" → "用户@xn--fsqu00a.xn--fiqs8s"); "" when that changes nothing."""
    words = []
    for word in search_term.split():
        local, at, domain = word.rpartition("@")
        try:
            words.append(f"{local}{at}{normalize_domain(domain)}" if not domain.isascii() else word)
        except InvalidAddress:
            words.append(word)
    ascii_forms = " ".join(words)
    return ascii_forms if ascii_forms != " ".join(search_term.split()) else ""


class SearchesDomainsAsStored:
    """Staff type a domain as people write it (例子.中国, bücher.de); blocks store it in
    A-labels, so the search looks for that form too."""

    def get_search_results(self, request, queryset, search_term):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if ascii_forms := _ascii_forms(search_term):
            also, more_duplicates = super().get_search_results(request, queryset, ascii_forms)
            found, duplicates = found | also, duplicates or more_duplicates
        return found, duplicates


def _actor(request) -> changes.Actor:
    return changes.Actor(request.user, f"staff:{request.user.get_username()}"[:100])


def _confirmed(request) -> bool:
    return request.POST.get("post") == "yes"


def _ask_first(modeladmin, request, *, title, question, consequences, addresses=(), more=0):
    """Django's delete_selected way for a decision that cannot be undone in one click: the
    action's first POST shows what it will do, and it runs when this page's form comes
    back with post=yes. The form resends the POST it was asked with (the ticked rows of
    one page, `select_across`, or the change page's button), and its URL keeps the list's
    filters, so "select all" over millions of blocks is never a hidden input per row."""
    return TemplateResponse(
        request,
        "admin/blocklist/confirm_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "question": question,
            "consequences": consequences,
            "addresses": addresses,
            "more": more,
            "resent": _resent(request),
            "opts": modeladmin.model._meta,
        },
    )


def _resent(request) -> list[tuple[str, str]]:
    """The action's POST, for the next page's form to send again with its answer."""
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", "index", "post")
        for value in values
    ]


def _too_many(n: int, verb: str, limit: int) -> str:
    if n <= limit:
        return ""
    return (
        f"Too many for one request: {n:,} blocks in force are selected, and one request "
        f"{verb} at most {limit:,}. Narrow the list (by date, account, reason or "
        "evidence) and repeat; nothing was changed."
    )


def _some_addresses(blocks: QuerySet[Block], total: int) -> dict:
    """A sample for the confirmation page, never the whole selection."""
    shown = list(blocks.values_list("address", flat=True)[:_SHOWN])
    return {"addresses": shown, "more": max(total - len(shown), 0)}


_SHOWN = 20

# What one request changes, well inside the web server's timeout (GUNICORN_TIMEOUT, 60 s):
# a release writes one history row per block, and 558,828 blocks took 27-30 s on a 2-core
# machine (bench/admin_release.py). A larger release or expiry goes in parts, one per "Yes";
# a larger extension or whitelisting is refused with a way forward.
RELEASE_LIMIT = 250_000

_SHOWN_REFUSED = 5
_REFUSED_WHITELISTS = {
    "triggered_by_you": "{account}'s own sending triggered them (remove them instead)",
    "already_whitelisted": "already whitelisted for {account}",
}

_WHAT_RELEASE_MEANS = {
    Block.Kind.INVALID: "system-wide, so every account can mail these addresses again.",
    Block.Kind.REJECT: "their accounts can mail these people again, though they unsubscribed "
    "or reported spam.",
    Block.Kind.CUSTOM: "their accounts' own rules stop holding these addresses.",
}


@admin.register(Block)
class BlockAdmin(SearchesDomainsAsStored, ChangedOnlyByActions, admin.ModelAdmin):
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

    def _ask_before_releasing(
        self,
        request,
        blocks: QuerySet[Block],
        *,
        title,
        question,
        if_none="Nothing will change: none of the selected blocks is in force.",
        done="",
    ):
        """The question page. A selection past RELEASE_LIMIT is done a part per "Yes"
        (see _a_part), and the page asks again for the rest; `done` says what the part
        before this question did."""
        in_force = blocks.filter(released_at=None)
        by_kind = dict(in_force.values_list("kind").annotate(n=Count("pk")).order_by())
        total = sum(by_kind.values())
        consequences = [
            f"{by_kind[kind]:,} {label.lower()} block(s): {_WHAT_RELEASE_MEANS[kind]}"
            for kind, label in Block.Kind.choices
            if by_kind.get(kind)
        ]
        consequences = (
            [*consequences, "Each release is written to the block's history."]
            if consequences
            else [if_none]
        )
        if total > RELEASE_LIMIT:
            consequences.append(
                f"One request takes at most {RELEASE_LIMIT:,}: "
                f'"Yes" does the first {RELEASE_LIMIT:,} (by id) and asks again for the rest.'
            )
        return _ask_first(
            self,
            request,
            title=title,
            question=(done + " " if done else "") + question.format(n=f"{total:,}"),
            consequences=consequences,
            **_some_addresses(in_force, total),
        )

    @staticmethod
    def _a_part(
        select: Callable[[], QuerySet[Block]], change: Callable[[QuerySet[Block]], int]
    ) -> tuple[int, int]:
        """Change the first RELEASE_LIMIT blocks of `select()` (by id): the whole selection
        when it fits. `select()` must no longer hold what a part changed, so asking it again
        finds the rest. Returns (changed, still to change)."""
        part = Block.objects.filter(pk__in=select().order_by("pk").values("pk")[:RELEASE_LIMIT])
        n = change(part)
        return n, select().count() if n == RELEASE_LIMIT else 0

    def _release_a_part(self, request, blocks: QuerySet[Block], note: str) -> tuple[int, int]:
        return self._a_part(
            lambda: blocks.filter(released_at=None),
            lambda part: actions.release_blocks(part, actor=_actor(request), note=note),
        )

    @admin.action(description="Remove selected blocks (kept in history)")
    def remove(self, request, queryset: QuerySet[Block]):
        ask = partial(
            self._ask_before_releasing,
            request,
            queryset,
            title="Remove blocks",
            question="Remove {n} block(s) in force?",
        )
        if not _confirmed(request):
            return ask()
        n, left = self._release_a_part(request, queryset, "Removed by staff.")
        if left:
            return ask(done=f"Removed {n:,} block(s); {left:,} remain in force.")
        self.message_user(request, f"Removed {n:,} block(s).")
        return None

    def _lift_by_evidence(self, request, queryset: QuerySet[Block], evidence: str):
        """Lift the selected invalid-address blocks that rest on `evidence` only; the others
        stay (filter the list by evidence first to lift all of one strength)."""
        chosen = queryset.filter(kind=Block.Kind.INVALID, bounce_evidence=evidence)
        label = BounceEvidence(evidence).label if evidence else "no recorded evidence"
        ask = partial(
            self._ask_before_releasing,
            request,
            chosen,
            title="Lift blocks by evidence",
            question=f"Lift {{n}} invalid-address block(s) resting on {label}? The other "
            "selected blocks stay.",
            if_none=f"Nothing will change: no selected block in force rests on {label}.",
        )
        if not _confirmed(request):
            return ask()
        n, left = self._release_a_part(
            request, chosen, f"Lifted by staff: evidence {evidence or 'none'}."
        )
        if left:
            return ask(done=f"Lifted {n:,} block(s); {left:,} remain in force.")
        self.message_user(request, f"Lifted {n:,} invalid-address block(s) resting on {label}.")
        return None

    @admin.action(description="Lift selected invalid-address blocks resting on wording only")
    def lift_wording(self, request, queryset: QuerySet[Block]):
        return self._lift_by_evidence(request, queryset, BounceEvidence.WORDING)

    @admin.action(description="Lift selected invalid-address blocks resting on a 5.1.x in text")
    def lift_text_5_1_x(self, request, queryset: QuerySet[Block]):
        return self._lift_by_evidence(request, queryset, BounceEvidence.TEXT_5_1_X)

    @admin.action(description="Lift selected invalid-address blocks with no recorded evidence")
    def lift_no_evidence(self, request, queryset: QuerySet[Block]):
        return self._lift_by_evidence(request, queryset, "")

    @admin.action(description="Expire selected blocks now")
    def expire_now(self, request, queryset: QuerySet[Block]):
        def not_expired() -> QuerySet[Block]:
            # Asked afresh for each part: what the last part expired is out of it.
            return queryset.filter(released_at=None).exclude(expires_at__lte=timezone.now())

        ask = partial(
            self._ask_before_releasing,
            request,
            title="Expire blocks now",
            question="Expire {n} block(s) in force now? They stop holding at once; the "
            "expiry job releases them on its next run.",
            if_none="Nothing will change: no selected block is in force and unexpired.",
        )
        if not _confirmed(request):
            return ask(not_expired())
        n, left = self._a_part(
            not_expired,
            lambda part: actions.set_expiry(
                part, timezone.now(), actor=_actor(request), note="Expired by staff."
            ),
        )
        if left:
            return ask(not_expired(), done=f"Expired {n:,} block(s); {left:,} remain to expire.")
        self.message_user(request, f"Expired {n:,} block(s).")
        return None

    @admin.action(description="Extend selected blocks by 30 days")
    def extend_30_days(self, request, queryset: QuerySet[Block]):
        # It only lengthens blocks, so it asks nothing. A part per request would take the
        # same blocks again (they stay in force), so past the limit it is refused.
        in_force = queryset.filter(released_at=None).exclude(expires_at=None)
        refused = _too_many(in_force.count(), "extends", RELEASE_LIMIT)
        if refused:
            self.message_user(request, refused, level="error")
            return None
        n = actions.extend_blocks(queryset, 30, actor=_actor(request))
        self.message_user(request, f"Extended {n} block(s) by 30 days.")

    def _say_refused(self, request, account: Account, refused: list[dict]) -> None:
        """One warning per kind of refusal, with a few addresses: a select-all may refuse
        thousands, and a message each would bury the page."""
        by_code: dict[str, list[str]] = {}
        for item in refused:
            by_code.setdefault(item["code"], []).append(item["address"])
        for code, addresses in by_code.items():
            shown = ", ".join(sorted(addresses)[:_SHOWN_REFUSED])
            more = len(addresses) - _SHOWN_REFUSED
            self.message_user(
                request,
                f"{len(addresses):,} block(s) not whitelisted: "
                f"{_REFUSED_WHITELISTS[code].format(account=account.name)}: {shown}"
                + (f" and {more:,} more." if more > 0 else "."),
                level="warning",
            )

    @admin.action(description="Whitelist selected invalid-address blocks for an account…")
    def whitelist(self, request, queryset: QuerySet[Block]):
        queryset = queryset.filter(kind=Block.Kind.INVALID, released_at=None)
        total = queryset.count()
        # whitelist_addresses takes at most MAX_BATCH addresses (and refuses more).
        refused = _too_many(total, "whitelists", actions.MAX_BATCH)
        name = request.POST.get("whitelist_account")
        if name:
            if refused:
                self.message_user(request, refused, level="error")
                return None
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
            self._say_refused(request, account, result.refused)
            return None
        return TemplateResponse(
            request,
            "admin/blocklist/whitelist.html",
            {
                **self.admin_site.each_context(request),
                "title": "Whitelist for an account",
                "total": total,
                "blocks": queryset.select_related("account")[:_SHOWN],
                "more": max(total - _SHOWN, 0),
                "refused": refused,
                "resent": _resent(request),
                "accounts": Account.objects.exclude(Q(pk__in=queryset.values("account"))).order_by(
                    "name"
                ),
                "opts": self.model._meta,
            },
        )


@admin.register(Whitelist)
class WhitelistAdmin(SearchesDomainsAsStored, ChangedOnlyByActions, admin.ModelAdmin):
    list_display = ["address", "account", "block", "created_at", "removed_at"]
    list_filter = [("removed_at", admin.EmptyFieldListFilter), "account"]
    list_select_related = ["account", "block"]
    search_fields = ["address", "account__name"]
    raw_id_fields = ["account", "block", "created_by"]

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

    def _ask_before_deciding(self, request, queryset, *, title, consequence):
        """One line per selected surge, counted on the rows the decision will act on."""
        lines = [
            consequence(surge, surges.decision_preview(surge))
            if not surge.decision
            else f"{surge.domain}: decided already ({surge.get_decision_display()}), left as it is."
            for surge in queryset.order_by("pk")
        ]
        return _ask_first(
            self,
            request,
            title=title,
            question=f"{title}? A decision is final.",
            consequences=lines,
        )

    # The staff mail links to a surge's page: its two decisions are buttons there too.
    change_form_template = "admin/blocklist/invalidsurge/change_form.html"

    def save_model(self, request, obj, form, change) -> None:
        pass  # every field is read-only; a save would write back a stale `held` count

    def response_change(self, request, obj: InvalidSurge):
        for action in ("block_held", "dismiss"):
            if f"_{action}" in request.POST:
                asked = getattr(self, action)(request, InvalidSurge.objects.filter(pk=obj.pk))
                return asked or redirect(request.path)
        return super().response_change(request, obj)

    @admin.action(description="Block the held addresses (they do not exist)")
    def block_held(self, request, queryset: QuerySet[InvalidSurge]):
        if not _confirmed(request):
            return self._ask_before_deciding(
                request,
                queryset,
                title="Block the held addresses",
                consequence=lambda surge, p: (
                    f"{surge.domain}: {p.verdicts} held verdict(s) for {p.addresses} "
                    f"address(es), from {p.accounts} account(s). {p.to_block} address(es) "
                    f"will be blocked for every account for {INVALID_BLOCK_DAYS} days; "
                    f"{p.addresses - p.to_block} are blocked already."
                ),
            )
        self._decide(
            request, queryset, surges.block_held, "Blocked {n} address(es) held at {domain}."
        )
        return None

    @admin.action(description="Dismiss: a fault at the receiver (lift the surge's blocks)")
    def dismiss(self, request, queryset: QuerySet[InvalidSurge]):
        if not _confirmed(request):
            return self._ask_before_deciding(
                request,
                queryset,
                title="Dismiss as a fault at the receiver",
                consequence=lambda surge, p: (
                    f"{surge.domain}: the {p.verdicts} held verdict(s) will never block, "
                    f"and {p.to_lift} block(s) made from its bounces since "
                    f"{surge.window_start:%Y-%m-%d %H:%M} UTC will be lifted for every account."
                ),
            )
        self._decide(
            request,
            queryset,
            surges.dismiss,
            "Dismissed the surge at {domain}; lifted {n} block(s).",
        )
        return None
