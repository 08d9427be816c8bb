"""Filter pieces every app's FilterSets share."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.filters import OrderingFilter


# Any text: unknown keys are ignored (the default order applies), so no value is invalid.
@extend_schema_field({"type": "string"})
class SortFilter(django_filters.OrderingFilter):
    """`?sort=name` / `?sort=-name` over the declared fields, with a default and a tie-breaker.

    An unknown value is ignored (the default order applies) rather than failing the page,
    and the primary key breaks ties so pagination never repeats or skips a row.
    """

    def __init__(
        self,
        *args,
        default: str,
        tie_breaker: str = "-pk",
        then: dict[str, tuple[str, ...]] | None = None,
        **kwargs,
    ):
        self.default = default
        self.tie_breaker = tie_breaker
        # Per sort key, the orders that follow it within equal values (e.g. status, then
        # newest first). Sorting by such a key descending reverses them and the tie-breaker
        # too: the list read backwards, which an index over (key, then…) serves either way.
        self.then = then or {}
        super().__init__(*args, **kwargs)

    def get_ordering_value(self, param: str) -> str:
        descending = param.startswith("-")
        name = self.param_map[param.lstrip("-")]
        return f"-{name}" if descending else name

    def filter(self, qs, value):
        known = [v for v in value or [] if v.lstrip("-") in self.param_map]
        ordering = [self.get_ordering_value(v) for v in known] or [self.default]
        return qs.order_by(*with_tie_breaker(ordering, self.then, self.tie_breaker))

    @property
    def field(self):
        # Accept any value: unknown ones fall back to the default in filter().
        field = super().field
        field.validators = []
        field.clean = _sort_values
        return field


def with_tie_breaker(
    ordering: list[str], then: dict[str, tuple[str, ...]], tie_breaker: str
) -> list[str]:
    """`ordering` completed so that no two rows compare equal: a single key takes its own
    secondary order from `then`, and the tie-breaker ends the list; both reversed when the
    key is descending (the list read backwards, which an index over them serves too)."""
    follow = then.get(ordering[0].lstrip("-")) if len(ordering) == 1 else None
    if not follow:
        return [*ordering, tie_breaker]
    rest = [*follow, tie_breaker]
    if ordering[0].startswith("-"):
        rest = [_reversed(name) for name in rest]
    return [ordering[0], *rest]


def _reversed(name: str) -> str:
    return name[1:] if name.startswith("-") else f"-{name}"


def _sort_values(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [v.strip() for v in value or [] if v and v.strip()]


class StableOrdering(OrderingFilter):
    """DRF's `?ordering=`, with what SortFilter adds: the primary key breaks ties (so pages
    never repeat or skip a row), and a view's `ordering_then` gives a key its own secondary
    order, reversed with the key (see SortFilter's `then`)."""

    def filter_queryset(self, request, queryset, view):
        # `?sort=` is the FilterSet's (SortFilter, as on the console's pages), applied before
        # this backend: the view's default order must not replace it.
        if "sort" in request.query_params and self.ordering_param not in request.query_params:
            filterset_class = getattr(view, "filterset_class", None)
            if filterset_class is not None and "sort" in filterset_class.base_filters:
                return queryset
        return super().filter_queryset(request, queryset, view)

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        ordering = super().get_ordering(request, queryset, view)
        if not params or not ordering or ordering == self.get_default_ordering(view):
            return ordering  # the view's default order, as declared
        if any(name.lstrip("-") in ("pk", "id") for name in ordering):
            return ordering
        return with_tie_breaker(ordering, getattr(view, "ordering_then", {}), "-pk")
