"""Filters the console pages add to the blocklist's API filters."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from .api import InvalidBlockFilter


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
