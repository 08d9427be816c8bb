"""Template helpers shared by the console pages."""

from __future__ import annotations

from django import forms, template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from ..lib.idn import display_address, display_domain

register = template.Library()


@register.filter
def searched_terms(form: forms.Form | None) -> list[tuple[str, str]]:
    """The filters a bound form was submitted with, as (label, shown value) pairs.

    Empty fields are left out; a choice shows its label rather than its code, so an empty
    result can say in the page's own words what was searched.
    """
    if form is None or not getattr(form, "is_bound", False):
        return []
    terms = []
    for bound in form:
        value = bound.value()
        values = value if isinstance(value, (list, tuple)) else [value]
        values = [str(v).strip() for v in values if v not in (None, "") and str(v).strip()]
        if not values:
            continue
        choices = getattr(bound.field, "choices", None)
        if choices is not None:
            labels = {str(k): str(v) for k, v in choices if not isinstance(v, (list, tuple))}
            values = [labels.get(v, v) for v in values]
        terms.append((str(bound.label), ", ".join(values)))
    return terms


@register.filter
def as_written(address: str) -> str:
    """An address or domain with an internationalised domain in U-labels (例子.中国), as
    people write it; stored, it is in A-labels (xn--…)."""
    return display_address(address) if address and "@" in address else display_domain(address or "")


@register.filter
def breakable(address: str) -> str:
    """An address that may wrap after '@' and before each '.', never inside a name part."""
    # Escaped first; the entities escaping makes contain neither '@' nor '.'.
    text = conditional_escape(address or "")
    return mark_safe(text.replace("@", "@<wbr>").replace(".", "<wbr>."))


@register.filter
def all_zero(items: list[dict]) -> bool:
    """Whether every figure (the 'value' of each item, e.g. the queue page's tiles) is 0."""
    return all(not item.get("value") for item in items)
