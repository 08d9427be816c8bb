"""Filters the console pages add to the blocklist's API filters."""

from __future__ import annotations

from typing import TypeVar

import django_filters
from django.db.models import QuerySet
from django.http import HttpRequest

from .filters import BlockFilter, CustomBlockFilter, InvalidBlockFilter, RejectBlockFilter
from .models import Block


class InvalidBlockPageFilter(InvalidBlockFilter):
    """The invalid-address page also filters by the account's own whitelist.

    The queryset must carry the `whitelisted` annotation (see invalid_blocks_visible_to).
    """

    whitelisted = django_filters.ChoiceFilter(
        choices=[("yes", "Whitelisted by me"), ("no", "Not whitelisted")],
        method="filter_whitelisted",
        label="Whitelist",
    )

    class Meta(InvalidBlockFilter.Meta):
        fields = [*InvalidBlockFilter.Meta.fields, "whitelisted"]

    def filter_whitelisted(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(whitelisted=value == "yes")


# The reasons each list can hold: its reason filter offers only these.
CUSTOM_REASONS = (Block.Reason.MANUAL, Block.Reason.UPLOAD, Block.Reason.MAILBOX_FULL)
INVALID_REASONS = ()  # every block on the invalid-address lists is one: nothing to choose


def limit_reasons(found: django_filters.FilterSet, reasons: tuple) -> None:
    """Offer only `reasons` in the filter form; with none, drop the reason filter."""
    if not reasons:
        found.form.fields.pop("reason", None)
        return
    # The field adds its empty choice ("Any", FILTERS_EMPTY_CHOICE_LABEL) itself.
    found.form.fields["reason"].choices = [(r.value, r.label) for r in reasons]


F = TypeVar("F", bound=django_filters.FilterSet)


def page_filter(
    filter_class: type[F],
    request: HttpRequest,
    queryset: QuerySet,
    reasons: tuple | None = None,
) -> F:
    """A list's filter as its page reads it: its messages name the page's labels, and with
    `reasons` its reason filter offers only those (limit_reasons).

    Both are set here, before anything validates the form (`sort_in_force` does), since
    the form checks and words its errors once, when first validated.
    """
    found = filter_class(request.GET, queryset=queryset, request=request)
    found.form.use_labels = True
    if reasons is not None:
        limit_reasons(found, reasons)
    return found


# The lists that download as CSV: the page and its export read the filter alike.


def trigger_filter(request: HttpRequest, queryset: QuerySet) -> BlockFilter:
    return page_filter(BlockFilter, request, queryset, INVALID_REASONS)


def reject_filter(request: HttpRequest, queryset: QuerySet) -> RejectBlockFilter:
    return page_filter(RejectBlockFilter, request, queryset)


def custom_filter(request: HttpRequest, queryset: QuerySet) -> CustomBlockFilter:
    return page_filter(CustomBlockFilter, request, queryset, CUSTOM_REASONS)
