"""Template helpers of the console pages."""

from __future__ import annotations

from django import forms

from sesconsole.templatetags.console_ui import breakable, searched_terms


class SearchForm(forms.Form):
    recipient = forms.CharField(label="Recipient address", required=False)
    status = forms.ChoiceField(
        choices=[("", "Any"), ("deferred", "Deferred")], required=False, label="Status"
    )
    kinds = forms.MultipleChoiceField(choices=[("a", "Alpha"), ("b", "Beta")], required=False)


def test_searched_terms_name_what_was_searched_in_the_pages_words():
    form = SearchForm(
        {"recipient": " nobody@example.com ", "status": "deferred", "kinds": ["a", "b"]}
    )
    assert searched_terms(form) == [
        ("Recipient address", "nobody@example.com"),
        ("Status", "Deferred"),
        ("Kinds", "Alpha, Beta"),
    ]


def test_searched_terms_leave_out_empty_fields_and_unbound_forms():
    assert searched_terms(SearchForm({"recipient": "", "status": ""})) == []
    assert searched_terms(SearchForm()) == []
    assert searched_terms(None) == []


def test_an_unknown_choice_is_shown_as_given():
    assert searched_terms(SearchForm({"status": "bogus"})) == [("Status", "bogus")]


def test_breakable_addresses_stay_escaped():
    assert breakable("ann@mail.example") == "ann@<wbr>mail<wbr>.example"
    assert breakable('<b>"x"@y') == "&lt;b&gt;&quot;x&quot;@<wbr>y"
    assert breakable("") == ""
