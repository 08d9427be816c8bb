"""Template helpers shared by the console pages."""

from __future__ import annotations

from django import forms, template

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
