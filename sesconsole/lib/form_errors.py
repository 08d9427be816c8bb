"""Form errors as the console pages show them: one message per problem.

A field's own errors appear next to the field (the templates render `field.errors`), so the
summary above a page's results holds only what no visible field shows: errors of the form as
a whole and of fields the page does not render, each named by its label.
"""

from __future__ import annotations

from django import forms
from django.forms.forms import NON_FIELD_ERRORS


def unique_errors(form: forms.Form) -> list[str]:
    """Every error once, a field's named by its label (for JSON answers and logs)."""
    seen: dict[str, None] = {}
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field.label if field is not None and field.label else name
        for error in errors:
            text = error if name == NON_FIELD_ERRORS else f"{label}: {error}"
            seen.setdefault(text, None)
    return list(seen)


def summary_errors(form: forms.Form) -> list[str]:
    """The errors no visible field shows next to itself, each once."""
    visible = {bound.name for bound in form.visible_fields()}
    seen: dict[str, None] = {}
    for name, errors in form.errors.items():
        if name in visible:
            continue
        field = form.fields.get(name)
        label = field.label if field is not None and field.label else None
        for error in errors:
            text = error if name == NON_FIELD_ERRORS or not label else f"{label}: {error}"
            seen.setdefault(text, None)
    return list(seen)


def field_name(form: forms.Form, name: str) -> str:
    """How a message names a field: its label on a page, its parameter name elsewhere."""
    if getattr(form, "use_labels", False):
        field = form.fields.get(name)
        if field is not None and field.label:
            return f"“{field.label}”"
    return f"'{name}'"
