"""Filter pieces every app's FilterSets share."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema_field


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
        then = self.then.get(ordering[0].lstrip("-")) if len(ordering) == 1 else None
        if then:
            (first,) = ordering
            rest = [*then, self.tie_breaker]
            if first.startswith("-"):
                rest = [_reversed(name) for name in rest]
            return qs.order_by(first, *rest)
        return qs.order_by(*ordering, self.tie_breaker)

    @property
    def field(self):
        # Accept any value: unknown ones fall back to the default in filter().
        field = super().field
        field.validators = []
        field.clean = _sort_values
        return field


def _reversed(name: str) -> str:
    return name[1:] if name.startswith("-") else f"-{name}"


def _sort_values(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [v.strip() for v in value or [] if v and v.strip()]
