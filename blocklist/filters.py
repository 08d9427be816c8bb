"""The blocklist's FilterSets: one per list, shared by the console pages and the API."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.db.models import QuerySet

from sesconsole.lib.filters import SortFilter
from sesconsole.lib.form_errors import field_name
from sesconsole.lib.timezones import zone_of
from sesconsole.tenancy import current_account

from .models import Block, History
from .queries import normal_or_raw, within_days

DATE = forms.DateInput(attrs={"type": "date"})


class AddressFilter(django_filters.CharFilter):
    """Exact match on the normalised address (what the indexes serve)."""

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{self.field_name: normal_or_raw(value)})


class DaysForm(forms.Form):
    """`start`..`end`: the end may not come before the start."""

    use_labels = False  # a console page sets it: messages then name its labels

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error(
                "end", f"{field_name(self, 'end')} must not be before {field_name(self, 'start')}."
            )
        return data


class DaysFilterSet(django_filters.FilterSet):
    """`start`..`end` name whole days in the account's time zone, as on every other page."""

    time_field = ""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        data = self.form.cleaned_data
        account = current_account(self.request) if self.request is not None else None
        zone = zone_of(account) if account is not None else UTC
        queryset = within_days(queryset, self.time_field, data.get("start"), data.get("end"), zone)
        return super().filter_queryset(queryset)

    def filter_noop(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # applied with its pair in filter_queryset


class BlockFilter(DaysFilterSet):
    """What every block list filters on; the lists below add their own fields."""

    address = AddressFilter(label="Address")
    reason = django_filters.ChoiceFilter(choices=Block.Reason.choices, label="Reason")
    start = django_filters.DateFilter(method="filter_noop", label="Blocked from", widget=DATE)
    end = django_filters.DateFilter(method="filter_noop", label="Blocked until", widget=DATE)
    # The pages' column links; the API sorts with `ordering` (DRF), which comes last.
    sort = SortFilter(
        fields=(
            ("blocked_at", "blocked"),
            ("address", "address"),
            ("expires_at", "expires"),
            ("stopped_count", "stopped"),
        ),
        default="-blocked_at",
        label="Sort",
        widget=forms.HiddenInput,
    )
    default_sort = "-blocked"
    time_field = "blocked_at"

    class Meta:
        model = Block
        fields = ["address", "reason", "start", "end"]
        form = DaysForm

    @property
    def sort_in_force(self) -> str:
        """The sort the list is in, as the column links name it."""
        self.form.errors  # noqa: B018 - validates the form
        known = self.filters["sort"].param_map
        value = [v for v in self.form.cleaned_data.get("sort") or [] if v.lstrip("-") in known]
        return ",".join(value) or self.default_sort


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


class HistoryFilter(DaysFilterSet):
    address = AddressFilter(field_name="block__address", label="Address")
    kind = django_filters.ChoiceFilter(
        field_name="block__kind", choices=Block.Kind.choices, label="Kind"
    )
    action = django_filters.ChoiceFilter(choices=History.Action.choices, label="Action")
    start = django_filters.DateFilter(method="filter_noop", label="From", widget=DATE)
    end = django_filters.DateFilter(method="filter_noop", label="Until", widget=DATE)
    time_field = "at"

    class Meta:
        model = History
        fields = ["address", "kind", "action", "start", "end"]
        form = DaysForm
