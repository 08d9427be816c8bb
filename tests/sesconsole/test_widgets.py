"""SuggestInput: a text input and its datalist, whatever the value and suggestions hold."""

from html.parser import HTMLParser

from django import forms
from hypothesis import given
from hypothesis import strategies as st

from sesconsole.lib.widgets import SuggestInput

# Text a page can carry (no NUL, no lone surrogates: forms and the database refuse both).
text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))


class Parsed(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.inputs, self.lists, self.options = [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        {"input": self.inputs, "datalist": self.lists, "option": self.options}.get(tag, []).append(
            attrs
        )


@given(value=text, suggestions=st.lists(text, max_size=5), url=st.sampled_from(["", "/d/?side=x"]))
def test_what_is_rendered_reads_back_as_given(value, suggestions, url):
    class Form(forms.Form):
        domain = forms.CharField(required=False, widget=SuggestInput)

    form = Form({"domain": value})
    form.fields["domain"].widget.suggestions = suggestions
    form.fields["domain"].widget.suggest_url = url
    page = Parsed(str(form["domain"]))

    (field,) = page.inputs
    (datalist,) = page.lists
    assert field["type"] == "text" and field["name"] == "domain"
    assert field.get("value", "") == form["domain"].value()
    assert field["list"] == datalist["id"] == "id_domain-suggestions"
    assert field.get("data-suggest") == (url or None)
    assert [o["value"] for o in page.options] == suggestions
