"""The blocklist's FilterSets: one per list, shared by the console pages and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet

from sesconsole.tenancy import current_account

from .models import Block, History
from .queries import normal_or_raw

DATE = forms.DateInput(attrs={"type": "date"})


class AddressFilter(django_filters.CharFilter):
    """Exact match on the normalised address (what the indexes serve)."""

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{self.field_name: normal_or_raw(value)})


class SortFilter(django_filters.OrderingFilter):
    """`?sort=key` or `?sort=-key`, the column links of the pages; ties go newest first.

    Without a sort (or with one it does not know, see SortedFilterSet) the default applies.
    """

    def __init__(self, *args, default: str, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(*args, **kwargs)
        self.default = default

    def keys(self) -> set[str]:
        return {key for key, _ in self.extra["choices"]}

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        ordering = [self.get_ordering_value(key) for key in value or [self.default]]
        return qs.order_by(*ordering, "-pk")


class SortedFilterSet(django_filters.FilterSet):
    """A FilterSet whose sort ignores unknown values (the default order applies, never a 400)."""

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            for name, f in self.base_filters.items():
                if isinstance(f, SortFilter) and name in data:
                    keys = f.keys()
                    if not all(part.strip() in keys for part in data.get(name, "").split(",")):
                        data = data.copy()
                        data.pop(name)
        super().__init__(data, *args, **kwargs)

    @property
    def sort(self) -> str:
        """The sort in force, as the column links name it."""
        self.form.errors  # noqa: B018 - validates the form
        value = self.form.cleaned_data.get("sort")
        return ",".join(value or [self.filters["sort"].default])


class BlockFilter(SortedFilterSet):
    """What every block list filters on; the lists below add their own fields."""

    address = AddressFilter(label="Address")
    reason = django_filters.ChoiceFilter(choices=Block.Reason.choices, label="Reason")
    start = django_filters.DateFilter(
        field_name="blocked_at", lookup_expr="date__gte", label="Blocked from", widget=DATE
    )
    end = django_filters.DateFilter(
        field_name="blocked_at", lookup_expr="date__lte", label="Blocked until", widget=DATE
    )
    sort = SortFilter(
        fields=(
            ("blocked_at", "blocked"),
            ("address", "address"),
            ("expires_at", "expires"),
            ("stopped_count", "stopped"),
        ),
        default="-blocked",
        label="Sort",
    )

    class Meta:
        model = Block
        fields = ["address", "reason", "start", "end"]


class InvalidBlockFilter(BlockFilter):
    triggered = django_filters.ChoiceFilter(
        choices=[("me", "By my sending"), ("others", "By other accounts")],
        method="filter_triggered",
        label="Triggered",
    )

    class Meta(BlockFilter.Meta):
        fields = ["address", "triggered", "start", "end"]

    def filter_triggered(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        account = current_account(self.request) if self.request else None
        if account is None:
            return qs
        return qs.filter(account=account) if value == "me" else qs.exclude(account=account)


class RejectBlockFilter(BlockFilter):
    """The reject list's page offers only the reasons a reject block can have."""

    reason = django_filters.ChoiceFilter(
        choices=[
            (Block.Reason.UNSUBSCRIBED, Block.Reason.UNSUBSCRIBED.label),
            (Block.Reason.COMPLAINED, Block.Reason.COMPLAINED.label),
        ],
        empty_label="Any",
        label="Reason",
    )


class CustomBlockFilter(BlockFilter):
    status = django_filters.ChoiceFilter(
        choices=[("active", "Active"), ("expired", "Expired")],
        method="filter_status",
        label="Status",
    )

    class Meta(BlockFilter.Meta):
        fields = ["address", "status", "reason", "start", "end"]

    def filter_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.active() if value == "active" else qs.expired()


class HistoryFilter(django_filters.FilterSet):
    address = AddressFilter(field_name="block__address", label="Address")
    kind = django_filters.ChoiceFilter(
        field_name="block__kind", choices=Block.Kind.choices, label="Kind"
    )
    action = django_filters.ChoiceFilter(choices=History.Action.choices, label="Action")
    start = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label="From", widget=DATE
    )
    end = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label="Until", widget=DATE
    )

    class Meta:
        model = History
        fields = ["address", "kind", "action", "start", "end"]
