"""LongSelect writes exactly what Django's Select writes, only faster."""

import pytest
from django import forms

from sesconsole.lib.widgets import LongSelect

CHOICES = [("", "All"), ("a<b.com", "a<b.com"), ("gmail.com", "gmail.com"), ("x&y", 'x"y')]


@pytest.mark.parametrize("value", [None, "", "gmail.com", "a<b.com", "not-a-choice"])
@pytest.mark.parametrize("required", [False, True])
def test_long_select_renders_as_select(value, required):
    def form(widget):
        class Form(forms.Form):
            domain = forms.ChoiceField(choices=CHOICES, required=required, widget=widget)

        return Form({} if value is None else {"domain": value})

    assert str(form(LongSelect)["domain"]) == str(form(forms.Select)["domain"])
