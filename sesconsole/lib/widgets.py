"""Form widgets.

`SuggestInput` is a text input with a `<datalist>` of suggestions: a filter over the
domains of an account that sends to thousands of them. A `<select>` of 5,000 domains was
180 KB of a 330 KB page, took ~20 ms a request to read and render, and could only be
scrolled; a person types the first letters instead. When the page holds only the first
suggestions, `static/console/console.js` asks for those that start with what is typed.
"""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class SuggestInput(forms.TextInput):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.suggestions: list[str] = []
        self.suggest_url = ""  # set when `suggestions` is only the start of the list

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or name}-suggestions"
        attrs["list"] = list_id
        if self.suggest_url:
            attrs["data-suggest"] = self.suggest_url
        return format_html(
            '{}<datalist id="{}">{}</datalist>',
            super().render(name, value, attrs, renderer),
            list_id,
            format_html_join("", '<option value="{}">', ((s,) for s in self.suggestions)),
        )
